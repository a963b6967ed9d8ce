/* Fixed-point gradient accumulation: the rounding rule, the clamp, NaN,
 * the vectorised row path against the scalar one, and batch sums that are
 * bitwise the same in any order (the point of fixed point). */
#include "core/grad_fixed.h"
#include "test_net_util.h"

static void test_rounding(void)
{
    const int64_t one = (int64_t)1 << 32, lim = (int64_t)1 << 51;
    ok(stdbp_grad_to_fixed(1.0) == one && stdbp_grad_to_fixed(-0.5) == -one / 2,
       "1.0 -> 2^32, -0.5 -> -2^31");
    ok(stdbp_grad_to_fixed(0x1p-33) == 0 && stdbp_grad_to_fixed(0x3p-33) == 2 &&
           stdbp_grad_to_fixed(-0x3p-33) == -2 && stdbp_grad_to_fixed(0x1p-34) == 0,
       "round to nearest, ties to even");
    ok(stdbp_grad_to_fixed(1e30) == lim && stdbp_grad_to_fixed(-INFINITY) == -lim &&
           stdbp_grad_to_fixed(STDBP_GRAD_FIXED_LIMIT) == lim &&
           stdbp_grad_to_fixed(-STDBP_GRAD_FIXED_LIMIT * 2) == -lim,
       "clamped to +-STDBP_GRAD_FIXED_LIMIT");
    ok(stdbp_grad_to_fixed(NAN) == 0, "NaN -> 0 (backward reports it as STDBP_ENUMERIC)");
    ok(stdbp_grad_from_fixed(stdbp_grad_to_fixed(0.1234567)) - 0.1234567 < 0x1p-33 &&
           stdbp_grad_from_fixed(-3 * one) == -3.0,
       "from_fixed inverts to_fixed within 2^-33");
}

static void test_row(void)
{
    stdbp_rng r;
    double d[37], keep[37];
    int64_t acc[37], want[37];
    int same = 1;
    stdbp_rng_seed(&r, 41);
    for (int i = 0; i < 37; i++) {
        keep[i] = d[i] = stdbp_rng_normal(&r) * pow(10.0, (double)(i % 9) - 3);
        acc[i] = want[i] = (int64_t)stdbp_rng_next(&r) >> 8;
    }
    keep[5] = d[5] = 1e40;
    keep[6] = d[6] = -1e40;
    int bad = stdbp_fixed_add_row(acc, d, 37);
    for (int i = 0; i < 37; i++)
        same &= acc[i] == want[i] + stdbp_grad_to_fixed(keep[i]);
    ok(same && !bad, "row accumulation = scalar to_fixed, element by element");
    d[3] = NAN;
    d[30] = INFINITY;
    ok(stdbp_fixed_add_row(acc, d, 37) != 0, "row accumulation flags NaN/Inf");
}

/* Per-sample gradients of a small dense+conv network over 24 samples,
 * summed in three orders and as two "ranks" of 12. */
static void test_order(void)
{
    const stdbp_layer_spec s[] = {spec_conv(3, 3, 1, 1), spec_flatten(), spec_dense(4)};
    stdbp_net *net = build_net((stdbp_shape){1, 5, 5}, s, 3, NULL);
    stdbp_ws *ws = build_ws(net);
    const size_t np = stdbp_net_num_params(net);
    enum { NS = 24 };
    double in[NS][25], dl[4];
    int64_t *a = calloc(np, 8), *b = calloc(np, 8), *c0 = calloc(np, 8), *c1 = calloc(np, 8);
    double *da = calloc(np, 8), *db = calloc(np, 8);
    stdbp_rng r;
    stdbp_err err;
    int order[NS];
    if (!a || !b || !c0 || !c1 || !da || !db)
        bail("out of memory");
    stdbp_init_params ip = stdbp_init_defaults();
    ip.active_fraction = 0.8;
    stdbp_net_init(net, &ip, 7);
    stdbp_rng_seed(&r, 42);
    for (int k = 0; k < NS; k++) {
        random_times(&r, in[k], 25, 0.2);
        order[k] = k;
    }
    for (int k = NS - 1; k > 0; k--) { /* a shuffled order */
        int j = (int)stdbp_rng_below(&r, (uint64_t)k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    for (int pass = 0; pass < 3; pass++)
        for (int k = 0; k < NS; k++) {
            const int i = pass == 0 ? k : pass == 1 ? NS - 1 - k : order[k];
            const double *out = stdbp_net_forward(net, ws, in[i]);
            for (int j = 0; j < 4; j++)
                dl[j] = out[j] < INFINITY ? 0.3 * (j + 1) - 0.1 * i : 0.0;
            int64_t *dst = pass == 0 ? a : pass == 1 ? b : (k < NS / 2 ? c0 : c1);
            if (stdbp_net_backward(net, ws, dl, dst, NULL, &err) != STDBP_OK)
                bail("backward: %s", err.msg);
            if (pass < 2) { /* the same in double, for contrast */
                int64_t *one = calloc(np, 8);
                if (!one || stdbp_net_backward(net, ws, dl, one, NULL, &err) != STDBP_OK)
                    bail("backward");
                for (size_t q = 0; q < np; q++)
                    (pass == 0 ? da : db)[q] += stdbp_grad_from_fixed(one[q]) * (1.0 + 1e-3 * i);
                free(one);
            }
        }
    for (size_t q = 0; q < np; q++)
        c0[q] += c1[q];
    size_t nonzero = 0, double_differs = 0;
    for (size_t q = 0; q < np; q++) {
        nonzero += a[q] != 0;
        double_differs += da[q] != db[q];
    }
    ok(memcmp(a, b, np * 8) == 0 && memcmp(a, c0, np * 8) == 0 && nonzero > np / 2,
       "batch sum bitwise equal: forward, reversed, shuffled as 2 ranks (%zu/%zu nonzero)", nonzero,
       np);
    diag("for contrast, %zu of %zu double sums differ between orders", double_differs, np);
    free(a);
    free(b);
    free(c0);
    free(c1);
    free(da);
    free(db);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
}

/* A conv2d whose kernel covers its whole input is a dense layer with the
 * same weight layout; its gradients go through the double scratch and the
 * clamped row conversion, the dense layer's through the short path. Both
 * must give the same integers. */
static void test_paths(void)
{
    const stdbp_layer_spec sd[] = {spec_dense(7)}, sc[] = {spec_conv(7, 4, 1, 0)};
    const stdbp_shape in = {3, 4, 4};
    stdbp_net *nd = build_net(in, sd, 1, NULL), *nc = build_net(in, sc, 1, NULL);
    stdbp_ws *wd = build_ws(nd), *wc = build_ws(nc);
    stdbp_rng r;
    stdbp_err err;
    double t[48], dl[7], dind[48], dinc[48];
    int64_t gd[336] = {0}, gc[336] = {0};
    int same_t = 1;
    stdbp_init_params ip = stdbp_init_defaults();
    ip.active_fraction = 0.7;
    stdbp_net_init(nd, &ip, 3);
    memcpy(stdbp_net_params(nc), stdbp_net_params(nd), 336 * sizeof(double));
    stdbp_rng_seed(&r, 43);
    for (int k = 0; k < 10; k++) {
        random_times(&r, t, 48, 0.3);
        const double *od = stdbp_net_forward(nd, wd, t), *oc = stdbp_net_forward(nc, wc, t);
        for (int j = 0; j < 7; j++) {
            same_t &= od[j] == oc[j];
            dl[j] = od[j] < INFINITY ? stdbp_rng_normal(&r) : (k % 2 ? 0.5 : 0.0);
        }
        if (stdbp_net_backward(nd, wd, dl, gd, dind, &err) != STDBP_OK ||
            stdbp_net_backward(nc, wc, dl, gc, dinc, &err) != STDBP_OK)
            bail("backward: %s", err.msg);
        same_t &= memcmp(dind, dinc, sizeof dind) == 0;
    }
    ok(same_t && memcmp(gd, gc, sizeof gd) == 0,
       "dense (short path) = whole-input conv2d (clamped path): same times, bitwise gradients");
    stdbp_ws_destroy(&wd);
    stdbp_ws_destroy(&wc);
    stdbp_net_destroy(&nd);
    stdbp_net_destroy(&nc);
}

int main(void)
{
    plan(9);
    test_rounding();
    test_row();
    test_order();
    test_paths();
    return 0;
}
