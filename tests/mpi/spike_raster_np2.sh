#!/bin/sh
# scripts/spike_raster.py draws a PNG from a spikes.h5 written by 2 ranks.
# Skips without python3-h5py and python3-matplotlib.
set -u
py=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import h5py, matplotlib' >/dev/null 2>&1; then py=$p; break; fi
done
if [ -z "$py" ]; then echo "1..0 # SKIP python3 with h5py and matplotlib not found"; exit 0; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-raster-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
echo "1..4"
if "$top_srcdir/tests/mpirun.sh" 2 "$top_builddir/tests/mpi/test_spikelog" "$dir" >"$dir/log" 2>&1; then
    echo "ok 1 - write spikes.h5 on 2 ranks"
else
    echo "not ok 1 - write spikes.h5 on 2 ranks"; sed 's/^/# /' "$dir/log"
fi
script=$top_srcdir/scripts/spike_raster.py
if "$py" "$script" --help | grep -q -- "--moment"; then
    echo "ok 2 - --help lists the options"
else
    echo "not ok 2 - --help lists the options"
fi
if "$py" "$script" "$dir/par/spikes.h5" --list | grep -q "epoch-0001: 37 samples"; then
    echo "ok 3 - --list shows the moments"
else
    echo "not ok 3 - --list shows the moments"
fi
"$py" "$script" "$dir/par/spikes.h5" --moment epoch-0001 --sample 5 -o "$dir/r.png" >"$dir/out" 2>&1
if [ -s "$dir/r.png" ] && [ "$(head -c 4 "$dir/r.png" | od -An -c | tr -d ' ')" = '211PNG' ]; then
    echo "ok 4 - a PNG raster of sample 5"
else
    echo "not ok 4 - a PNG raster of sample 5"; sed 's/^/# /' "$dir/out"
fi
