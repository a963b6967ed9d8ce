/* NIR test helpers; see test_nir_util.h. */
#include "test_nir_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap/basic.h"

/* ---- dataset predicates ---------------------------------------------- */

static int is_f32(const stdbp_nir_value *v)
{
    return v && v->kind == STDBP_NIR_FLOAT && v->bits == 32;
}

static int is_i64(const stdbp_nir_value *v)
{
    return v && v->kind == STDBP_NIR_INT && v->bits == 64 && v->is_signed;
}

static int is_vstr(const stdbp_nir_value *v)
{
    return v && v->kind == STDBP_NIR_STRING && v->vlen && v->utf8;
}

/* v is an int64 array of rank `rank` (0: scalar) holding vals[0..n). */
static int ints_are(const stdbp_nir_value *v, int rank, const int64_t *vals, size_t n)
{
    if (!is_i64(v) || v->rank != rank || v->n != n || (rank == 1 && v->dims[0] != n))
        return 0;
    for (size_t k = 0; k < n; k++)
        if (v->i[k] != vals[k])
            return 0;
    return 1;
}

static int pair_is(const stdbp_nir_value *v, int64_t a, int64_t b)
{
    const int64_t p[2] = {a, b};
    return ints_are(v, 1, p, 2);
}

/* A float32 array of the given dims, every value equal to x. */
static int filled(const stdbp_nir_value *v, int rank, const size_t *dims, float x)
{
    if (!is_f32(v) || v->rank != rank)
        return 0;
    for (int k = 0; k < rank; k++)
        if (v->dims[k] != dims[k])
            return 0;
    for (size_t k = 0; k < v->n; k++)
        if (v->f[k] != (double)x)
            return 0;
    return 1;
}

/* ---- the graph expected for a net --------------------------------------- */

typedef struct exp_node {
    char name[48];
    const char *type;
    int layer; /* -1 for input and output */
} exp_node;

/* The chain of node names stdbp_nir_write makes for net (docs/NIR.md),
 * written out independently of the writer. Returns the count. */
static size_t expected_nodes(const stdbp_net *net, exp_node *e, size_t cap)
{
    size_t n = 0;
    stdbp_shape in = stdbp_net_layer(net, 0).in;
    int flat = in.h == 1 && in.w == 1;
#define ADD(l, suffix, t)                                                                          \
    do {                                                                                           \
        if (n < cap) {                                                                             \
            if ((int)(l) < 0)                                                                      \
                snprintf(e[n].name, sizeof e[n].name, "%s", suffix);                               \
            else                                                                                   \
                snprintf(e[n].name, sizeof e[n].name, "layer%02d_%s", (int)(l), suffix);           \
            e[n].type = t;                                                                         \
            e[n].layer = (int)(l);                                                                 \
        }                                                                                          \
        n++;                                                                                       \
    } while (0)
    ADD(-1, "input", "Input");
    for (size_t l = 0; l < stdbp_net_num_layers(net); l++) {
        switch (stdbp_net_layer(net, l).kind) {
        case STDBP_LAYER_DENSE:
            if (!flat)
                ADD((int)l, "flatten", "Flatten");
            ADD((int)l, "affine", "Affine");
            ADD((int)l, "i", "I");
            ADD((int)l, "if", "IF");
            flat = 1;
            break;
        case STDBP_LAYER_CONV2D:
            ADD((int)l, "conv2d", "Conv2d");
            ADD((int)l, "i", "I");
            ADD((int)l, "if", "IF");
            break;
        case STDBP_LAYER_POOL:
            ADD((int)l, "sumpool2d", "SumPool2d");
            ADD((int)l, "if", "IF");
            break;
        case STDBP_LAYER_FLATTEN:
            ADD((int)l, "flatten", "Flatten");
            flat = 1;
            break;
        }
    }
    ADD(-1, "output", "Output");
#undef ADD
    return n;
}

/* The datasets NIR's reader passes to each node type's constructor (any
 * other would be an unexpected keyword argument), "type" included. */
static const char *const *allowed(const char *type)
{
    static const char *const input[] = {"type", "shape", NULL};
    static const char *const affine[] = {"type", "weight", "bias", NULL};
    static const char *const conv[] = {"type",     "weight", "bias",        "stride", "padding",
                                       "dilation", "groups", "input_shape", NULL};
    static const char *const pool[] = {"type", "kernel_size", "stride", "padding", NULL};
    static const char *const flatten[] = {"type", "start_dim", "end_dim", "input_type", NULL};
    static const char *const integ[] = {"type", "r", NULL};
    static const char *const fire[] = {"type", "r", "v_threshold", "v_reset", NULL};
    if (!strcmp(type, "Input") || !strcmp(type, "Output"))
        return input;
    if (!strcmp(type, "Affine"))
        return affine;
    if (!strcmp(type, "Conv2d"))
        return conv;
    if (!strcmp(type, "SumPool2d"))
        return pool;
    if (!strcmp(type, "Flatten"))
        return flatten;
    if (!strcmp(type, "I"))
        return integ;
    if (!strcmp(type, "IF"))
        return fire;
    return NULL;
}

/* A NIR shape (rank 1 or 3) of a stdbp shape. */
static int shape_dims(stdbp_shape s, int flat, size_t *d)
{
    if (flat) {
        d[0] = (size_t)s.c * s.h * s.w;
        return 1;
    }
    d[0] = (size_t)s.c;
    d[1] = (size_t)s.h;
    d[2] = (size_t)s.w;
    return 3;
}

#define NOTE(flag, ...)                                                                            \
    do {                                                                                           \
        if ((flag) && n_diag++ < 12)                                                               \
            diag(__VA_ARGS__);                                                                     \
        (flag) = 0;                                                                                \
    } while (0)

void nir_check_graph(const stdbp_nir_graph *g, const stdbp_net *net, double enc_t_max,
                     const char *label)
{
    exp_node e[4 * 64 + 2];
    const size_t ne = expected_nodes(net, e, sizeof e / sizeof e[0]);
    const double *params = stdbp_net_params_const(net);
    const stdbp_neuron_params *np = stdbp_net_neuron(net);
    int n_diag = 0;

    /* 1. File-level strings. */
    int ok1 = is_vstr(&g->version) && g->version.rank == 0 &&
              !strcmp(g->version.s[0], STDBP_NIR_VERSION) && is_vstr(&g->type) &&
              g->type.rank == 0 && !strcmp(g->type.s[0], "NIRGraph") && is_vstr(&g->edges) &&
              g->edges.rank == 2 && g->edges.dims[1] == 2;
    ok(ok1, "%s: /version, /node/type = NIRGraph and /node/edges (E, 2) are vlen UTF-8", label);

    /* 2. Nodes and edges: exactly the chain. */
    int ok2 = g->n_nodes == ne && g->n_edges + 1 == ne;
    if (!ok2)
        diag("%zu nodes and %zu edges, want %zu and %zu", g->n_nodes, g->n_edges, ne, ne - 1);
    for (size_t k = 0; ok2 && k < ne; k++) {
        if (!stdbp_nir_node_find(g, e[k].name))
            NOTE(ok2, "node %s missing", e[k].name);
        else if (k + 1 < ne && (strcmp(stdbp_nir_edge_src(g, k), e[k].name) ||
                                strcmp(stdbp_nir_edge_dst(g, k), e[k + 1].name)))
            NOTE(ok2, "edge %zu is %s -> %s, want %s -> %s", k, stdbp_nir_edge_src(g, k),
                 stdbp_nir_edge_dst(g, k), e[k].name, e[k + 1].name);
    }
    ok(ok2, "%s: %zu nodes, edges input -> ... -> output in layer order", label, ne);

    /* 3. Types and datasets. */
    int ok3 = ok2;
    for (size_t k = 0; ok2 && k < ne; k++) {
        const stdbp_nir_node *nd = stdbp_nir_node_find(g, e[k].name);
        const stdbp_nir_value *t = stdbp_nir_param(nd, "type");
        const char *const *al = allowed(e[k].type);
        if (!is_vstr(t) || t->rank != 0 || strcmp(t->s[0], e[k].type)) {
            NOTE(ok3, "%s: type is not the vlen UTF-8 string %s", e[k].name, e[k].type);
            continue;
        }
        for (const char *const *a = al; *a; a++)
            if (!stdbp_nir_param(nd, *a))
                NOTE(ok3, "%s: no dataset %s", e[k].name, *a);
        for (size_t v = 0; v < nd->n_values; v++) {
            const stdbp_nir_value *x = &nd->values[v];
            int known = 0;
            for (const char *const *a = al; *a; a++)
                known |= !strcmp(*a, x->name);
            if (!known)
                NOTE(ok3, "%s: dataset %s is not a %s parameter", e[k].name, x->name, e[k].type);
            if (x->kind == STDBP_NIR_FLOAT && x->bits != 32)
                NOTE(ok3, "%s/%s: float%d, want float32", e[k].name, x->name, x->bits);
            if (x->kind == STDBP_NIR_INT && !is_i64(x))
                NOTE(ok3, "%s/%s: int%d, want int64", e[k].name, x->name, x->bits);
        }
        if (nd->n_meta)
            NOTE(ok3, "%s: node metadata (stdbp writes metadata on the graph only)", e[k].name);
    }
    ok(ok3, "%s: node types and datasets as NIR's reader takes them (float32, int64)", label);

    /* 4-7. Per node: shapes, weights, neurons, conv and pool parameters. */
    int ok4 = ok2, ok5 = ok2, ok6 = ok2, ok7 = ok2;
    stdbp_shape cur = stdbp_net_layer(net, 0).in;
    int flat = cur.h == 1 && cur.w == 1;
    size_t d[4];
    for (size_t k = 0; ok2 && k < ne; k++) {
        const stdbp_nir_node *nd = stdbp_nir_node_find(g, e[k].name);
        const char *t = e[k].type;
        const stdbp_layer_info L =
            e[k].layer >= 0 ? stdbp_net_layer(net, (size_t)e[k].layer) : (stdbp_layer_info){0};
        const double *p = params + L.param_offset;
        int64_t v[4];
        if (!strcmp(t, "Input") || !strcmp(t, "Output")) {
            const int r = shape_dims(cur, flat, d);
            for (int a = 0; a < r; a++)
                v[a] = (int64_t)d[a];
            if (!ints_are(stdbp_nir_param(nd, "shape"), 1, v, (size_t)r))
                NOTE(ok4, "%s: shape is not int64 of the %s shape", e[k].name, t);
        } else if (!strcmp(t, "Flatten")) {
            const int r = shape_dims(cur, flat, d);
            const int64_t zero = 0, minus1 = -1;
            for (int a = 0; a < r; a++)
                v[a] = (int64_t)d[a];
            if (!ints_are(stdbp_nir_param(nd, "start_dim"), 0, &zero, 1) ||
                !ints_are(stdbp_nir_param(nd, "end_dim"), 0, &minus1, 1) ||
                !ints_are(stdbp_nir_param(nd, "input_type"), 1, v, (size_t)r))
                NOTE(ok4, "%s: want start_dim 0, end_dim -1 (int64 scalars), input_type",
                     e[k].name);
            flat = 1;
        } else if (!strcmp(t, "Affine")) {
            const size_t ni = (size_t)L.in.c * L.in.h * L.in.w, no = (size_t)L.out.c;
            const stdbp_nir_value *w = stdbp_nir_param(nd, "weight");
            const size_t wd[2] = {no, ni}, bd[1] = {no};
            if (!is_f32(w) || w->rank != 2 || w->dims[0] != no || w->dims[1] != ni) {
                NOTE(ok5, "%s: weight is not float32 (%zu, %zu)", e[k].name, no, ni);
            } else {
                for (size_t i = 0; i < ni; i++)
                    for (size_t o = 0; o < no; o++)
                        if (w->f[o * ni + i] != (double)(float)p[i * no + o]) {
                            NOTE(ok5, "%s: weight[%zu][%zu] = %.9g, checkpoint W[%zu][%zu] = %.9g",
                                 e[k].name, o, i, w->f[o * ni + i], i, o, p[i * no + o]);
                            i = ni;
                            break;
                        }
                (void)wd;
            }
            if (!filled(stdbp_nir_param(nd, "bias"), 1, bd, 0.0f))
                NOTE(ok6, "%s: bias is not float32 zeros (%zu)", e[k].name, no);
        } else if (!strcmp(t, "Conv2d")) {
            const size_t ci = (size_t)L.in.c, co = (size_t)L.out.c, kk = (size_t)L.kernel;
            const stdbp_nir_value *w = stdbp_nir_param(nd, "weight");
            const size_t bd[1] = {co};
            if (!is_f32(w) || w->rank != 4 || w->dims[0] != co || w->dims[1] != ci ||
                w->dims[2] != kk || w->dims[3] != kk) {
                NOTE(ok5, "%s: weight is not float32 (%zu, %zu, %zu, %zu)", e[k].name, co, ci, kk,
                     kk);
            } else {
                size_t bad = 0;
                for (size_t c = 0; c < ci; c++)
                    for (size_t y = 0; y < kk; y++)
                        for (size_t x = 0; x < kk; x++)
                            for (size_t o = 0; o < co; o++)
                                bad += w->f[((o * ci + c) * kk + y) * kk + x] !=
                                       (double)(float)p[((c * kk + y) * kk + x) * co + o];
                if (bad)
                    NOTE(ok5, "%s: %zu weights differ from the checkpoint's", e[k].name, bad);
            }
            if (!filled(stdbp_nir_param(nd, "bias"), 1, bd, 0.0f))
                NOTE(ok6, "%s: bias is not float32 zeros", e[k].name);
            const int64_t one = 1;
            if (!pair_is(stdbp_nir_param(nd, "stride"), L.stride, L.stride) ||
                !pair_is(stdbp_nir_param(nd, "padding"), L.padding, L.padding) ||
                !pair_is(stdbp_nir_param(nd, "dilation"), 1, 1) ||
                !ints_are(stdbp_nir_param(nd, "groups"), 0, &one, 1) ||
                !pair_is(stdbp_nir_param(nd, "input_shape"), L.in.h, L.in.w))
                NOTE(ok7, "%s: stride, padding, dilation, groups or input_shape wrong", e[k].name);
        } else if (!strcmp(t, "SumPool2d")) {
            if (!pair_is(stdbp_nir_param(nd, "kernel_size"), L.kernel, L.kernel) ||
                !pair_is(stdbp_nir_param(nd, "stride"), L.stride, L.stride) ||
                !pair_is(stdbp_nir_param(nd, "padding"), L.padding, L.padding))
                NOTE(ok7, "%s: kernel_size, stride or padding wrong", e[k].name);
        } else if (!strcmp(t, "I") || !strcmp(t, "IF")) {
            const int r = shape_dims(L.out, L.kind == STDBP_LAYER_DENSE, d);
            const float th = L.kind == STDBP_LAYER_POOL ? (float)STDBP_NIR_POOL_THRESHOLD
                                                        : nextafterf((float)np->theta, -INFINITY);
            if (!filled(stdbp_nir_param(nd, "r"), r, d, 1.0f))
                NOTE(ok6, "%s: r is not float32 ones of the layer's shape", e[k].name);
            if (!strcmp(t, "IF") && !filled(stdbp_nir_param(nd, "v_threshold"), r, d, th))
                NOTE(ok6, "%s: v_threshold is not float32 %.9g of the layer's shape", e[k].name,
                     (double)th);
            if (!strcmp(t, "IF") && !filled(stdbp_nir_param(nd, "v_reset"), r, d, -1e30f))
                NOTE(ok6, "%s: v_reset is not float32 -1e30 of the layer's shape", e[k].name);
        }
        if (e[k].layer >= 0 && (k + 1 == ne || e[k + 1].layer != e[k].layer)) {
            cur = L.out; /* the last node of a layer */
            flat = flat || L.kind == STDBP_LAYER_DENSE;
        }
    }
    ok(ok4, "%s: Input, Output and Flatten shapes (int64)", label);
    ok(ok5, "%s: every Affine and Conv2d weight = the checkpoint's, rounded to float32", label);
    ok(ok6,
       "%s: biases 0, r 1, v_threshold one float32 below theta = %g (0.5 after pooling), "
       "v_reset -1e30",
       label, np->theta);
    ok(ok7, "%s: Conv2d and SumPool2d parameters", label);

    /* 8. NIR's type inference along the chain (nir.read(type_check=True)). */
    int ok8 = ok2;
    int64_t T[8];
    int rT = 0;
    for (size_t k = 0; ok8 && k < ne; k++) {
        const stdbp_nir_node *nd = stdbp_nir_node_find(g, e[k].name);
        const char *t = e[k].type;
        const stdbp_nir_value *x;
        if (!strcmp(t, "Input")) {
            x = stdbp_nir_param(nd, "shape");
            rT = (int)x->n;
            memcpy(T, x->i, x->n * sizeof *T);
        } else if (!strcmp(t, "Output") || !strcmp(t, "Flatten")) {
            x = stdbp_nir_param(nd, !strcmp(t, "Output") ? "shape" : "input_type");
            if (!ints_are(x, 1, T, (size_t)rT))
                NOTE(ok8, "%s: input type does not match its source's output", e[k].name);
            if (!strcmp(t, "Flatten")) {
                int64_t prod = 1;
                for (int a = 0; a < rT; a++)
                    prod *= T[a];
                T[0] = prod;
                rT = 1;
            }
        } else if (!strcmp(t, "Affine")) {
            x = stdbp_nir_param(nd, "weight");
            if (rT != 1 || T[0] != (int64_t)x->dims[1])
                NOTE(ok8, "%s: input (%lld) != weight columns %zu", e[k].name, (long long)T[0],
                     x->dims[1]);
            T[0] = (int64_t)x->dims[0];
        } else if (!strcmp(t, "Conv2d") || !strcmp(t, "SumPool2d")) {
            const int conv = !strcmp(t, "Conv2d");
            const stdbp_nir_value *s = stdbp_nir_param(nd, "stride"),
                                  *pd = stdbp_nir_param(nd, "padding");
            x = stdbp_nir_param(nd, conv ? "weight" : "kernel_size");
            if (rT != 3 || (conv && (T[0] != (int64_t)x->dims[1] ||
                                     !ints_are(stdbp_nir_param(nd, "input_shape"), 1, T + 1, 2))))
                NOTE(ok8, "%s: input type does not match", e[k].name);
            for (int a = 0; a < 2; a++) {
                const int64_t kk = conv ? (int64_t)x->dims[2 + a] : x->i[a];
                T[1 + a] = (T[1 + a] + 2 * pd->i[a] - (kk - 1) - 1) / s->i[a] + 1;
            }
            if (conv)
                T[0] = (int64_t)x->dims[0];
        } else { /* I, IF: r's shape */
            x = stdbp_nir_param(nd, "r");
            int same = x->rank == rT;
            for (int a = 0; same && a < rT; a++)
                same = (int64_t)x->dims[a] == T[a];
            if (!same)
                NOTE(ok8, "%s: r's shape differs from its input type", e[k].name);
        }
    }
    ok(ok8, "%s: NIR's type inference matches on every edge", label);

    /* 9. Metadata. */
    int ok9 = 1;
    static const char *const strs[] = {
        "generator", "neuron_model", "fire_rule", "pooling", "time_unit",
        "encoding",  "decoding",     "weights",   "layers",  NULL};
    for (const char *const *s = strs; *s; s++) {
        const stdbp_nir_value *x = stdbp_nir_value_find(g->meta, g->n_meta, *s);
        if (!is_vstr(x) || x->rank != 0 || !x->s[0][0])
            NOTE(ok9, "metadata %s: not a vlen UTF-8 string", *s);
    }
    const stdbp_nir_value *th = stdbp_nir_value_find(g->meta, g->n_meta, "theta"),
                          *tm = stdbp_nir_value_find(g->meta, g->n_meta, "t_max"),
                          *et = stdbp_nir_value_find(g->meta, g->n_meta, "encoding_t_max");
    const int64_t one = 1, map = STDBP_NIR_MAPPING;
    if (!th || th->kind != STDBP_NIR_FLOAT || th->bits != 64 || th->rank || th->f[0] != np->theta)
        NOTE(ok9, "metadata theta is not float64 %g", np->theta);
    if (!tm || tm->kind != STDBP_NIR_FLOAT || tm->bits != 64 || tm->rank || tm->f[0] != np->t_max)
        NOTE(ok9, "metadata t_max is not float64 %g", np->t_max);
    if (!et || et->kind != STDBP_NIR_FLOAT || et->rank || (enc_t_max > 0 && et->f[0] != enc_t_max))
        NOTE(ok9, "metadata encoding_t_max is not float64 %g", enc_t_max);
    if (!ints_are(stdbp_nir_value_find(g->meta, g->n_meta, "fire_once"), 0, &one, 1) ||
        !ints_are(stdbp_nir_value_find(g->meta, g->n_meta, "stdbp_mapping"), 0, &map, 1) ||
        !is_i64(stdbp_nir_value_find(g->meta, g->n_meta, "encoding_zero_silent")) ||
        !is_i64(stdbp_nir_value_find(g->meta, g->n_meta, "encoding_normalise")))
        NOTE(ok9, "metadata fire_once, stdbp_mapping or encoding flags missing");
    for (size_t k = 0; k < g->n_meta; k++)
        if (g->meta[k].rank != 0)
            NOTE(ok9, "metadata %s is not a scalar", g->meta[k].name);
    ok(ok9, "%s: metadata (theta, t_max, fire_once, encoding, ...) as scalars", label);
}

/* ---- clock-driven simulation ------------------------------------------ */

enum { S_INPUT, S_AFFINE, S_CONV, S_POOL, S_FLATTEN, S_I, S_IF, S_OUTPUT };

typedef struct stage {
    const char *name;
    int kind;
    size_t n_in, n_out;
    int ic, ih, iw, oc, oh, ow; /* 3-D shapes (conv, pool) */
    int k[2], st[2], pad[2];
    const double *w, *b, *r, *vth; /* parameters from the file */
    double *a, *c;                 /* this step's output: impulses, level */
    int has_a, has_c;
    double *v;     /* I, IF: state */
    long *first;   /* step of the first impulse of each output value */
    double *times; /* first * h after a run */
} stage;

struct nir_sim {
    size_t n;
    stage *s;
    double t_max;
    long *in_step; /* the input's grid steps */
};

static size_t prod(const stdbp_nir_value *v)
{
    size_t p = 1;
    for (int a = 0; a < v->rank; a++)
        p *= v->dims[a];
    return v->rank ? p : 1;
}

void nir_sim_destroy(nir_sim **sp)
{
    nir_sim *sim = sp ? *sp : NULL;
    if (!sim)
        return;
    for (size_t k = 0; k < sim->n; k++) {
        stage *s = &sim->s[k];
        free(s->a);
        free(s->c);
        free(s->v);
        free(s->first);
        free(s->times);
    }
    free(sim->s);
    free(sim->in_step);
    free(sim);
    *sp = NULL;
}

static stdbp_status bad(stdbp_err *err, const char *node, const char *what)
{
    return stdbp_err_set(err, STDBP_EFORMAT, "NIR simulation: node %s: %s", node, what);
}

stdbp_status nir_sim_create(const stdbp_nir_graph *g, nir_sim **out, stdbp_err *err)
{
    nir_sim *sim = calloc(1, sizeof *sim);
    const char *name = "input";
    stdbp_status st = STDBP_OK;
    int c = 0, h = 0, w = 0; /* the current 3-D shape, when there is one */
    size_t n_cur = 0;
    *out = NULL;
    if (!sim || !(sim->s = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *sim->s)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    const stdbp_nir_value *fo = stdbp_nir_value_find(g->meta, g->n_meta, "fire_once"),
                          *tm = stdbp_nir_value_find(g->meta, g->n_meta, "t_max");
    sim->t_max = tm && tm->kind == STDBP_NIR_FLOAT ? tm->f[0] : INFINITY;
    if (!fo || fo->kind != STDBP_NIR_INT || fo->i[0] != 1) {
        free(sim->s);
        free(sim);
        return stdbp_err_set(err, STDBP_EFORMAT, "NIR simulation: metadata fire_once != 1");
    }
    /* Follow the chain from "input". */
    while (st == STDBP_OK && name) {
        const stdbp_nir_node *nd = stdbp_nir_node_find(g, name);
        const char *type = stdbp_nir_node_type(nd);
        stage *s = &sim->s[sim->n];
        if (!nd || sim->n == g->n_nodes) {
            st = bad(err, name, "missing, or the edges loop");
            break;
        }
        sim->n++;
        s->name = nd->name;
        s->n_in = n_cur;
        if (!strcmp(type, "Input")) {
            const stdbp_nir_value *sh = stdbp_nir_param(nd, "shape");
            s->kind = S_INPUT;
            s->n_out = 1;
            for (size_t a = 0; a < sh->n; a++)
                s->n_out *= (size_t)sh->i[a];
            if (sh->n == 3) {
                c = (int)sh->i[0];
                h = (int)sh->i[1];
                w = (int)sh->i[2];
            }
        } else if (!strcmp(type, "Affine")) {
            const stdbp_nir_value *wt = stdbp_nir_param(nd, "weight");
            s->kind = S_AFFINE;
            s->w = wt->f;
            s->b = stdbp_nir_param(nd, "bias")->f;
            s->n_out = wt->dims[0];
            if (wt->dims[1] != n_cur)
                st = bad(err, name, "weight columns != input size");
        } else if (!strcmp(type, "Conv2d") || !strcmp(type, "SumPool2d")) {
            const int conv = !strcmp(type, "Conv2d");
            const stdbp_nir_value *wt = stdbp_nir_param(nd, conv ? "weight" : "kernel_size"),
                                  *sv = stdbp_nir_param(nd, "stride"),
                                  *pv = stdbp_nir_param(nd, "padding");
            s->kind = conv ? S_CONV : S_POOL;
            s->ic = c;
            s->ih = h;
            s->iw = w;
            s->oc = conv ? (int)wt->dims[0] : c;
            for (int a = 0; a < 2; a++) {
                s->k[a] = conv ? (int)wt->dims[2 + a] : (int)wt->i[a];
                s->st[a] = (int)sv->i[a];
                s->pad[a] = (int)pv->i[a];
            }
            if (conv) {
                const stdbp_nir_value *dl = stdbp_nir_param(nd, "dilation"),
                                      *gr = stdbp_nir_param(nd, "groups");
                s->w = wt->f;
                s->b = stdbp_nir_param(nd, "bias")->f;
                if (dl->i[0] != 1 || dl->i[1] != 1 || gr->i[0] != 1 || (int)wt->dims[1] != c)
                    st = bad(err, name, "dilation/groups != 1 or C_in != input channels");
            }
            s->oh = (h + 2 * s->pad[0] - s->k[0]) / s->st[0] + 1;
            s->ow = (w + 2 * s->pad[1] - s->k[1]) / s->st[1] + 1;
            c = s->oc;
            h = s->oh;
            w = s->ow;
            s->n_out = (size_t)c * h * w;
            if (!c || (size_t)s->ic * s->ih * s->iw != n_cur)
                st = bad(err, name, "input is not 3-D");
        } else if (!strcmp(type, "Flatten") || !strcmp(type, "Output")) {
            s->kind = type[0] == 'F' ? S_FLATTEN : S_OUTPUT;
            s->n_out = n_cur;
            if (s->kind == S_FLATTEN)
                c = h = w = 0;
        } else if (!strcmp(type, "I") || !strcmp(type, "IF")) {
            const stdbp_nir_value *r = stdbp_nir_param(nd, "r");
            s->kind = type[1] == 'F' ? S_IF : S_I;
            s->r = r->f;
            s->n_out = prod(r);
            if (s->kind == S_IF)
                s->vth = stdbp_nir_param(nd, "v_threshold")->f;
            if (s->n_out != n_cur)
                st = bad(err, name, "r's size != input size");
        } else {
            st = bad(err, name, "type not simulated");
        }
        n_cur = s->n_out;
        if (st == STDBP_OK) {
            const size_t m = s->n_out ? s->n_out : 1;
            if (!(s->a = calloc(m, sizeof *s->a)) || !(s->c = calloc(m, sizeof *s->c)) ||
                !(s->v = calloc(m, sizeof *s->v)) || !(s->first = calloc(m, sizeof *s->first)) ||
                !(s->times = calloc(m, sizeof *s->times)))
                st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        }
        /* Next: the target of the edge from this node. */
        const char *next = NULL;
        for (size_t k = 0; k < g->n_edges; k++)
            if (!strcmp(stdbp_nir_edge_src(g, k), name))
                next = stdbp_nir_edge_dst(g, k);
        if (s->kind == S_OUTPUT)
            next = NULL;
        else if (!next && st == STDBP_OK)
            st = bad(err, name, "no outgoing edge before the output");
        name = next;
    }
    if (st == STDBP_OK && !(sim->in_step = calloc(sim->s[0].n_out, sizeof *sim->in_step)))
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if (st != STDBP_OK) {
        nir_sim_destroy(&sim);
        return st;
    }
    *out = sim;
    return STDBP_OK;
}

/* out = W x (W is n_out x n_in, row-major). */
static void affine(const stage *s, const double *x, double *y)
{
    for (size_t o = 0; o < s->n_out; o++) {
        double acc = 0.0;
        const double *row = s->w + o * s->n_in;
        for (size_t i = 0; i < s->n_in; i++)
            acc += row[i] * x[i];
        y[o] = acc;
    }
}

/* Cross-correlation (weight (C_out, C_in, kH, kW)), or window sums for a
 * pool; zero padding. */
static void window(const stage *s, const double *x, double *y)
{
    const int conv = s->kind == S_CONV;
    for (int o = 0; o < s->oc; o++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++) {
                double acc = 0.0;
                for (int ci = conv ? 0 : o; ci < (conv ? s->ic : o + 1); ci++)
                    for (int ky = 0; ky < s->k[0]; ky++) {
                        const int iy = oy * s->st[0] - s->pad[0] + ky;
                        if (iy < 0 || iy >= s->ih)
                            continue;
                        for (int kx = 0; kx < s->k[1]; kx++) {
                            const int ix = ox * s->st[1] - s->pad[1] + kx;
                            if (ix < 0 || ix >= s->iw)
                                continue;
                            const double xv = x[((size_t)ci * s->ih + iy) * s->iw + ix];
                            acc += conv ? s->w[(((size_t)o * s->ic + ci) * s->k[0] + ky) * s->k[1] +
                                               kx] *
                                              xv
                                        : xv;
                        }
                    }
                y[((size_t)o * s->oh + oy) * s->ow + ox] = acc;
            }
}

static int any_nonzero(const double *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (x[k] != 0.0)
            return 1;
    return 0;
}

void nir_sim_run(nir_sim *sim, const double *in_times, double h, double horizon)
{
    const long steps = (long)ceil(horizon / h);
    for (size_t k = 0; k < sim->n; k++) {
        stage *s = &sim->s[k];
        memset(s->v, 0, s->n_out * sizeof *s->v);
        for (size_t j = 0; j < s->n_out; j++)
            s->first[j] = -1;
    }
    for (size_t j = 0; j < sim->s[0].n_out; j++) /* the first grid time >= t */
        sim->in_step[j] =
            in_times[j] < INFINITY && in_times[j] >= 0 ? (long)ceil(in_times[j] / h - 1e-9) : -1;
    for (long step = 0; step <= steps; step++) {
        const double t = (double)step * h;
        const stage *prev = NULL;
        for (size_t k = 0; k < sim->n; k++) {
            stage *s = &sim->s[k];
            const size_t n = s->n_out;
            s->has_a = s->has_c = 0;
            switch (s->kind) {
            case S_INPUT:
                for (size_t j = 0; j < n; j++) {
                    s->a[j] = sim->in_step[j] == step;
                    s->has_a |= sim->in_step[j] == step;
                }
                memset(s->c, 0, n * sizeof *s->c);
                break;
            case S_AFFINE:
            case S_CONV:
            case S_POOL:
                if ((s->has_a = prev->has_a))
                    (s->kind == S_AFFINE ? affine : window)(s, prev->a, s->a);
                else
                    memset(s->a, 0, n * sizeof *s->a);
                /* The level: W c plus a constant bias current. */
                if (prev->has_c)
                    (s->kind == S_AFFINE ? affine : window)(s, prev->c, s->c);
                else
                    memset(s->c, 0, n * sizeof *s->c);
                if (s->b)
                    for (size_t j = 0; j < n; j++)
                        s->c[j] += s->b[s->kind == S_AFFINE ? j : j / ((size_t)s->oh * s->ow)];
                s->has_c = any_nonzero(s->c, n);
                break;
            case S_FLATTEN:
            case S_OUTPUT:
                memcpy(s->a, prev->a, n * sizeof *s->a);
                memcpy(s->c, prev->c, n * sizeof *s->c);
                s->has_a = prev->has_a;
                s->has_c = prev->has_c;
                break;
            case S_I: /* dv/dt = r I: impulses jump, levels ramp; out = v */
                for (size_t j = 0; j < n; j++) {
                    s->v[j] += s->r[j] * (prev->a[j] + prev->c[j] * h);
                    s->c[j] = s->v[j];
                    s->a[j] = 0.0;
                }
                s->has_c = any_nonzero(s->c, n);
                break;
            case S_IF: /* v(t) with this step's impulses; fire once; then ramp */
                for (size_t j = 0; j < n; j++) {
                    s->a[j] = 0.0;
                    s->c[j] = 0.0;
                    if (s->first[j] >= 0)
                        continue;
                    s->v[j] += s->r[j] * prev->a[j];
                    if (s->v[j] >= s->vth[j] && t <= sim->t_max) {
                        s->a[j] = 1.0;
                        s->has_a = 1;
                    }
                    s->v[j] += s->r[j] * prev->c[j] * h;
                }
                break;
            }
            if (s->has_a)
                for (size_t j = 0; j < n; j++)
                    if (s->a[j] != 0.0 && s->first[j] < 0)
                        s->first[j] = step;
            prev = s;
        }
    }
    for (size_t k = 0; k < sim->n; k++) {
        stage *s = &sim->s[k];
        for (size_t j = 0; j < s->n_out; j++)
            s->times[j] = s->first[j] >= 0 ? (double)s->first[j] * h : INFINITY;
    }
}

const double *nir_sim_times(const nir_sim *sim, const char *name, size_t *n)
{
    for (size_t k = 0; k < sim->n; k++)
        if (!strcmp(sim->s[k].name, name)) {
            if (n)
                *n = sim->s[k].n_out;
            return sim->s[k].times;
        }
    return NULL;
}

/* ---- simulation against the exact forward ------------------------------- */

/* Is the exact time tr consistent with the grid time ts? The crossing
 * lies in (ts - h, ts]; a silent simulation also allows a crossing in the
 * last step before the horizon or the window's end. v_threshold is one
 * float32 ulp below theta (6e-8 at theta 1), so a float64 simulation may
 * reach it a few 1e-8 before theta: 1e-6 of slack on that side. */
static int agrees(double tr, double ts, double h, double horizon, double t_max)
{
    if (ts == INFINITY)
        return tr == INFINITY || tr > horizon - h || tr > t_max - h;
    return tr > ts - h - 1e-9 && tr <= ts + 1e-6;
}

void nir_check_simulation(const stdbp_nir_graph *g, const stdbp_net *net, const double *inputs,
                          size_t n_samples, double h, const char *label)
{
    const size_t L = stdbp_net_num_layers(net), n_in = stdbp_net_input_size(net);
    const stdbp_neuron_params *np = stdbp_net_neuron(net);
    stdbp_net **one = calloc(L, sizeof *one);
    stdbp_ws **ows = calloc(L, sizeof *ows);
    stdbp_ws *ws = NULL;
    nir_sim *sim = NULL;
    stdbp_err err;
    size_t bad_layer = 0, checked = 0, fired = 0, bad_out = 0, same_class = 0;
    double max_dev = 0.0;
    int n_diag = 0, setup = one && ows;

    if (setup && nir_sim_create(g, &sim, &err) != STDBP_OK) {
        diag("%s", err.msg);
        setup = 0;
    }
    if (setup && stdbp_ws_create(net, &ws, &err) != STDBP_OK)
        setup = 0;
    /* One single-layer net per layer, with the weights as the file holds
     * them (float32): the reference for that layer alone. */
    for (size_t l = 0; setup && l < L; l++) {
        const stdbp_layer_info I = stdbp_net_layer(net, l);
        const stdbp_layer_spec spec = {I.kind, I.out.c, I.kernel, I.stride, I.padding};
        if (stdbp_net_create(I.in, &spec, 1, np, &one[l], &err) != STDBP_OK ||
            stdbp_ws_create(one[l], &ows[l], &err) != STDBP_OK) {
            diag("layer %zu: %s", l, err.msg);
            setup = 0;
            break;
        }
        double *p = stdbp_net_params(one[l]);
        const double *q = stdbp_net_params_const(net) + I.param_offset;
        for (size_t k = 0; k < I.param_count; k++)
            p[k] = (double)(float)q[k];
    }
    ok(setup, "%s: simulator and reference layers built from the NIR file", label);
    /* End to end, the grid errors of successive layers add up: each layer
     * is within h of exact given its inputs, and an input moved by d moves
     * a spike by sum(w d) / S. Allow 4 h per spiking layer. */
    size_t spiking = 0;
    for (size_t l = 0; l < L; l++)
        spiking += stdbp_net_layer(net, l).kind != STDBP_LAYER_FLATTEN;
    const double tol = 4.0 * h * (double)spiking;

    for (size_t s = 0; setup && s < n_samples; s++) {
        const double *x = inputs + s * n_in;
        const double *exact = stdbp_net_forward(net, ws, x);
        double horizon = 1.0;
        for (size_t l = 0; l < L; l++) {
            const double *t = stdbp_ws_layer_times(ws, l);
            const stdbp_layer_info I = stdbp_net_layer(net, l);
            for (size_t j = 0; j < (size_t)I.out.c * I.out.h * I.out.w; j++)
                if (t[j] < INFINITY && t[j] + 1.0 > horizon)
                    horizon = t[j] + 1.0;
        }
        nir_sim_run(sim, x, h, horizon);
        const double *prev = nir_sim_times(sim, "input", NULL);
        char name[48];
        for (size_t l = 0; l < L; l++) {
            const stdbp_layer_info I = stdbp_net_layer(net, l);
            const size_t m = (size_t)I.out.c * I.out.h * I.out.w;
            snprintf(name, sizeof name, "layer%02u_%s", (unsigned)l,
                     I.kind == STDBP_LAYER_FLATTEN ? "flatten" : "if");
            const double *simt = nir_sim_times(sim, name, NULL);
            const double *ref = stdbp_net_forward(one[l], ows[l], prev);
            for (size_t j = 0; simt && j < m; j++) {
                const int exact_kind = I.kind == STDBP_LAYER_POOL || I.kind == STDBP_LAYER_FLATTEN;
                const int good =
                    exact_kind ? ref[j] == simt[j] : agrees(ref[j], simt[j], h, horizon, np->t_max);
                checked++;
                if (!good && bad_layer++ < 5)
                    diag("sample %zu layer %zu neuron %zu: exact %.9g, simulated %.9g", s, l, j,
                         ref[j], simt[j]);
            }
            if (!simt)
                NOTE(setup, "no node %s in the simulation", name);
            prev = simt;
        }
        /* The network's output against the full exact forward. */
        size_t n_out;
        const double *out = nir_sim_times(sim, "output", &n_out);
        size_t best_e = 0, best_s = 0;
        for (size_t j = 0; out && j < n_out; j++) {
            if (exact[j] < exact[best_e])
                best_e = j;
            if (out[j] < out[best_s])
                best_s = j;
            if (exact[j] < INFINITY && out[j] < INFINITY) {
                fired++;
                if (fabs(out[j] - exact[j]) > max_dev)
                    max_dev = fabs(out[j] - exact[j]);
            } else if (!(exact[j] == INFINITY && out[j] == INFINITY)) {
                bad_out++;
                if (n_diag++ < 12)
                    diag("sample %zu output %zu: exact %.9g, simulated %.9g", s, j, exact[j],
                         out[j]);
            }
        }
        same_class += best_e == best_s || exact[best_s] - exact[best_e] <= tol; /* near-ties */
    }
    ok(setup && bad_layer == 0 && checked > 0,
       "%s: every layer's simulated spike times = exact forward within h = %g (%zu neurons x "
       "samples)",
       label, h, checked);
    diag("%s: output spike times within %.3g of stdbp_net_forward (%zu fired; bound %.3g); "
         "class agrees on %zu of %zu",
         label, max_dev, fired, tol, same_class, n_samples);
    ok(setup && bad_out == 0 && fired > 0 && max_dev <= tol && same_class == n_samples,
       "%s: simulated output spikes = stdbp_net_forward within %g (%zu spikes, max %.3g)", label,
       tol, fired, max_dev);
    for (size_t l = 0; one && l < L; l++) {
        stdbp_ws_destroy(&ows[l]);
        stdbp_net_destroy(&one[l]);
    }
    free(one);
    free(ows);
    stdbp_ws_destroy(&ws);
    nir_sim_destroy(&sim);
}
