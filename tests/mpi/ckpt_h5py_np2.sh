#!/bin/sh
# A checkpoint written by 2 ranks, read without stdbp: h5py finds the
# layout of docs/FORMAT.md, and the digest recipe printed there (run as
# written) reproduces the stored digest. Skips without python3-h5py.
set -u
py=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import h5py, numpy' >/dev/null 2>&1; then py=$p; break; fi
done
if [ -z "$py" ]; then echo "1..0 # SKIP python3 with h5py not found"; exit 0; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-h5py-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
if ! "$top_srcdir/tests/mpirun.sh" 2 "$top_builddir/tests/mpi/test_ckpt_mpi" "$dir/run" >"$dir/log" 2>&1; then
    echo "1..1"; echo "not ok 1 - write the example checkpoint on 2 ranks"
    sed 's/^/# /' "$dir/log"; exit 1
fi
# The recipe: the first python block after the marker in docs/FORMAT.md.
awk '/<!-- digest-recipe -->/ {m = 1; next}
     m && /^```python/ {p = 1; next}
     p && /^```/ {exit}
     p {print}' "$top_srcdir/docs/FORMAT.md" >"$dir/recipe.py"
"$py" - "$dir"/run/checkpoints/ckpt-*.h5 "$dir/recipe.py" <<'EOF'
import sys
import h5py

n = 0
def ok(cond, name):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))

print("1..10")
path, recipe = sys.argv[1], sys.argv[2]
exec(open(recipe).read())
with h5py.File(path, "r") as f:
    ok(f.attrs["format"] == b"stdbp-checkpoint", "format attribute")
    ok(int(f.attrs["format_version"]) == 1, "format_version 1")
    ok(int(f.attrs["writer_ranks"]) == 2, "written by 2 ranks")
    shapes = {k: f["weights"][k].shape for k in f["weights"]}
    ok(shapes == {"layer00_conv2d": (2, 3, 3, 4), "layer03_dense": (100, 12),
                  "layer04_dense": (12, 10)}, "weights have their natural shapes %s" % shapes)
    ok(f["model/layer03"].attrs["describe"] == b"dense 100x12", "model describes the layers")
    n_w = sum(w.size for w in (f["weights"][k] for k in f["weights"]))
    ok(f["optimizer"].attrs["kind"] == b"adam" and f["optimizer/state"].shape == (2 * n_w,),
       "optimizer: adam, m and v flat")
    ok(int(f["train"].attrs["step"]) == 42 and f["train/rng"].shape == (4,), "train state")
    t = f["train"].attrs
    types = [t[k].dtype.str for k in ("epoch_loss", "epoch_correct", "epoch_samples",
                                      "wall_seconds")]
    ok(types == ["<i8", "<i8", "<i8", "<f8"] and int(t["epoch_loss"]) == -(3 << 40) - 5
       and int(t["epoch_samples"]) == 20 and float(t["wall_seconds"]) == 12.5 + 42 / 1024,
       "progress attributes: int64 epoch_loss, epoch_correct, epoch_samples, float64 "
       "wall_seconds %s" % types)
    ok(f["config"][0].decode() == "run: {name: mpi, seed: 7}\n", "config text")
    ok(stdbp_digest(f) == f.attrs["digest"].decode(),
       "the digest recipe of docs/FORMAT.md reproduces the stored digest")
EOF
