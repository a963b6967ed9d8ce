#!/bin/sh
# The outputs of an older stdbp still work: tests/integration/fixtures/
# old-run was written by stdbp 0.1.0 before epochs were numbered from 1
# in the outputs and before the datasets had units and descriptions (its
# metrics.csv counts from 0 and lacks the diagnostics columns). Resuming
# it with this build continues bitwise as a fresh run of this build does
# (weights, optimiser state, spike log), renumbers its metrics.csv from 1
# and adds the new columns; metrics.h5 becomes format version 2 (epoch and
# step int64, units and description on every column); the old spike log
# gets the new moment; the sweep summary counts epochs from 1 for both
# kinds of metrics.csv.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
data_dir=${STDBP_DATA:-$top_srcdir/data}
[ -e "$data_dir/mnist/train-images-idx3-ubyte" ] || [ -e "$data_dir/mnist/train-images-idx3-ubyte.gz" ] ||
  skip_all "MNIST not in $data_dir (scripts/fetch-data.sh)"
plan 9
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
fix=$top_srcdir/tests/integration/fixtures
cfg=$fix/old_run.yaml
train() { # RUN_DIR ARGS...
  _d=$1; shift
  "$top_srcdir/tests/mpirun.sh" 1 "$bin/stdbp_train" "$cfg" --no-deploy --quiet \
    --set data.dir="$data_dir" --set run.dir="$_d" "$@"
}

cp -R "$fix/old-run" "$tmp/old" && chmod -R u+w "$tmp/old"
train "$tmp/old" --resume auto > "$tmp/old.out" 2>&1
r=$?; ok $r "resuming the older run's checkpoint (epoch 1 of 2 done) finishes the run"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/old.out" >&2
train "$tmp/new" > "$tmp/new.out" 2>&1 || sed 's/^/# /' "$tmp/new.out" >&2

# The same weights and optimiser state as a fresh run of this build.
a=$(ls "$tmp/old"/checkpoints/ckpt-*.h5 | tail -n 1); b=$(ls "$tmp/new"/checkpoints/ckpt-*.h5 | tail -n 1)
[ "$(basename "$a")" = ckpt-0000000002.h5 ] && [ "$(basename "$b")" = ckpt-0000000002.h5 ] &&
  h5diff -q "$a" "$b" /weights /weights && h5diff -q "$a" "$b" /optimizer /optimizer
ok $? "its final checkpoint holds the weights and optimiser state of an uninterrupted run"

# metrics.csv: renumbered from 1, the new columns (nan in the older row),
# then this build's row 2, equal to the fresh run's but the timings.
head -n 1 "$tmp/old/metrics.csv" | grep -q '^epoch,step,lr,.*,wall_seconds,silent_outputs,silent_hidden,first_spike_mean,first_spike_std,syn_events_per_sample$' &&
  [ "$(cut -d, -f1 "$tmp/old/metrics.csv" | tr '\n' ' ')" = "epoch 1 2 " ] &&
  [ "$(sed -n 2p "$tmp/old/metrics.csv" | cut -d, -f13-)" = "nan,nan,nan,nan,nan" ]
ok $? "metrics.csv: header with the diagnostics, epochs 1 and 2, the older row's diagnostics nan"
cut -d, -f1-9 "$tmp/old/metrics.csv" > "$tmp/m_old"
cut -d, -f1-9 "$tmp/new/metrics.csv" > "$tmp/m_new"
cmp -s "$tmp/m_old" "$tmp/m_new" &&
  [ "$(sed -n 3p "$tmp/old/metrics.csv" | cut -d, -f13-)" = "$(sed -n 3p "$tmp/new/metrics.csv" | cut -d, -f13-)" ]
r=$?; ok $r "metrics.csv: losses and accuracies of both epochs, and epoch 2's diagnostics, as the uninterrupted run's"
[ $r -eq 0 ] || { diff "$tmp/m_old" "$tmp/m_new" | sed 's/^/# /' >&2; }

# metrics.h5: format version 2, integers as int64.
h5dump -A "$tmp/old/metrics.h5" > "$tmp/h5.attrs" 2>&1
h5dump -H -d /epoch -d /step "$tmp/old/metrics.h5" > "$tmp/h5.types" 2>&1
grep -q '"stdbp-metrics"' "$tmp/h5.attrs" && grep -A2 'ATTRIBUTE "format_version"' "$tmp/h5.attrs" | grep -q U64 &&
  [ "$(grep -c 'H5T_STD_I64LE' "$tmp/h5.types")" -eq 2 ] &&
  [ "$(grep -c 'ATTRIBUTE "units"' "$tmp/h5.attrs")" -eq 17 ] &&
  [ "$(grep -c 'ATTRIBUTE "description"' "$tmp/h5.attrs")" -eq 18 ] &&
  h5dump -d /epoch "$tmp/old/metrics.h5" | grep -q '(0): 1, 2'
ok $? "metrics.h5: format stdbp-metrics, epoch and step int64 (1, 2), units and description on the 17 columns"

# The older spike log gets the new moment, as the fresh run's.
# (The data only: the older moment's datasets have no units attributes.)
same_data() { # DATASET
  h5dump -b LE -d "$1" -o "$tmp/a.bin" "$tmp/old/spikes.h5" >/dev/null 2>&1 &&
    h5dump -b LE -d "$1" -o "$tmp/b.bin" "$tmp/new/spikes.h5" >/dev/null 2>&1 &&
    cmp -s "$tmp/a.bin" "$tmp/b.bin"
}
r=0
for d in input layer00 layer01 layer02 layer03 labels; do
  same_data "/epoch-0001/$d" || r=1
done
[ $r -eq 0 ] && h5diff -q "$tmp/old/spikes.h5" "$tmp/new/spikes.h5" /epoch-0002 /epoch-0002
ok $? "spikes.h5 of the older run: epoch-0001 kept, epoch-0002 added, both as the fresh run's"

# The older checkpoint still serves the programs that read one.
"$top_srcdir/tests/mpirun.sh" 1 "$bin/stdbp_eval" "$fix/old-run/checkpoints/ckpt-0000000001.h5" \
  --set data.dir="$data_dir" > "$tmp/eval.out" 2>&1 && grep -q 'test accuracy' "$tmp/eval.out"
ok $? "stdbp_eval reads the older checkpoint"

# The sweep summary counts epochs from 1, from either kind of metrics.csv.
mkdir -p "$tmp/sw"
cat > "$tmp/sw/s.yaml" <<YAML
name: compat
base: $cfg
dir: $tmp/sw/runs
params:
  run.seed: [5, 6]
YAML
"$bin/stdbp_sweep" "$tmp/sw/s.yaml" --list > "$tmp/sw/list" 2>&1
d0=$(grep '^0	' "$tmp/sw/list" | cut -f2); d1=$(grep '^1	' "$tmp/sw/list" | cut -f2)
mkdir -p "$d0" "$d1"
cp "$fix/old-run/metrics.csv" "$d0/metrics.csv"  # older: epoch 0 = the first
cp "$tmp/old/metrics.csv" "$d1/metrics.csv"      # this build's: epochs 1, 2
"$bin/stdbp_sweep" "$tmp/sw/s.yaml" --summary > "$tmp/sw/out" 2>&1
s=$tmp/sw/runs/compat/summary.csv
[ -s "$s" ] || s=$(find "$tmp/sw" -name summary.csv | head -n 1)
awk -F, 'NR > 1 {print $2, $3, $5, $6}' "$s" | sort > "$tmp/sw/got"
printf '0 partial 1 1\n1 done 1 2\n' > "$tmp/sw/want"
cmp -s "$tmp/sw/got" "$tmp/sw/want"
r=$?; ok $r "summary.csv: best_epoch and epochs_done from 1 for an older and a current metrics.csv"
[ $r -eq 0 ] || { sed 's/^/# /' "$tmp/sw/out" "$tmp/sw/got" >&2; }
grep -q ' 1/2 ' "$tmp/sw/out" && grep -q ' 2/2 ' "$tmp/sw/out"
ok $? "the summary table shows epochs 1/2 and 2/2"
tap_done
