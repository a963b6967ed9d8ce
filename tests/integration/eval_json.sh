#!/bin/sh
# stdbp_eval --split test|val|train and --json FILE|-: accuracy, loss,
# per-class accuracy and the confusion matrix, printed and as JSON (parsed
# here by Python): the matrix plus the samples without an output spike
# sum to the split's size, its diagonal to the correct count printed; the
# val split is the training's own (its accuracy and loss are those in
# metrics.csv for that checkpoint's step); the same JSON on 1 and 2 ranks;
# stdbp_plot confusion draws it as a PNG.
. "$top_srcdir/tests/tap/tap.sh"
plan 11
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
run() { timeout -s KILL 120 "$@"; }
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import json, csv' >/dev/null 2>&1; then py=$p; break; fi
done
[ -n "$py" ] || skip_all "python3 not found"

synthetic_data "$tmp" 40
small_mlp_config "$tmp/c.yaml" ev 9 12 0.003 2 25 "deploy: {enabled: false}"
run "$bin/stdbp_train" "$tmp/c.yaml" --quiet --run-dir "$tmp/run" > "$tmp/o1" 2>&1
ckpt=$(ls "$tmp"/run/checkpoints/ckpt-*.h5 2>/dev/null | tail -n 1)
[ -n "$ckpt" ] && [ -s "$tmp/run/metrics.csv" ]
ok $? "a tiny run trained"

# check SPLIT N TEXT JSON: the JSON agrees with itself, with the printed
# text and has N samples.
check() {
  "$py" - "$@" <<'PY'
import json, re, sys
split, n, text, path = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read(), sys.argv[4]
d = json.load(open(path))
assert d["format"] == "stdbp-eval" and d["format_version"] == 1, d
assert d["split"] == split and d["samples"] == n, (d["split"], d["samples"], n)
k = d["classes"]
cm, silent = d["confusion"], d["no_spike"]
assert len(cm) == k and all(len(r) == k for r in cm) and len(silent) == k
assert all(isinstance(v, int) and v >= 0 for r in cm for v in r)
assert sum(map(sum, cm)) + sum(silent) == n, (sum(map(sum, cm)), sum(silent), n)
diag = sum(cm[c][c] for c in range(k))
assert diag == d["correct"], (diag, d["correct"])
assert abs(d["accuracy"] - diag / n) < 1e-12, (d["accuracy"], diag, n)
for c, pc in enumerate(d["per_class"]):
    assert pc["class"] == c and pc["correct"] == cm[c][c], pc
    assert pc["samples"] == sum(cm[c]) + silent[c] and pc["no_spike"] == silent[c], pc
    if pc["samples"]:
        assert abs(pc["accuracy"] - cm[c][c] / pc["samples"]) < 1e-12, pc
m = re.search(r": %s accuracy ([0-9.]+)%% \((\d+) samples of .*\), loss ([0-9.]+)" % split, text)
assert m and int(m.group(2)) == n, text[:300]
assert abs(float(m.group(1)) - 100 * d["accuracy"]) < 0.006, (m.group(1), d["accuracy"])
assert abs(float(m.group(3)) - d["loss"]) < 6e-5, (m.group(3), d["loss"])
m = re.search(r"^correct: (\d+) of (\d+)", text, re.M)
assert m and int(m.group(1)) == diag and int(m.group(2)) == n, text[:300]
rows = re.findall(r"^ +(\d+)((?: +\d+){%d})  +(\d+)$" % k, text, re.M)
assert [[int(v) for v in r[1].split()] for r in rows] == cm, rows
PY
}

# 1. Each split: text and JSON agree; sizes as configured.
for sp in test:40 val:20 train:280; do
  split=${sp%:*} n=${sp#*:}
  run "$bin/stdbp_eval" "$tmp/run" --split "$split" --json "$tmp/$split.json" \
    > "$tmp/$split.txt" 2>&1; s=$?
  [ $s -eq 0 ] && check "$split" "$n" "$tmp/$split.txt" "$tmp/$split.json"
  ok $? "--split $split: the matrix sums to $n, its diagonal to the correct count printed ($s)"
done

# Outputs that never fire (a window that ends before any spike): counted
# under no_spike, not in the matrix.
run "$bin/stdbp_eval" "$tmp/run" --set network.t_max=0.001 --json "$tmp/silent.json" \
  > "$tmp/silent.txt" 2>&1; s=$?
[ $s -eq 0 ] && check test 40 "$tmp/silent.txt" "$tmp/silent.json" &&
  "$py" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert sum(d["no_spike"]) == 40 and d["correct"] == 0, d' "$tmp/silent.json"
ok $? "silent outputs: all 40 under no_spike, none correct ($s)"

# 2. The val split is the training's: metrics.csv's figures for the step.
"$py" - "$tmp/val.json" "$tmp/run/metrics.csv" <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1]))
rows = [r for r in csv.DictReader(open(sys.argv[2])) if int(float(r["step"])) == d["step"]]
assert len(rows) == 1, (d["step"], rows)
assert abs(float(rows[0]["val_acc"]) - d["accuracy"]) < 1e-8, (rows[0]["val_acc"], d["accuracy"])
assert abs(float(rows[0]["val_loss"]) - d["loss"]) < 1e-8, (rows[0]["val_loss"], d["loss"])
PY
ok $? "--split val: the validation accuracy and loss metrics.csv holds for that step"

# 3. The same JSON on 2 ranks; --json - writes only the JSON to stdout.
run "$top_srcdir/tests/mpirun.sh" 2 "$bin/stdbp_eval" "$tmp/run" --split val \
  --json "$tmp/val2.json" > "$tmp/val2.txt" 2>&1
cmp -s "$tmp/val.json" "$tmp/val2.json" && cmp -s "$tmp/val.txt" "$tmp/val2.txt"
ok $? "2 ranks: the same text and JSON as 1 rank"
run "$bin/stdbp_eval" "$ckpt" --split val --json - > "$tmp/stdout.json" 2> "$tmp/stderr.txt"
s=$?
[ $s -eq 0 ] && cmp -s "$tmp/val.json" "$tmp/stdout.json" && [ ! -s "$tmp/stderr.txt" ]
ok $? "--json -: the JSON alone on stdout ($s)"

# 4. Bad values.
run "$bin/stdbp_eval" "$tmp/run" --split dev > "$tmp/o2" 2>&1; s=$?
[ $s -eq 2 ] && grep -q "split takes test, val or train, not 'dev'" "$tmp/o2"
ok $? "--split dev: a usage error, exit 2 ($s)"
run "$bin/stdbp_eval" "$tmp/run" --split val --set data.val_samples=0 > "$tmp/o3" 2>&1; s=$?
[ $s -eq 1 ] && grep -q "no validation split" "$tmp/o3"
ok $? "--split val of a run without one: a clear error ($s)"

# 5. The PNG.
tp=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import matplotlib' >/dev/null 2>&1; then tp=$p; break; fi
done
if [ -z "$tp" ]; then
  tap_n=$((tap_n + 1))
  echo "ok $tap_n # SKIP python3 with matplotlib not found (python3-matplotlib)"
else
  "$bin/stdbp_plot" confusion "$tmp/val.json" "$tmp/plots/cm.png" > "$tmp/o4" 2>&1 &&
    [ "$(head -c 8 "$tmp/plots/cm.png" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
  ok $? "stdbp_plot confusion EVAL.json OUT.png: a PNG ($(cat "$tmp/o4"))"
fi
tap_done
