#!/bin/sh
# The accelerator estimates of a small trained checkpoint (docs/HARDWARE.md):
# report.json carries the decomposition of latency and energy (with the
# step period and leakage the paper's figures imply) and the per-layer
# float vs quantised spike errors; `stdbp_deploy --sensitivity` writes
# sensitivity.json with one entry per ranged profile parameter, low and
# high results ordered as the parameter says (more energy per operation,
# more energy; a slower op, more latency), and stdbp_plot --tornado draws
# it (skipped without matplotlib).
. "$top_srcdir/tests/tap/tap.sh"
plan 9
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() { timeout -s KILL 120 "$@"; }
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import json' >/dev/null 2>&1; then py=$p; break; fi
done
[ -n "$py" ] || skip_all "python3 not found"

synthetic_data "$tmp" 40
small_mlp_config "$tmp/c.yaml" hw 5 16 0.003 1 25 "deploy: {enabled: false, bits: [8], samples: 20}"
run "$bin/stdbp_train" "$tmp/c.yaml" --quiet --no-deploy --set run.dir="$tmp/run" > "$tmp/o1" 2>&1
ckpt=$(ls "$tmp"/run/checkpoints/ckpt-*.h5 2>/dev/null | tail -n 1)
[ -n "$ckpt" ]
ok $? "a tiny run trained"

# 1. The main report: decomposition line and spike-level error.
run "$bin/stdbp_deploy" "$ckpt" --out "$tmp/rep" > "$tmp/o2" 2>&1; s=$?
[ $s -eq 0 ] && grep -q "decomposition: latency .* decision steps x .* us per step; energy" "$tmp/o2" &&
  grep -q "imply, at these .* a step period of" "$tmp/o2" &&
  grep -q "float vs quantised spikes" "$tmp/o2"
ok $? "the printed report has the decomposition line and the spike errors ($s)"
"$py" - "$tmp/rep/report.json" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))["results"][0]
d = r["decomposition"]
# latency = decision steps x step period; energy = dynamic + static
assert abs(d["decision_steps"] * d["step_period_us"] * 1e-3 - r["latency_ms"]) < 1e-9 * max(1, r["latency_ms"]), d
e = r["energy_uj_per_image"]
assert abs(d["dynamic_uj"] + d["static_uj"] - e["total"]) < 1e-6 * e["total"], (d, e)
assert abs(d["paper_step_period_us"] * d["decision_steps"] - 47710) < 1e-3, d
assert abs(d["paper_energy_uj"] - 0.751 * 47.71) < 1e-6, d
assert abs(d["paper_static_mw"] * 47.71 + d["dynamic_uj"] - 0.751 * 47.71) < 1e-6, d
assert "line" in d and "decomposition" in d["line"]
PY
ok $? "report.json: the decomposition adds up, and the paper's implied period and leakage"
"$py" - "$tmp/rep/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
s = r["spike_error"]
assert len(s["layers"]) == len(r["layers"]) == 2, s
for l in s["layers"]:
    for k in ("error_mean_steps", "error_max_steps", "moved_fraction", "lost_to_window_fraction",
              "lost_other_fraction", "lost_to_window_before_decision", "extra_spikes"):
        assert k in l, (k, l)
    assert 0 <= l["error_mean_steps"] <= l["error_max_steps"], l
    assert 0 <= l["moved_fraction"] <= 1 and 0 <= l["lost_to_window_fraction"] <= 1, l
    assert l["both"] <= min(l["float_spikes"], l["quantised_spikes"]), l
    assert l["lost_to_window_before_decision"] == 0, l
assert s["layers"][0]["float_spikes"] > 0, s
assert s["float_decision_max_step"] <= s["window_steps"], s
PY
ok $? "report.json: spike errors per layer, none that matter lost to the window"

# 2. --sensitivity.
run "$bin/stdbp_deploy" "$ckpt" --out "$tmp/sens" --sensitivity --set deploy.samples=10 \
  > "$tmp/o3" 2>&1; s=$?
[ $s -eq 0 ] && [ -s "$tmp/sens/sensitivity.json" ] && grep -q "^sensitivity: profile default" "$tmp/o3" &&
  [ ! -e "$tmp/sens/report.json" ]
ok $? "stdbp_deploy --sensitivity: table and sensitivity.json, no report ($s: $(tail -c 300 "$tmp/o3"))"
"$py" - "$tmp/sens/sensitivity.json" "$top_srcdir/configs/hw/default.yaml" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
# the ranged keys of the profile, read from its text (every `key: {low:`)
keys = set(re.findall(r"^  ([a-z_.]+): \{low:", open(sys.argv[2]).read(), re.M))
got = [p["key"] for p in doc["parameters"]]
assert len(got) == len(set(got)) and set(got) == keys, (sorted(keys ^ set(got)))
assert doc["images"] == 10 and doc["bits"] == 8 and doc["baseline"]["simulated"]
P = {p["key"]: p for p in doc["parameters"]}
def both(k):
    p = P[k]
    assert p["varied"] and p["at_low"]["simulated"] and p["at_high"]["simulated"], p
    return p["at_low"], p["at_high"]
for k in ("ops.synapse.energy_pj", "ops.neuron.energy_pj", "ops.memory_read.energy_pj_per_bit",
          "static_mw_per_core", "mesh.hop.energy_pj", "ops.send.energy_pj"):
    lo, hi = both(k)
    assert lo["energy_uj"] < doc["baseline"]["energy_uj"] < hi["energy_uj"], (k, lo, hi)
    assert lo["latency_ms"] == hi["latency_ms"], (k, lo, hi)  # energy only
for k in ("ops.neuron.cycles", "barrier_ns"):
    lo, hi = both(k)
    assert lo["latency_ms"] < hi["latency_ms"], (k, lo, hi)
lo, hi = both("clock_mhz")
assert lo["latency_ms"] > hi["latency_ms"], (lo, hi)  # a faster clock, less latency
fixed = P["cores"]
assert not fixed["varied"] and fixed["at_low"] == doc["baseline"], fixed
sw = [p["energy_swing_uj"] for p in doc["parameters"]]
assert sw == sorted(sw, reverse=True), sw
PY
ok $? "sensitivity.json: one entry per ranged parameter, low/high results ordered sensibly"
run "$bin/stdbp_deploy" "$ckpt" --out "$tmp/sens2" --sensitivity --hw "$top_srcdir/configs/hw/loihi_like.yaml" \
  --set deploy.samples=5 > "$tmp/o4" 2>&1; s=$?
[ $s -eq 0 ] && "$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = {q["key"]: q for q in d["parameters"]}
b = p["barrier_ns"]
assert b["at_low"]["latency_ms"] < d["baseline"]["latency_ms"] < b["at_high"]["latency_ms"], b
' "$tmp/sens2/sensitivity.json"
ok $? "loihi_like --sensitivity: the barrier range moves the latency ($s)"
printf 'name: old\nmode: stepped\ncores: 4\nneurons_per_core: 64\nsynapse_memory: {synapses: 4096}\nmesh: {width: 2, height: 2, hop: {energy_pj: 1, time_ns: 1}}\nops:\n  synapse: {energy_pj: 1, time_ns: 1}\n  neuron: {energy_pj: 1, time_ns: 1}\n  send: {energy_pj: 1, time_ns: 1}\n  receive: {energy_pj: 1, time_ns: 1}\nstatic_mw_per_core: 0\n' > "$tmp/old.yaml"
run "$bin/stdbp_deploy" "$ckpt" --out "$tmp/sens3" --sensitivity --hw "$tmp/old.yaml" > "$tmp/o5" 2>&1; s=$?
[ $s -eq 1 ] && grep -q "has no sources map" "$tmp/o5"
ok $? "--sensitivity on a profile without sources: a clear error ($s)"

# 3. The tornado plot.
tp=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import matplotlib' >/dev/null 2>&1; then tp=$p; break; fi
done
if [ -z "$tp" ]; then
  tap_n=$((tap_n + 1))
  echo "ok $tap_n # SKIP python3 with matplotlib not found (python3-matplotlib)"
else
  "$top_builddir/src/cli/stdbp_plot" --tornado "$tmp/sens/sensitivity.json" > "$tmp/o6" 2>&1 &&
    [ -s "$tmp/sens/plots/tornado.png" ] &&
    [ "$(head -c 8 "$tmp/sens/plots/tornado.png" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
  ok $? "stdbp_plot --tornado: tornado.png ($(cat "$tmp/o6"))"
fi
tap_done
