#!/bin/sh
# NIR that other tools run: trains a tiny MLP and a tiny CNN (conv, pool,
# flatten, dense), exports each in both profiles, and
# - runs the graphs in tests/tools/nir_sim.py, a clock-driven simulator
#   written from NIR's node equations (plain IF semantics, no metadata),
#   comparing its classes with stdbp_eval --classes (exact: every image;
#   portable: the agreement is printed and must be high);
# - imports the exports back (stdbp_import) and checks bitwise-equal
#   weights and the same stdbp_eval result;
# - loads the files with the reader recipe of docs/NIR.md when the nir
#   Python package is importable.
. "$top_srcdir/tests/tap/tap.sh"
plan 18
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
sim=$top_srcdir/tests/tools/nir_sim.py
mpirun1() { "$top_srcdir/tests/mpirun.sh" 1 "$@"; }

synthetic_data "$tmp" 60
cat > "$tmp/mlp.yaml" <<YAML
run: {name: mlp, seed: 5}
data: {train: "hdf5:$tmp/train.h5", test: "hdf5:$tmp/test.h5", val_samples: 20}
network:
  layers:
    - {type: dense, out: 24}
    - {type: dense, out: 4}
optimizer: {kind: adam, lr: 0.003}
train: {epochs: 2, batch: 25}
spikes: {samples: 0}
checkpoint: {keep: 1}
deploy: {enabled: false}
YAML
sed -e 's/name: mlp/name: cnn/' -e '/- {type: dense, out: 24}/c\
    - {type: conv2d, out: 4, kernel: 3, padding: 1}\
    - {type: pool, kernel: 2}\
    - {type: flatten}\
    - {type: dense, out: 16}' "$tmp/mlp.yaml" > "$tmp/cnn.yaml"
for n in mlp cnn; do
  mpirun1 "$bin/stdbp_train" "$tmp/$n.yaml" --quiet --no-deploy --set run.dir="$tmp/$n" \
    > "$tmp/$n.train" 2>&1 || sed 's/^/# /' "$tmp/$n.train" >&2
done
mlp_ckpt=$(ls "$tmp"/mlp/checkpoints/ckpt-*.h5 2>/dev/null | tail -n 1)
cnn_ckpt=$(ls "$tmp"/cnn/checkpoints/ckpt-*.h5 2>/dev/null | tail -n 1)
ok=0
for n in mlp cnn; do
  for p in exact portable; do
    "$bin/stdbp_export" "$tmp/$n" --nir "$tmp/$n.$p.nir" --nir-profile $p > "$tmp/x.$n.$p" 2>&1 ||
      { ok=1; sed 's/^/# /' "$tmp/x.$n.$p" >&2; }
  done
  mpirun1 "$bin/stdbp_eval" "$(ls "$tmp"/$n/checkpoints/ckpt-*.h5 | tail -n 1)" \
    --classes "$tmp/$n.classes" > "$tmp/$n.eval" 2>&1 || { ok=1; sed 's/^/# /' "$tmp/$n.eval" >&2; }
done
[ -n "$mlp_ckpt" ] && [ -n "$cnn_ckpt" ] && [ $ok -eq 0 ]
ok $? "tiny MLP and CNN trained; exported in both profiles; stdbp_eval --classes written"

n_lines=$(grep -vc '^#' "$tmp/mlp.classes")
[ "$n_lines" -eq 60 ] && awk '!/^#/ && (NF != 3 || $3 < -1 || $3 > 3) {bad = 1} END {exit bad}' \
  "$tmp/mlp.classes"
ok $? "stdbp_eval --classes: one 'index label class' line per test image ($n_lines)"

"$bin/stdbp_export" "$mlp_ckpt" --nir "$tmp/bad.nir" --nir-profile fast > "$tmp/e1" 2>&1; s=$?
[ $s -eq 2 ] && grep -q "exact or portable" "$tmp/e1" && [ ! -e "$tmp/bad.nir" ]
ok $? "--nir-profile fast: usage error naming the choices, exit 2 ($s)"

py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import h5py, numpy' >/dev/null 2>&1; then py=$p; break; fi
done

# 4-7: the NIR-equation simulator against stdbp's classes.
for n in mlp cnn; do
  for p in exact portable; do
    if [ -z "$py" ]; then
      echo "ok $((tap_n += 1)) # SKIP python3 with h5py and numpy not found"
      continue
    fi
    want=100; [ $p = portable ] && want=95
    "$py" "$sim" "$tmp/$n.$p.nir" --data "hdf5:$tmp/test.h5" --compare "$tmp/$n.classes" \
      --min-agreement $want --fire-once > "$tmp/sim.$n.$p" 2>&1
    r=$?
    ok $r "$n, $p: NIR simulation (plain node equations, dt = 1/1020): no neuron fires twice; agrees with stdbp on >= $want%: $(sed -n 's/.*agreement with stdbp: //p' "$tmp/sim.$n.$p")"
    sed 's/^/#   /' "$tmp/sim.$n.$p" >&2
  done
done

# 8: with NIR's default reset (v_reset = 0) neurons fire again (the CNN's
# pooling gates at each later spike of their window): the simulator sees
# it, so the checks above would catch a graph without fire-once.
if [ -n "$py" ]; then
  "$py" "$sim" "$tmp/cnn.exact.nir" --data "hdf5:$tmp/test.h5" --compare "$tmp/cnn.classes" \
    --v-reset-zero --fire-once > "$tmp/sim.reset0" 2>&1
  [ $? -eq 1 ] && grep -q "more than once" "$tmp/sim.reset0"
  ok $? "cnn, exact, v_reset forced to 0: neurons fire again ($(sed -n 's/.*fired, //p' "$tmp/sim.reset0" | head -c 30)); $(sed -n 's/.*agreement with stdbp: //p' "$tmp/sim.reset0" | head -c 40)"
else
  echo "ok $((tap_n += 1)) # SKIP python3 with h5py and numpy not found"
fi

# 9-14: stdbp_import.
"$bin/stdbp_import" --help > "$tmp/help" 2>&1 && grep -q -- "--run-dir DIR" "$tmp/help" &&
  grep -q "docs/NIR.md" "$tmp/help"
ok $? "stdbp_import --help documents --run-dir and points to docs/NIR.md"
"$bin/stdbp_import" "$tmp/mlp.exact.nir" > "$tmp/e2" 2>&1; s=$?
[ $s -eq 2 ] && grep -q "run-dir" "$tmp/e2"
ok $? "stdbp_import without --run-dir: usage error, exit 2 ($s)"

acc() { sed -n 's/.*: test accuracy/test accuracy/p' "$1"; }
for n in mlp cnn; do
  for p in exact portable; do
    mpirun1 "$bin/stdbp_import" "$tmp/$n.$p.nir" --run-dir "$tmp/imp.$n.$p" > "$tmp/i.$n.$p" 2>&1 &&
      mpirun1 "$bin/stdbp_eval" "$(ls "$tmp"/imp.$n.$p/checkpoints/ckpt-*.h5)" \
        > "$tmp/eval.$n.$p" 2>&1
    r=$?
    [ $r -eq 0 ] && [ -n "$(acc "$tmp/$n.eval")" ] && [ "$(acc "$tmp/$n.eval")" = "$(acc "$tmp/eval.$n.$p")" ]
    ok $? "$n, $p: export -> stdbp_import -> stdbp_eval gives the original's result ($(acc "$tmp/eval.$n.$p"))"
    [ $r -eq 0 ] || sed 's/^/# /' "$tmp/i.$n.$p" "$tmp/eval.$n.$p" >&2
  done
done

# 15: weights bitwise: the imported checkpoint holds the graph's float32
# weights (= the original's, rounded to float32) and exporting it again
# gives the same graph.
for n in mlp cnn; do
  "$bin/stdbp_export" "$tmp/imp.$n.exact" --nir "$tmp/$n.again.nir" -q > /dev/null 2>&1
done
if [ -n "$py" ]; then
  "$py" - "$tmp" > "$tmp/bits.out" 2>&1 <<'PY'
import glob, sys
import h5py
import numpy as np
tmp = sys.argv[1]
bad = 0
for n in ("mlp", "cnn"):
    orig = glob.glob("%s/%s/checkpoints/ckpt-*.h5" % (tmp, n))[-1]
    imp = glob.glob("%s/imp.%s.exact/checkpoints/ckpt-*.h5" % (tmp, n))[-1]
    with h5py.File(orig, "r") as a, h5py.File(imp, "r") as b:
        for k in a["weights"]:
            wa = a["weights"][k][...].astype(np.float32).astype(np.float64)
            wb = b["weights"][k][...]
            if wa.tobytes() != wb.tobytes():
                bad += 1
                print("%s %s: imported weights differ" % (n, k))
    with h5py.File("%s/%s.exact.nir" % (tmp, n), "r") as a, \
            h5py.File("%s/%s.again.nir" % (tmp, n), "r") as b:
        for name in a["node/nodes"]:
            for k, v in a["node/nodes"][name].items():
                x, y = v[()], b["node/nodes"][name][k][()]
                if np.asarray(x).tobytes() != np.asarray(y).tobytes():
                    bad += 1
                    print("%s %s/%s: re-export differs" % (n, name, k))
    print("%s: weights bitwise equal" % n)
sys.exit(1 if bad else 0)
PY
  r=$?; ok $r "imported weights = the original's rounded to float32, bitwise; re-export = the same graph"
  sed 's/^/#   /' "$tmp/bits.out" >&2
else
  echo "ok $((tap_n += 1)) # SKIP python3 with h5py and numpy not found"
fi

# 16: a graph without stdbp's metadata (as another tool might write it):
# theta from v_threshold, the defaults plus --set for the rest.
if [ -n "$py" ]; then
  cp "$tmp/cnn.portable.nir" "$tmp/foreign.nir"
  "$py" -c 'import sys, h5py; f = h5py.File(sys.argv[1], "a"); del f["node/metadata"]' \
    "$tmp/foreign.nir" &&
    mpirun1 "$bin/stdbp_import" "$tmp/foreign.nir" --run-dir "$tmp/imp.foreign" \
      --set data.test="hdf5:$tmp/test.h5" --set data.train="hdf5:$tmp/train.h5" \
      > "$tmp/i.foreign" 2>&1 &&
    mpirun1 "$bin/stdbp_eval" "$tmp/imp.foreign/checkpoints/ckpt-0000000000.h5" \
      > "$tmp/eval.foreign" 2>&1 && grep -q "theta 1)" "$tmp/i.foreign"
  r=$?
  [ $r -eq 0 ] && [ "$(acc "$tmp/cnn.eval")" = "$(acc "$tmp/eval.foreign")" ]
  ok $? "a graph without metadata imports (theta 1 from v_threshold 0.99999994), same result"
  [ $r -eq 0 ] || sed 's/^/# /' "$tmp/i.foreign" "$tmp/eval.foreign" >&2
else
  echo "ok $((tap_n += 1)) # SKIP python3 with h5py and numpy not found"
fi

# 17: what stdbp cannot be: an error naming the node, no checkpoint.
if [ -n "$py" ]; then
  cp "$tmp/cnn.exact.nir" "$tmp/bias.nir"
  "$py" -c 'import sys, h5py; f = h5py.File(sys.argv[1], "a"); f["node/nodes/layer00_conv2d/bias"][0] = 1' \
    "$tmp/bias.nir"
  "$bin/stdbp_import" "$tmp/bias.nir" --run-dir "$tmp/imp.bias" > "$tmp/e3" 2>&1; s=$?
  [ $s -eq 1 ] && grep -q "layer00_conv2d: non-zero bias" "$tmp/e3" && [ ! -e "$tmp/imp.bias" ]
  ok $? "a non-zero bias: exit 1, the node named, nothing written ($(head -c 120 "$tmp/e3"))"
else
  echo "ok $((tap_n += 1)) # SKIP python3 with h5py and numpy not found"
fi

# 18: the reader recipe of docs/NIR.md, where the nir package imports.
awk '/<!-- nir-read -->/ {m = 1; next}
     m && /^```python/ {p = 1; next}
     p && /^```/ {exit}
     p {print}' "$top_srcdir/docs/NIR.md" > "$tmp/read.py"
if [ -n "$py" ] && "$py" -c 'import nir' > /dev/null 2>&1; then
  "$py" - "$tmp" "$tmp/read.py" > "$tmp/read.out" 2>&1 <<'PY'
import sys
tmp, recipe = sys.argv[1], sys.argv[2]
exec(open(recipe).read())
for n in ("mlp", "cnn"):
    for p in ("exact", "portable"):
        g = read_stdbp_nir("%s/%s.%s.nir" % (tmp, n, p))
        print(n, p, sorted(type(v).__name__ for v in g.nodes.values()))
PY
  r=$?; ok $r "docs/NIR.md's reader recipe loads every file with the installed nir package"
  sed 's/^/#   /' "$tmp/read.out" >&2
else
  [ -s "$tmp/read.py" ]
  ok $? "docs/NIR.md has the reader recipe (# nir package not importable: not run)"
fi
tap_done
