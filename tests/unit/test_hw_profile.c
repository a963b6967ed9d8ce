/* Accelerator profiles: the shipped ones load with the documented values,
 * and every kind of mistake in a profile is reported at FILE:LINE:COL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_hw_util.h"

static const char *shipped(const char *name)
{
    static char path[4096];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/configs/hw/%s.yaml", top ? top : ".", name);
    return path;
}

static void shipped_profiles(void)
{
    stdbp_hw_profile p;
    stdbp_err err;
    if (stdbp_hw_profile_load(shipped("loihi_like"), &p, &err))
        bail("%s", err.msg);
    is_string("loihi_like", p.name, "loihi_like loads");
    ok(p.mode == STDBP_HW_STEPPED && p.cores == 128 && p.neurons_per_core == 1024,
       "loihi_like: stepped, 128 cores of 1024 neurons");
    is_int(131072, stdbp_hw_profile_synapse_capacity(&p, 8), "128 KiB hold 131072 8-bit weights");
    is_int(87381, stdbp_hw_profile_synapse_capacity(&p, 12), "and 87381 12-bit ones");
    is_double(35.5e-12, p.synapse.energy, 1e-18, "synapse 35.5 pJ");
    is_double(4.1e-9, p.hop_x.time, 1e-18, "east-west hop 4.1 ns");
    is_double(6.5e-9, p.hop_y.time, 1e-18, "north-south hop 6.5 ns");
    is_double(1000e-9, p.barrier, 1e-18, "barrier 1.0 us (SANA-FE's sync latency for 2 tiles)");
    is_double(0.23e-3, p.static_power, 1e-12, "static 0.23 mW per core");
    ok(p.mesh_width == 8 && p.mesh_height == 4 && p.cores_per_tile == 4, "8 x 4 tiles of 4 cores");
    contains(p.source, "loihi_like.yaml", "the source file is recorded");

    if (stdbp_hw_profile_load(shipped("truenorth_like"), &p, &err))
        bail("%s", err.msg);
    ok(p.cores == 4096 && p.neurons_per_core == 256 && p.synapses_per_core == 65536,
       "truenorth_like: 4096 cores, 256 neurons, 65536 synapses");
    is_double(1e-3, p.time_step, 1e-15, "1 ms tick");
    is_double(0.0, p.static_power, 0, "static 0: the 26 pJ per synaptic event includes it");

    if (stdbp_hw_profile_load(shipped("default"), &p, &err))
        bail("%s", err.msg);
    ok(p.mode == STDBP_HW_EVENT && p.cores == 64, "default: event-driven, 64 cores");
    is_double(200e6, p.clock_hz, 1e-3, "200 MHz");
    is_double(18 / 200e6, p.neuron.time, 1e-18, "neuron: 18 cycles (divide) at 200 MHz");
    is_double(1 / 200e6, p.hop_x.time, 1e-18, "hop: 1 cycle (default when cycles is given)");
    ok(p.hop_x.energy == p.hop_y.energy, "'hop' sets both directions");
    is_double(0.0, p.memory_read.time, 0, "memory read pipelined: 0 cycles");
    is_double(0.6e-12, p.memory_read_per_bit, 1e-20, "memory read 0.6 pJ per bit (128 KiB)");

    /* the built-in default is the shipped file */
    stdbp_hw_profile d;
    if (stdbp_hw_profile_load_default(&d, &err))
        bail("%s", err.msg);
    contains(d.source, "built in", "the built-in default says so");
    ok(strcmp(d.name, p.name) == 0 && d.mode == p.mode && d.cores == p.cores &&
           d.neurons_per_core == p.neurons_per_core && d.synapse_bytes == p.synapse_bytes &&
           d.mesh_width == p.mesh_width && d.clock_hz == p.clock_hz &&
           d.synapse.energy == p.synapse.energy && d.neuron.energy == p.neuron.energy &&
           d.neuron.time == p.neuron.time && d.send.energy == p.send.energy &&
           d.hop_x.energy == p.hop_x.energy && d.barrier == p.barrier &&
           d.memory_read_per_bit == p.memory_read_per_bit && d.static_power == p.static_power,
       "the built-in default equals configs/hw/default.yaml");
}

/* Every parameter of every shipped profile has a source and, if it is a
 * number, a range that holds its value. */
static void sources(void)
{
    static const char *const names[] = {"default", "loihi_like", "truenorth_like"};
    stdbp_err err;
    stdbp_hw_profile p;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        if (stdbp_hw_profile_load(shipped(names[k]), &p, &err))
            bail("%s", err.msg);
        int ranged = 0, bad = 0, has_syn = 0, has_static = 0;
        for (int i = 0; i < p.n_sources; i++) {
            const stdbp_hw_param_source *s = &p.sources[i];
            ranged += s->ranged;
            if (!s->source[0] || (s->ranged && !(s->low <= s->value && s->value <= s->high))) {
                diag("%s: %s: source '%s', [%g, %g] value %g", names[k], s->key, s->source, s->low,
                     s->high, s->value);
                bad++;
            }
            has_syn += strcmp(s->key, "ops.synapse.energy_pj") == 0 && s->ranged;
            has_static += strcmp(s->key, "static_mw_per_core") == 0 && s->ranged;
        }
        ok(p.n_sources >= 25 && ranged >= 20 && bad == 0 && has_syn && has_static,
           "%s: %d parameters, each with a source, %d with a range holding the value", names[k],
           p.n_sources, ranged);
    }
    stdbp_hw_profile d;
    if (stdbp_hw_profile_load(shipped("default"), &p, &err) ||
        stdbp_hw_profile_load_default(&d, &err))
        bail("%s", err.msg);
    ok(d.n_sources == p.n_sources && d.n_sources > 0 &&
           strcmp(d.sources[3].source, p.sources[3].source) == 0,
       "the built-in default has the same sources");

    /* a variant: one number replaced, the rest as in the file */
    ok(stdbp_hw_profile_load_variant(NULL, "ops.neuron.energy_pj", 40.0, &p, &err) == STDBP_OK,
       "a variant of the built-in default loads");
    is_double(40e-12, p.neuron.energy, 1e-20, "... with ops.neuron.energy_pj = 40");
    is_double(d.synapse.energy, p.synapse.energy, 0, "... and the rest unchanged");
    ok(stdbp_hw_profile_load_variant(NULL, "clock_mhz", 100.0, &p, &err) == STDBP_OK,
       "a clock variant loads");
    is_double(18 / 100e6, p.neuron.time, 1e-18, "... and times in cycles follow the clock");
    is_int(STDBP_ECONFIG, stdbp_hw_profile_load_variant(NULL, "ops.nueron.energy_pj", 1, &p, &err),
           "a variant of a key that is not there fails");
    contains(err.msg, "ops.nueron.energy_pj", "... naming it");
    is_int(STDBP_ECONFIG,
           stdbp_hw_profile_load_variant(shipped("loihi_like"), "cores", 200, &p, &err),
           "a variant that is not a valid profile fails");
}

static const char *base = "name: t\n"                               /* 1 */
                          "mode: stepped\n"                         /* 2 */
                          "cores: 4\n"                              /* 3 */
                          "neurons_per_core: 16\n"                  /* 4 */
                          "synapse_memory: {synapses: 100}\n"       /* 5 */
                          "mesh:\n"                                 /* 6 */
                          "  width: 2\n"                            /* 7 */
                          "  height: 2\n"                           /* 8 */
                          "  hop: {energy_pj: 1, time_ns: 1}\n"     /* 9 */
                          "ops:\n"                                  /* 10 */
                          "  synapse: {energy_pj: 1, time_ns: 1}\n" /* 11 */
                          "  neuron: {energy_pj: 1, time_ns: 1}\n"  /* 12 */
                          "  send: {energy_pj: 1, time_ns: 1}\n"    /* 13 */
                          "  receive: {energy_pj: 1, time_ns: 1}\n" /* 14 */
                          "static_mw_per_core: 0.1\n";              /* 15 */

/* base with line `line` (1-based) replaced by repl (NULL: removed). */
static stdbp_status load_edit(int line, const char *repl, stdbp_err *err)
{
    char buf[4096];
    const char *s = base;
    size_t off = 0;
    stdbp_hw_profile p;
    for (int l = 1; *s; l++) {
        const char *e = strchr(s, '\n');
        size_t len = (size_t)(e - s) + 1;
        if (l == line) {
            if (repl)
                off += (size_t)snprintf(buf + off, sizeof buf - off, "%s\n", repl);
        } else {
            memcpy(buf + off, s, len);
            off += len;
        }
        s = e + 1;
    }
    buf[off] = '\0';
    return stdbp_hw_profile_load_string(buf, off, "x.yaml", &p, err);
}

static void errors(void)
{
    stdbp_err err;
    stdbp_hw_profile p;
    ok(stdbp_hw_profile_load_string(base, strlen(base), "x.yaml", &p, &err) == STDBP_OK,
       "the base profile loads");
    ok(p.stop_at_decision == 1 && p.cores_per_tile == 1 && p.fire.energy == 0.0,
       "optional keys take their defaults");

    is_int(STDBP_ECONFIG, load_edit(3, "corse: 4", &err), "unknown key");
    contains(err.msg, "x.yaml:3:1", "... at its line and column");
    contains(err.msg, "cores", "... suggesting the right one");
    is_int(STDBP_ECONFIG, load_edit(3, "cores: four", &err), "a word for a number");
    contains(err.msg, "x.yaml:3:8", "... points at the value");
    is_int(STDBP_ECONFIG, load_edit(3, "cores: 0", &err), "zero cores");
    contains(err.msg, "x.yaml:3:8: cores", "... names the key");
    is_int(STDBP_ECONFIG, load_edit(3, "cores: 5", &err), "more cores than the mesh holds");
    contains(err.msg, "x.yaml:3", "... at the cores line");
    contains(err.msg, "do not fit", "... saying why");
    is_int(STDBP_ECONFIG, load_edit(2, "mode: stepd", &err), "unknown mode");
    contains(err.msg, "x.yaml:2:7", "... at the value");
    is_int(STDBP_ECONFIG, load_edit(11, "  synapse: {energy_pj: -1, time_ns: 1}", &err),
           "negative energy");
    contains(err.msg, "x.yaml:11:24", "... at the number");
    is_int(STDBP_ECONFIG, load_edit(11, "  synapse: {energy_pj: 1}", &err),
           "a time in cycles (the default) without a clock");
    contains(err.msg, "clock_mhz", "... says to give clock_mhz");
    is_int(STDBP_ECONFIG, load_edit(11, "  synapse: {energy_pj: 1, time_ns: 1, cycles: 2}", &err),
           "both time_ns and cycles");
    contains(err.msg, "x.yaml:11:47", "... at cycles");
    is_int(STDBP_ECONFIG, load_edit(5, "synapse_memory: {synapses: 100, bytes: 64}", &err),
           "synapses and bytes");
    contains(err.msg, "x.yaml:5:40", "... at bytes");
    is_int(STDBP_ECONFIG, load_edit(12, NULL, &err), "ops.neuron missing");
    contains(err.msg, "neuron", "... names it");
    contains(err.msg, "x.yaml:11:", "... at the ops map");
    is_int(STDBP_ECONFIG, load_edit(14, "  receive: {energy_pj: 1, time_ns: 1, watts: 2}", &err),
           "unknown key inside an op");
    contains(err.msg, "x.yaml:14:39: ops.receive.watts", "... with its path");
    is_int(STDBP_ECONFIG, load_edit(9, "  hop: 3", &err), "an op that is not a map");
    contains(err.msg, "x.yaml:9:8", "... at the value");
    is_int(STDBP_ECONFIG, load_edit(8, "  height: 2\n  input_port: [0, 2]", &err),
           "input port outside the mesh");
    contains(err.msg, "x.yaml:9:19", "... at the coordinate");
    is_int(STDBP_ECONFIG, load_edit(1, "name: [t]", &err), "a list for a name");
    contains(err.msg, "x.yaml:1:7", "... at the value");
    is_int(STDBP_ECONFIG, load_edit(15, "stop_at_decision: true", &err), "static power missing");
    contains(err.msg, "static_mw_per_core", "... names it");

    /* the sources map: complete, each entry well formed */
    static const char *const src_all =
        "sources:\n"
        "  mode: {source: a}\n  cores: {low: 4, high: 4, source: a}\n"
        "  neurons_per_core: {low: 8, high: 16, source: a}\n"
        "  synapse_memory.synapses: {low: 100, high: 100, source: a}\n"
        "  mesh.width: {low: 2, high: 2, source: a}\n  mesh.height: {low: 2, high: 2, source: a}\n"
        "  mesh.hop.energy_pj: {low: 1, high: 1, source: a}\n"
        "  mesh.hop.time_ns: {low: 1, high: 1, source: a}\n"
        "  ops.synapse.energy_pj: {low: 0.5, high: 2, source: a}\n"
        "  ops.synapse.time_ns: {low: 1, high: 1, source: a}\n"
        "  ops.neuron.energy_pj: {low: 1, high: 1, source: a}\n"
        "  ops.neuron.time_ns: {low: 1, high: 1, source: a}\n"
        "  ops.send.energy_pj: {low: 1, high: 1, source: a}\n"
        "  ops.send.time_ns: {low: 1, high: 1, source: a}\n"
        "  ops.receive.energy_pj: {low: 1, high: 1, source: a}\n"
        "  ops.receive.time_ns: {low: 1, high: 1, source: a}\n"
        "  static_mw_per_core: {low: 0, high: 1, source: 'ASSUMPTION: b'}\n";
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base, src_all);
    ok(stdbp_hw_profile_load_string(text, strlen(text), "x.yaml", &p, &err) == STDBP_OK &&
           p.n_sources == 17,
       "a complete sources map loads (%s)", err.msg);
    snprintf(text, sizeof text, "%s%s", base, src_all);
    char *cut = strstr(text, "  ops.neuron.time_ns");
    memmove(cut, strchr(cut, '\n') + 1, strlen(strchr(cut, '\n') + 1) + 1);
    is_int(STDBP_ECONFIG, stdbp_hw_profile_load_string(text, strlen(text), "x.yaml", &p, &err),
           "a parameter without an entry in sources");
    contains(err.msg, "x.yaml:12:", "... at that parameter");
    contains(err.msg, "ops.neuron.time_ns", "... naming it");
    snprintf(text, sizeof text, "%s%s", base, src_all);
    memcpy(strstr(text, "{low: 0.5, high: 2"), "{low: 1.5, high: 2", 18);
    is_int(STDBP_ECONFIG, stdbp_hw_profile_load_string(text, strlen(text), "x.yaml", &p, &err),
           "a range that does not hold the value");
    contains(err.msg, "does not hold its value 1", "... says so");
    snprintf(text, sizeof text, "%s%s  ops.fire.energy_pj: {low: 0, high: 1, source: a}\n", base,
             src_all);
    is_int(STDBP_ECONFIG, stdbp_hw_profile_load_string(text, strlen(text), "x.yaml", &p, &err),
           "an entry for a key the profile does not have");
    contains(err.msg, "names no parameter", "... says so");
    snprintf(text, sizeof text, "%s%s", base, src_all);
    memcpy(strstr(text, "  mode: {source: a}"), "  mode: {low: 1}   ", 19);
    is_int(STDBP_ECONFIG, stdbp_hw_profile_load_string(text, strlen(text), "x.yaml", &p, &err),
           "an entry without a source");
    snprintf(text, sizeof text, "%s%s", base, src_all);
    memcpy(strstr(text, "{low: 8, high: 16, source: a}"), "{low: 8, high: 16, source: ''}", 30);
    is_int(STDBP_ECONFIG, stdbp_hw_profile_load_string(text, strlen(text), "x.yaml", &p, &err),
           "an empty source");

    stdbp_err_clear(&err);
    ok(stdbp_hw_profile_load("/nonexistent/p.yaml", &p, &err) != STDBP_OK, "a missing file fails");
    contains(err.msg, "/nonexistent/p.yaml", "... naming it");

    /* a profile built in code is checked too */
    stdbp_hw_profile_defaults(&p);
    is_int(STDBP_ECONFIG, stdbp_hw_profile_validate(&p, &err), "defaults alone do not validate");
}

int main(void)
{
    plan(83);
    shipped_profiles();
    sources();
    errors();
    return 0;
}
