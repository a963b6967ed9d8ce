/* Accelerator profiles: defaults, checks, and the YAML reader. The keys
 * and their units are listed in docs/HARDWARE.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hw/hw_impl.h"
#include "util/yaml_doc.h"

void stdbp_hw_profile_defaults(stdbp_hw_profile *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "unnamed");
    p->mode = STDBP_HW_STEPPED;
    p->cores_per_tile = 1;
    p->stop_at_decision = 1;
}

long stdbp_hw_profile_synapse_capacity(const stdbp_hw_profile *p, int bits)
{
    if (p->synapses_per_core > 0)
        return p->synapses_per_core;
    int per = bits + p->synapse_overhead_bits;
    if (per <= 0)
        per = 1;
    return (long)((8.0 * (double)p->synapse_bytes) / per);
}

void stdbp_hw_core_xy(const stdbp_hw_profile *p, int core, int *x, int *y)
{
    int cpt = p->cores_per_tile > 0 ? p->cores_per_tile : 1;
    int w = p->mesh_width > 0 ? p->mesh_width : 1;
    int tile = core / cpt;
    int row = tile / w, col = tile % w;
    *y = row;
    *x = (row % 2 == 0) ? col : w - 1 - col;
}

static int op_ok(const stdbp_hw_op *o)
{
    return isfinite(o->energy) && o->energy >= 0.0 && isfinite(o->time) && o->time >= 0.0;
}

stdbp_status stdbp_hw_profile_validate(const stdbp_hw_profile *p, stdbp_err *err)
{
    const char *n = p->name;
    if (p->mode != STDBP_HW_STEPPED && p->mode != STDBP_HW_EVENT)
        return stdbp_err_set(err, STDBP_ECONFIG, "profile %s: mode must be stepped or event", n);
    if (p->cores < 1 || p->neurons_per_core < 1)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: cores (%d) and neurons_per_core (%d) must be >= 1", n,
                             p->cores, p->neurons_per_core);
    if ((p->synapses_per_core > 0) == (p->synapse_bytes > 0))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: give the synapse memory either as a count of synapses "
                             "or in bytes (exactly one, > 0)",
                             n);
    if (p->synapse_overhead_bits < 0 || p->axons_per_core < 0 || p->max_weight_bits < 0)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: overhead_bits, axons_per_core and max_weight_bits must "
                             "be >= 0",
                             n);
    if (p->mesh_width < 1 || p->mesh_height < 1 || p->cores_per_tile < 1)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: mesh width, height and cores_per_tile must be >= 1", n);
    if ((double)p->cores > (double)p->mesh_width * p->mesh_height * p->cores_per_tile)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: %d cores do not fit a %d x %d mesh of %d-core tiles "
                             "(%d places)",
                             n, p->cores, p->mesh_width, p->mesh_height, p->cores_per_tile,
                             p->mesh_width * p->mesh_height * p->cores_per_tile);
    if (p->input_x < 0 || p->input_x >= p->mesh_width || p->input_y < 0 ||
        p->input_y >= p->mesh_height)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: input port (%d, %d) lies outside the %d x %d mesh", n,
                             p->input_x, p->input_y, p->mesh_width, p->mesh_height);
    if (!op_ok(&p->hop_x) || !op_ok(&p->hop_y) || !op_ok(&p->synapse) || !op_ok(&p->memory_read) ||
        !op_ok(&p->neuron) || !op_ok(&p->fire) || !op_ok(&p->send) || !op_ok(&p->receive))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: every energy and time must be finite and >= 0", n);
    if (!(isfinite(p->memory_read_per_bit) && p->memory_read_per_bit >= 0.0) ||
        !(isfinite(p->static_power) && p->static_power >= 0.0) ||
        !(isfinite(p->time_step) && p->time_step >= 0.0) ||
        !(isfinite(p->barrier) && p->barrier >= 0.0) ||
        !(isfinite(p->clock_hz) && p->clock_hz >= 0.0))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "profile %s: static power, clock, time step and barrier must be "
                             "finite and >= 0",
                             n);
    return STDBP_OK;
}

/* ---- YAML ----------------------------------------------------------- */

#define PJ 1e-12
#define NS 1e-9

/* An integer in [lo, hi] at key (absent: keep *out unless required). */
static stdbp_status get_long(const stdbp_yaml_node *map, const char *key, int required, long lo,
                             long hi, long *out, stdbp_err *err)
{
    const stdbp_yaml_node *v = stdbp_yaml_get(map, key);
    stdbp_status st;
    if (!v) {
        if (required)
            return stdbp_yaml_need(map, key, &v, err);
        return STDBP_OK;
    }
    if ((st = stdbp_yaml_get_long(v, out, err)))
        return st;
    if (*out < lo || *out > hi)
        return stdbp_yaml_error(v, err, STDBP_ECONFIG,
                                "%ld is out of range: must lie in [%ld, %ld]", *out, lo, hi);
    return STDBP_OK;
}

static stdbp_status get_int(const stdbp_yaml_node *map, const char *key, int required, long lo,
                            long hi, int *out, stdbp_err *err)
{
    long v = *out;
    stdbp_status st = get_long(map, key, required, lo, hi, &v, err);
    if (!st)
        *out = (int)v;
    return st;
}

/* A finite number >= 0 times unit. */
static stdbp_status get_nonneg(const stdbp_yaml_node *map, const char *key, int required,
                               double unit, double *out, stdbp_err *err)
{
    const stdbp_yaml_node *v = stdbp_yaml_get(map, key);
    stdbp_status st;
    double d;
    if (!v) {
        if (required)
            return stdbp_yaml_need(map, key, &v, err);
        return STDBP_OK;
    }
    if ((st = stdbp_yaml_get_double(v, 0, &d, err)))
        return st;
    if (d < 0.0)
        return stdbp_yaml_error(v, err, STDBP_ECONFIG, "%g is negative: must be >= 0", d);
    *out = d * unit;
    return STDBP_OK;
}

static stdbp_status need_map(const stdbp_yaml_node *n, stdbp_err *err)
{
    char buf[64];
    if (stdbp_yaml_kind_of(n) != STDBP_YAML_MAP)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected a map, got %s",
                                stdbp_yaml_describe(n, buf, sizeof buf));
    return STDBP_OK;
}

/* One operation: {energy_pj, time_ns | cycles, [energy_pj_per_bit]}. */
static stdbp_status get_op(const stdbp_yaml_node *parent, const char *key, int required,
                           double clock_hz, const stdbp_yaml_node *clock_node, stdbp_hw_op *op,
                           double *per_bit, stdbp_err *err)
{
    static const char *const keys[] = {"energy_pj", "time_ns", "cycles", NULL};
    static const char *const keys_bit[] = {"energy_pj", "time_ns", "cycles", "energy_pj_per_bit",
                                           NULL};
    const stdbp_yaml_node *n = stdbp_yaml_get(parent, key), *t, *c;
    stdbp_status st;
    if (!n) {
        if (required)
            return stdbp_yaml_need(parent, key, &n, err);
        return STDBP_OK;
    }
    if ((st = need_map(n, err)) || (st = stdbp_yaml_check_keys(n, per_bit ? keys_bit : keys, err)))
        return st;
    if ((st = get_nonneg(n, "energy_pj", 1, PJ, &op->energy, err)))
        return st;
    if (per_bit && (st = get_nonneg(n, "energy_pj_per_bit", 0, PJ, per_bit, err)))
        return st;
    t = stdbp_yaml_get(n, "time_ns");
    c = stdbp_yaml_get(n, "cycles");
    if (t && c)
        return stdbp_yaml_error(c, err, STDBP_ECONFIG, "give either time_ns or cycles, not both");
    if (t)
        return get_nonneg(n, "time_ns", 1, NS, &op->time, err);
    double cycles = 1.0; /* one operation per cycle unless told */
    if (c && (st = get_nonneg(n, "cycles", 1, 1.0, &cycles, err)))
        return st;
    if (cycles > 0.0 && !(clock_hz > 0.0)) {
        if (clock_node)
            return stdbp_yaml_error(c ? c : n, err, STDBP_ECONFIG,
                                    "a time in cycles needs clock_mhz > 0 (or give time_ns)");
        return stdbp_yaml_error(c ? c : n, err, STDBP_ECONFIG,
                                "a time in cycles (1 when neither time_ns nor cycles is given) "
                                "needs clock_mhz (or give time_ns)");
    }
    op->time = cycles > 0.0 ? cycles / clock_hz : 0.0;
    return STDBP_OK;
}

/* name, mode and the core counts and limits. */
static stdbp_status parse_cores(const stdbp_yaml_node *root, stdbp_hw_profile *p, stdbp_err *err)
{
    static const char *const modes[] = {"stepped", "event", NULL};
    const stdbp_yaml_node *n;
    stdbp_status st;
    int mode = 0;
    if ((st = stdbp_yaml_need(root, "name", &n, err)) ||
        (st = stdbp_yaml_get_string(n, p->name, sizeof p->name, err)))
        return st;
    if ((st = stdbp_yaml_need(root, "mode", &n, err)) ||
        (st = stdbp_yaml_get_enum(n, modes, &mode, err)))
        return st;
    p->mode = mode == 0 ? STDBP_HW_STEPPED : STDBP_HW_EVENT;
    if ((st = get_int(root, "cores", 1, 1, 1L << 24, &p->cores, err)) ||
        (st = get_int(root, "neurons_per_core", 1, 1, 1L << 30, &p->neurons_per_core, err)) ||
        (st = get_int(root, "axons_per_core", 0, 0, 1L << 30, &p->axons_per_core, err)) ||
        (st = get_int(root, "max_weight_bits", 0, 0, 64, &p->max_weight_bits, err)))
        return st;
    return STDBP_OK;
}

/* synapse_memory: {synapses | bytes [, overhead_bits]}. */
static stdbp_status parse_memory(const stdbp_yaml_node *root, stdbp_hw_profile *p, stdbp_err *err)
{
    static const char *const mem_keys[] = {"synapses", "bytes", "overhead_bits", NULL};
    const stdbp_yaml_node *mem;
    stdbp_status st;
    if ((st = stdbp_yaml_need(root, "synapse_memory", &mem, err)) || (st = need_map(mem, err)) ||
        (st = stdbp_yaml_check_keys(mem, mem_keys, err)))
        return st;
    const stdbp_yaml_node *syn = stdbp_yaml_get(mem, "synapses");
    const stdbp_yaml_node *bytes = stdbp_yaml_get(mem, "bytes");
    if (syn && bytes)
        return stdbp_yaml_error(bytes, err, STDBP_ECONFIG,
                                "give either synapses or bytes, not both");
    if (!syn && !bytes)
        return stdbp_yaml_error(mem, err, STDBP_ECONFIG,
                                "missing required key 'synapses' (a count) or 'bytes'");
    if (syn && (st = get_long(mem, "synapses", 1, 1, 1L << 40, &p->synapses_per_core, err)))
        return st;
    if (bytes && (st = get_long(mem, "bytes", 1, 1, 1L << 40, &p->synapse_bytes, err)))
        return st;
    if ((st = get_int(mem, "overhead_bits", 0, 0, 1024, &p->synapse_overhead_bits, err)))
        return st;
    if (syn && stdbp_yaml_get(mem, "overhead_bits"))
        return stdbp_yaml_error(stdbp_yaml_get(mem, "overhead_bits"), err, STDBP_ECONFIG,
                                "overhead_bits applies to a memory given in bytes");
    return STDBP_OK;
}

/* Clock, step period, barrier, static power, stop_at_decision. */
static stdbp_status parse_timing(const stdbp_yaml_node *root, stdbp_hw_profile *p, stdbp_err *err)
{
    const stdbp_yaml_node *n;
    stdbp_status st;
    if ((st = get_nonneg(root, "clock_mhz", 0, 1e6, &p->clock_hz, err)) ||
        (st = get_nonneg(root, "time_step_ns", 0, NS, &p->time_step, err)) ||
        (st = get_nonneg(root, "barrier_ns", 0, NS, &p->barrier, err)) ||
        (st = get_nonneg(root, "static_mw_per_core", 1, 1e-3, &p->static_power, err)))
        return st;
    if ((n = stdbp_yaml_get(root, "stop_at_decision")) &&
        (st = stdbp_yaml_get_bool(n, &p->stop_at_decision, err)))
        return st;
    return STDBP_OK;
}

/* mesh.input_port: [x, y], a tile of the mesh. */
static stdbp_status parse_input_port(const stdbp_yaml_node *n, stdbp_hw_profile *p, stdbp_err *err)
{
    long xy[2];
    char buf[64];
    stdbp_status st;
    if (stdbp_yaml_kind_of(n) != STDBP_YAML_SEQ || stdbp_yaml_len(n) != 2)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected [x, y] (a tile), got %s",
                                stdbp_yaml_describe(n, buf, sizeof buf));
    for (int k = 0; k < 2; k++) {
        const stdbp_yaml_node *it = stdbp_yaml_item(n, (size_t)k);
        long hi = k == 0 ? p->mesh_width - 1 : p->mesh_height - 1;
        if ((st = stdbp_yaml_get_long(it, &xy[k], err)))
            return st;
        if (xy[k] < 0 || xy[k] > hi)
            return stdbp_yaml_error(it, err, STDBP_ECONFIG,
                                    "%ld lies outside the mesh: must be in [0, %ld]", xy[k], hi);
    }
    p->input_x = (int)xy[0];
    p->input_y = (int)xy[1];
    return STDBP_OK;
}

/* mesh: its size, input port and hops (clock: the clock_mhz node, if
 * any, for times in cycles). */
static stdbp_status parse_mesh(const stdbp_yaml_node *root, const stdbp_yaml_node *clock,
                               stdbp_hw_profile *p, stdbp_err *err)
{
    static const char *const mesh_keys[] = {"width", "height", "cores_per_tile", "input_port",
                                            "hop",   "hop_x",  "hop_y",          NULL};
    const stdbp_yaml_node *mesh, *n;
    stdbp_status st;
    if ((st = stdbp_yaml_need(root, "mesh", &mesh, err)) || (st = need_map(mesh, err)) ||
        (st = stdbp_yaml_check_keys(mesh, mesh_keys, err)))
        return st;
    if ((st = get_int(mesh, "width", 1, 1, 1L << 16, &p->mesh_width, err)) ||
        (st = get_int(mesh, "height", 1, 1, 1L << 16, &p->mesh_height, err)) ||
        (st = get_int(mesh, "cores_per_tile", 0, 1, 1L << 16, &p->cores_per_tile, err)))
        return st;
    if ((n = stdbp_yaml_get(mesh, "input_port")) && (st = parse_input_port(n, p, err)))
        return st;
    const stdbp_yaml_node *hop = stdbp_yaml_get(mesh, "hop");
    const stdbp_yaml_node *hx = stdbp_yaml_get(mesh, "hop_x");
    const stdbp_yaml_node *hy = stdbp_yaml_get(mesh, "hop_y");
    if (hop && (hx || hy))
        return stdbp_yaml_error(hx ? hx : hy, err, STDBP_ECONFIG,
                                "give either hop or hop_x and hop_y, not both");
    if (hop) {
        if ((st = get_op(mesh, "hop", 1, p->clock_hz, clock, &p->hop_x, NULL, err)))
            return st;
        p->hop_y = p->hop_x;
        return STDBP_OK;
    }
    if (!hx && !hy)
        return stdbp_yaml_error(mesh, err, STDBP_ECONFIG,
                                "missing required key 'hop' (or 'hop_x' and 'hop_y')");
    if ((st = get_op(mesh, "hop_x", 1, p->clock_hz, clock, &p->hop_x, NULL, err)) ||
        (st = get_op(mesh, "hop_y", 1, p->clock_hz, clock, &p->hop_y, NULL, err)))
        return st;
    return STDBP_OK;
}

/* ops: the energy and time of each operation. */
static stdbp_status parse_ops(const stdbp_yaml_node *root, const stdbp_yaml_node *clock,
                              stdbp_hw_profile *p, stdbp_err *err)
{
    static const char *const op_keys[] = {"synapse", "memory_read", "neuron", "fire",
                                          "send",    "receive",     NULL};
    const stdbp_yaml_node *ops;
    stdbp_status st;
    if ((st = stdbp_yaml_need(root, "ops", &ops, err)) || (st = need_map(ops, err)) ||
        (st = stdbp_yaml_check_keys(ops, op_keys, err)))
        return st;
    if ((st = get_op(ops, "synapse", 1, p->clock_hz, clock, &p->synapse, NULL, err)) ||
        (st = get_op(ops, "memory_read", 0, p->clock_hz, clock, &p->memory_read,
                     &p->memory_read_per_bit, err)) ||
        (st = get_op(ops, "neuron", 1, p->clock_hz, clock, &p->neuron, NULL, err)) ||
        (st = get_op(ops, "fire", 0, p->clock_hz, clock, &p->fire, NULL, err)) ||
        (st = get_op(ops, "send", 1, p->clock_hz, clock, &p->send, NULL, err)) ||
        (st = get_op(ops, "receive", 1, p->clock_hz, clock, &p->receive, NULL, err)))
        return st;
    return STDBP_OK;
}

static stdbp_status parse(const stdbp_yaml_doc *doc, stdbp_hw_profile *p, stdbp_err *err)
{
    static const char *const top[] = {"name",
                                      "description",
                                      "notes",
                                      "mode",
                                      "cores",
                                      "neurons_per_core",
                                      "synapse_memory",
                                      "axons_per_core",
                                      "max_weight_bits",
                                      "mesh",
                                      "clock_mhz",
                                      "time_step_ns",
                                      "barrier_ns",
                                      "ops",
                                      "static_mw_per_core",
                                      "stop_at_decision",
                                      NULL};
    const stdbp_yaml_node *root = stdbp_yaml_root(doc);
    const stdbp_yaml_node *clock = stdbp_yaml_get(root, "clock_mhz");
    stdbp_status st;

    if ((st = need_map(root, err)) || (st = stdbp_yaml_check_keys(root, top, err)) ||
        (st = parse_cores(root, p, err)) || (st = parse_memory(root, p, err)) ||
        (st = parse_timing(root, p, err)) || (st = parse_mesh(root, clock, p, err)) ||
        (st = parse_ops(root, clock, p, err)))
        return st;

    /* cross-field checks, placed at the key that can fix them */
    if ((double)p->cores > (double)p->mesh_width * p->mesh_height * p->cores_per_tile)
        return stdbp_yaml_error(stdbp_yaml_get(root, "cores"), err, STDBP_ECONFIG,
                                "%d cores do not fit the %d x %d mesh of %d-core tiles (%d "
                                "places)",
                                p->cores, p->mesh_width, p->mesh_height, p->cores_per_tile,
                                p->mesh_width * p->mesh_height * p->cores_per_tile);
    return stdbp_hw_profile_validate(p, err);
}

static stdbp_status load(stdbp_yaml_doc *doc, const char *name, stdbp_hw_profile *p, stdbp_err *err)
{
    stdbp_hw_profile tmp;
    stdbp_status st;
    stdbp_hw_profile_defaults(&tmp);
    st = parse(doc, &tmp, err);
    stdbp_yaml_free(&doc);
    if (st)
        return st;
    snprintf(tmp.source, sizeof tmp.source, "%s", name);
    *p = tmp;
    return STDBP_OK;
}

stdbp_status stdbp_hw_profile_load(const char *path, stdbp_hw_profile *p, stdbp_err *err)
{
    stdbp_yaml_doc *doc = NULL;
    stdbp_status st = stdbp_yaml_load_file(path, &doc, err);
    if (st)
        return st;
    return load(doc, path, p, err);
}

stdbp_status stdbp_hw_profile_load_default(stdbp_hw_profile *p, stdbp_err *err)
{
    return stdbp_hw_profile_load_string(stdbp_hw_default_profile_yaml,
                                        strlen(stdbp_hw_default_profile_yaml),
                                        "default.yaml (built in)", p, err);
}

stdbp_status stdbp_hw_profile_load_string(const char *yaml, size_t len, const char *name,
                                          stdbp_hw_profile *p, stdbp_err *err)
{
    stdbp_yaml_doc *doc = NULL;
    stdbp_status st = stdbp_yaml_load_string(yaml, len, name, &doc, err);
    if (st)
        return st;
    return load(doc, name, p, err);
}
