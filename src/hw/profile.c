/* Accelerator profiles: defaults, checks, and the YAML reader. The keys
 * and their units are listed in docs/HARDWARE.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* One number replaced while parsing (stdbp_hw_profile_load_variant): the
 * value read at the node whose key path is key. */
typedef struct ovr {
    const char *key; /* NULL: none */
    double value;
    int hit;
} ovr;

/* The override's value if v is the node it names. */
static int overridden(ovr *o, const stdbp_yaml_node *v, double *out)
{
    char path[128];
    if (!o || !o->key || strcmp(stdbp_yaml_path(v, path, sizeof path), o->key) != 0)
        return 0;
    o->hit = 1;
    *out = o->value;
    return 1;
}

/* An integer in [lo, hi] at key (absent: keep *out unless required). */
static stdbp_status get_long(ovr *o, const stdbp_yaml_node *map, const char *key, int required,
                             long lo, long hi, long *out, stdbp_err *err)
{
    const stdbp_yaml_node *v = stdbp_yaml_get(map, key);
    stdbp_status st;
    if (!v) {
        if (required)
            return stdbp_yaml_need(map, key, &v, err);
        return STDBP_OK;
    }
    double d;
    if (overridden(o, v, &d)) {
        if (!(d >= -9e18 && d <= 9e18))
            return stdbp_yaml_error(v, err, STDBP_ECONFIG, "%g is not an integer", d);
        *out = lround(d);
    } else if ((st = stdbp_yaml_get_long(v, out, err)))
        return st;
    if (*out < lo || *out > hi)
        return stdbp_yaml_error(v, err, STDBP_ECONFIG,
                                "%ld is out of range: must lie in [%ld, %ld]", *out, lo, hi);
    return STDBP_OK;
}

static stdbp_status get_int(ovr *o, const stdbp_yaml_node *map, const char *key, int required,
                            long lo, long hi, int *out, stdbp_err *err)
{
    long v = *out;
    stdbp_status st = get_long(o, map, key, required, lo, hi, &v, err);
    if (!st)
        *out = (int)v;
    return st;
}

/* A finite number >= 0 times unit. */
static stdbp_status get_nonneg(ovr *o, const stdbp_yaml_node *map, const char *key, int required,
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
    if (!overridden(o, v, &d) && (st = stdbp_yaml_get_double(v, 0, &d, err)))
        return st;
    if (!isfinite(d))
        return stdbp_yaml_error(v, err, STDBP_ECONFIG, "%g is not finite", d);
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
static stdbp_status get_op(ovr *o, const stdbp_yaml_node *parent, const char *key, int required,
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
    if ((st = get_nonneg(o, n, "energy_pj", 1, PJ, &op->energy, err)))
        return st;
    if (per_bit && (st = get_nonneg(o, n, "energy_pj_per_bit", 0, PJ, per_bit, err)))
        return st;
    t = stdbp_yaml_get(n, "time_ns");
    c = stdbp_yaml_get(n, "cycles");
    if (t && c)
        return stdbp_yaml_error(c, err, STDBP_ECONFIG, "give either time_ns or cycles, not both");
    if (t)
        return get_nonneg(o, n, "time_ns", 1, NS, &op->time, err);
    double cycles = 1.0; /* one operation per cycle unless told */
    if (c && (st = get_nonneg(o, n, "cycles", 1, 1.0, &cycles, err)))
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
static stdbp_status parse_cores(ovr *o, const stdbp_yaml_node *root, stdbp_hw_profile *p,
                                stdbp_err *err)
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
    if ((st = get_int(o, root, "cores", 1, 1, 1L << 24, &p->cores, err)) ||
        (st = get_int(o, root, "neurons_per_core", 1, 1, 1L << 30, &p->neurons_per_core, err)) ||
        (st = get_int(o, root, "axons_per_core", 0, 0, 1L << 30, &p->axons_per_core, err)) ||
        (st = get_int(o, root, "max_weight_bits", 0, 0, 64, &p->max_weight_bits, err)))
        return st;
    return STDBP_OK;
}

/* synapse_memory: {synapses | bytes [, overhead_bits]}. */
static stdbp_status parse_memory(ovr *o, const stdbp_yaml_node *root, stdbp_hw_profile *p,
                                 stdbp_err *err)
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
    if (syn && (st = get_long(o, mem, "synapses", 1, 1, 1L << 40, &p->synapses_per_core, err)))
        return st;
    if (bytes && (st = get_long(o, mem, "bytes", 1, 1, 1L << 40, &p->synapse_bytes, err)))
        return st;
    if ((st = get_int(o, mem, "overhead_bits", 0, 0, 1024, &p->synapse_overhead_bits, err)))
        return st;
    if (syn && stdbp_yaml_get(mem, "overhead_bits"))
        return stdbp_yaml_error(stdbp_yaml_get(mem, "overhead_bits"), err, STDBP_ECONFIG,
                                "overhead_bits applies to a memory given in bytes");
    return STDBP_OK;
}

/* Clock, step period, barrier, static power, stop_at_decision. */
static stdbp_status parse_timing(ovr *o, const stdbp_yaml_node *root, stdbp_hw_profile *p,
                                 stdbp_err *err)
{
    const stdbp_yaml_node *n;
    stdbp_status st;
    if ((st = get_nonneg(o, root, "clock_mhz", 0, 1e6, &p->clock_hz, err)) ||
        (st = get_nonneg(o, root, "time_step_ns", 0, NS, &p->time_step, err)) ||
        (st = get_nonneg(o, root, "barrier_ns", 0, NS, &p->barrier, err)) ||
        (st = get_nonneg(o, root, "static_mw_per_core", 1, 1e-3, &p->static_power, err)))
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
static stdbp_status parse_mesh(ovr *o, const stdbp_yaml_node *root, const stdbp_yaml_node *clock,
                               stdbp_hw_profile *p, stdbp_err *err)
{
    static const char *const mesh_keys[] = {"width", "height", "cores_per_tile", "input_port",
                                            "hop",   "hop_x",  "hop_y",          NULL};
    const stdbp_yaml_node *mesh, *n;
    stdbp_status st;
    if ((st = stdbp_yaml_need(root, "mesh", &mesh, err)) || (st = need_map(mesh, err)) ||
        (st = stdbp_yaml_check_keys(mesh, mesh_keys, err)))
        return st;
    if ((st = get_int(o, mesh, "width", 1, 1, 1L << 16, &p->mesh_width, err)) ||
        (st = get_int(o, mesh, "height", 1, 1, 1L << 16, &p->mesh_height, err)) ||
        (st = get_int(o, mesh, "cores_per_tile", 0, 1, 1L << 16, &p->cores_per_tile, err)))
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
        if ((st = get_op(o, mesh, "hop", 1, p->clock_hz, clock, &p->hop_x, NULL, err)))
            return st;
        p->hop_y = p->hop_x;
        return STDBP_OK;
    }
    if (!hx && !hy)
        return stdbp_yaml_error(mesh, err, STDBP_ECONFIG,
                                "missing required key 'hop' (or 'hop_x' and 'hop_y')");
    if ((st = get_op(o, mesh, "hop_x", 1, p->clock_hz, clock, &p->hop_x, NULL, err)) ||
        (st = get_op(o, mesh, "hop_y", 1, p->clock_hz, clock, &p->hop_y, NULL, err)))
        return st;
    return STDBP_OK;
}

/* ops: the energy and time of each operation. */
static stdbp_status parse_ops(ovr *o, const stdbp_yaml_node *root, const stdbp_yaml_node *clock,
                              stdbp_hw_profile *p, stdbp_err *err)
{
    static const char *const op_keys[] = {"synapse", "memory_read", "neuron", "fire",
                                          "send",    "receive",     NULL};
    const stdbp_yaml_node *ops;
    stdbp_status st;
    if ((st = stdbp_yaml_need(root, "ops", &ops, err)) || (st = need_map(ops, err)) ||
        (st = stdbp_yaml_check_keys(ops, op_keys, err)))
        return st;
    if ((st = get_op(o, ops, "synapse", 1, p->clock_hz, clock, &p->synapse, NULL, err)) ||
        (st = get_op(o, ops, "memory_read", 0, p->clock_hz, clock, &p->memory_read,
                     &p->memory_read_per_bit, err)) ||
        (st = get_op(o, ops, "neuron", 1, p->clock_hz, clock, &p->neuron, NULL, err)) ||
        (st = get_op(o, ops, "fire", 0, p->clock_hz, clock, &p->fire, NULL, err)) ||
        (st = get_op(o, ops, "send", 1, p->clock_hz, clock, &p->send, NULL, err)) ||
        (st = get_op(o, ops, "receive", 1, p->clock_hz, clock, &p->receive, NULL, err)))
        return st;
    return STDBP_OK;
}

/* ---- sources: where each parameter comes from, and its range ------- */

/* Top-level keys that are text, not parameters: no source needed. */
static const char *const free_text[] = {"name", "description", "notes", "sources", NULL};

static int is_free_text(const char *key)
{
    for (int k = 0; free_text[k]; k++)
        if (strcmp(key, free_text[k]) == 0)
            return 1;
    return 0;
}

/* The node at a dotted key path below root, or NULL. */
static const stdbp_yaml_node *at_path(const stdbp_yaml_node *root, const char *key)
{
    char part[64];
    const stdbp_yaml_node *n = root;
    while (n && *key) {
        size_t len = strcspn(key, ".");
        if (len == 0 || len >= sizeof part || stdbp_yaml_kind_of(n) != STDBP_YAML_MAP)
            return NULL;
        memcpy(part, key, len);
        part[len] = '\0';
        n = stdbp_yaml_get(n, part);
        key += len + (key[len] == '.');
    }
    return n;
}

/* v as a finite number (without an error: a text value is no number). */
static int number_of(const stdbp_yaml_node *v, double *d)
{
    stdbp_err ignored;
    if (stdbp_yaml_kind_of(v) != STDBP_YAML_SCALAR || stdbp_yaml_is_null(v))
        return 0;
    return stdbp_yaml_get_double(v, 0, d, &ignored) == STDBP_OK && isfinite(*d);
}

/* Every parameter below map (prefix: its key path) has an entry in src. */
static stdbp_status check_covered(const stdbp_yaml_node *map, const char *prefix,
                                  const stdbp_yaml_node *src, stdbp_err *err)
{
    for (size_t i = 0; i < stdbp_yaml_len(map); i++) {
        const char *k = stdbp_yaml_key(map, i);
        const stdbp_yaml_node *v = stdbp_yaml_item(map, i);
        char path[128];
        stdbp_status st;
        if (!prefix[0] && is_free_text(k))
            continue;
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", k);
        if (stdbp_yaml_kind_of(v) == STDBP_YAML_MAP) {
            if ((st = check_covered(v, path, src, err)))
                return st;
        } else if (!stdbp_yaml_get(src, path))
            return stdbp_yaml_error(stdbp_yaml_key_node(map, i), err, STDBP_ECONFIG,
                                    "no entry '%s' in sources: once a profile has a sources "
                                    "map, every parameter needs {low, high, source} there",
                                    path);
    }
    return STDBP_OK;
}

/* One entry of sources: {low, high, source} for a number, {source} for a
 * text, a flag or the input port. */
static stdbp_status parse_source(ovr *o, const stdbp_yaml_node *root, const char *key,
                                 const stdbp_yaml_node *keynode, const stdbp_yaml_node *e,
                                 stdbp_hw_param_source *ps, stdbp_err *err)
{
    static const char *const keys[] = {"low", "high", "source", NULL};
    const stdbp_yaml_node *target = at_path(root, key), *n;
    stdbp_status st;
    memset(ps, 0, sizeof *ps);
    if (strlen(key) >= sizeof ps->key)
        return stdbp_yaml_error(keynode, err, STDBP_ECONFIG, "key path longer than %zu bytes",
                                sizeof ps->key - 1);
    snprintf(ps->key, sizeof ps->key, "%s", key);
    if (!target || stdbp_yaml_kind_of(target) == STDBP_YAML_MAP || is_free_text(key))
        return stdbp_yaml_error(keynode, err, STDBP_ECONFIG,
                                "'%s' names no parameter of this profile (give the dotted "
                                "path of a value, e.g. ops.synapse.energy_pj)",
                                key);
    if ((st = need_map(e, err)) || (st = stdbp_yaml_check_keys(e, keys, err)) ||
        (st = stdbp_yaml_need(e, "source", &n, err)) ||
        (st = stdbp_yaml_get_string(n, ps->source, sizeof ps->source, err)))
        return st;
    if (!ps->source[0])
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "the source is empty");
    const stdbp_yaml_node *lo = stdbp_yaml_get(e, "low"), *hi = stdbp_yaml_get(e, "high");
    if (!number_of(target, &ps->value)) {
        if (lo || hi)
            return stdbp_yaml_error(lo ? lo : hi, err, STDBP_ECONFIG,
                                    "'%s' is not a number: give its source only", key);
        return STDBP_OK;
    }
    int varied = overridden(o, target, &ps->value);
    if (!lo || !hi)
        return stdbp_yaml_error(e, err, STDBP_ECONFIG,
                                "'%s' is a number: give its range as low and high", key);
    if ((st = stdbp_yaml_get_double(lo, 0, &ps->low, err)) ||
        (st = stdbp_yaml_get_double(hi, 0, &ps->high, err)))
        return st;
    if (!(ps->low <= ps->value && ps->value <= ps->high) && !varied)
        return stdbp_yaml_error(e, err, STDBP_ECONFIG,
                                "the range [%g, %g] of '%s' does not hold its value %g", ps->low,
                                ps->high, key, ps->value);
    ps->ranged = 1;
    return STDBP_OK;
}

/* sources: {KEY.PATH: {low, high, source}, ...}; optional, but when it is
 * there it covers every parameter. */
static stdbp_status parse_sources(ovr *o, const stdbp_yaml_node *root, stdbp_hw_profile *p,
                                  stdbp_err *err)
{
    const stdbp_yaml_node *src = stdbp_yaml_get(root, "sources");
    stdbp_status st;
    p->n_sources = 0;
    if (!src)
        return STDBP_OK;
    if ((st = need_map(src, err)))
        return st;
    if (stdbp_yaml_len(src) > STDBP_HW_MAX_SOURCES)
        return stdbp_yaml_error(src, err, STDBP_ECONFIG, "more than %d entries",
                                STDBP_HW_MAX_SOURCES);
    for (size_t i = 0; i < stdbp_yaml_len(src); i++)
        if ((st = parse_source(o, root, stdbp_yaml_key(src, i), stdbp_yaml_key_node(src, i),
                               stdbp_yaml_item(src, i), &p->sources[p->n_sources++], err)))
            return st;
    return check_covered(root, "", src, err);
}

static stdbp_status parse(ovr *o, const stdbp_yaml_doc *doc, stdbp_hw_profile *p, stdbp_err *err)
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
                                      "sources",
                                      NULL};
    const stdbp_yaml_node *root = stdbp_yaml_root(doc);
    const stdbp_yaml_node *clock = stdbp_yaml_get(root, "clock_mhz");
    stdbp_status st;

    if ((st = need_map(root, err)) || (st = stdbp_yaml_check_keys(root, top, err)) ||
        (st = parse_cores(o, root, p, err)) || (st = parse_memory(o, root, p, err)) ||
        (st = parse_timing(o, root, p, err)) || (st = parse_mesh(o, root, clock, p, err)) ||
        (st = parse_ops(o, root, clock, p, err)) || (st = parse_sources(o, root, p, err)))
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

static stdbp_status load(stdbp_yaml_doc *doc, const char *name, ovr *o, stdbp_hw_profile *p,
                         stdbp_err *err)
{
    stdbp_hw_profile *tmp = malloc(sizeof *tmp);
    stdbp_status st;
    if (!tmp) {
        stdbp_yaml_free(&doc);
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", name);
    }
    stdbp_hw_profile_defaults(tmp);
    st = parse(o, doc, tmp, err);
    if (!st && o && o->key && !o->hit)
        st = stdbp_err_set(err, STDBP_ECONFIG, "%s: no number at key '%s' to vary", name, o->key);
    stdbp_yaml_free(&doc);
    if (!st) {
        snprintf(tmp->source, sizeof tmp->source, "%s", name);
        *p = *tmp;
    }
    free(tmp);
    return st;
}

stdbp_status stdbp_hw_profile_load(const char *path, stdbp_hw_profile *p, stdbp_err *err)
{
    stdbp_yaml_doc *doc = NULL;
    stdbp_status st = stdbp_yaml_load_file(path, &doc, err);
    if (st)
        return st;
    return load(doc, path, NULL, p, err);
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
    return load(doc, name, NULL, p, err);
}

stdbp_status stdbp_hw_profile_load_variant(const char *path, const char *key, double value,
                                           stdbp_hw_profile *p, stdbp_err *err)
{
    stdbp_yaml_doc *doc = NULL;
    ovr o = {key, value, 0};
    const char *name = (path && path[0]) ? path : "default.yaml (built in)";
    stdbp_status st =
        (path && path[0])
            ? stdbp_yaml_load_file(path, &doc, err)
            : stdbp_yaml_load_string(stdbp_hw_default_profile_yaml,
                                     strlen(stdbp_hw_default_profile_yaml), name, &doc, err);
    if (st)
        return st;
    if (!key || !key[0])
        o.key = NULL;
    return load(doc, name, &o, p, err);
}
