/* STDBP gradients against central finite differences, for dense, conv2d,
 * pool (through dense) and deeper networks, with the linear loss
 * L = sum_k c_k t_k over the outputs that fire. Points where a
 * perturbation changes a causal set (the derivative jumps there) are
 * skipped: they are detected by comparing every layer's causal counts
 * and pool argmins with and without the perturbation. */
#include "core/layer.h"
#include "test_net_util.h"

#define EPS 1e-6
#define RTOL 1e-3
#define ATOL 1e-7 /* fixed point resolves 2^-32; FD roundoff ~1e-9 */
#define MAX_CHECKS 300

typedef struct fd {
    stdbp_net *net;
    stdbp_ws *ws;
    double *in, *coef, *sig, *sig0;
    size_t n_in, n_out, n_sig;
} fd;

/* Forward; returns L and writes the causal signature into sig. */
static double run(fd *f, double *sig)
{
    const double *out = stdbp_net_forward(f->net, f->ws, f->in);
    double l = 0.0;
    size_t off = 0;
    for (size_t k = 0; k < f->n_out; k++)
        if (out[k] < INFINITY)
            l += f->coef[k] * out[k];
    for (size_t i = 0; i < stdbp_net_num_layers(f->net); i++) {
        stdbp_ws_causal(f->net, f->ws, i, sig + off);
        off += (size_t)stdbp_net_layer(f->net, i).out.c * stdbp_net_layer(f->net, i).out.h *
               stdbp_net_layer(f->net, i).out.w;
    }
    return l;
}

/* Central difference of L in *x; 0 with *skip set at a kink. */
static double central(fd *f, double *x, int *skip)
{
    const double x0 = *x;
    *x = x0 + EPS;
    const double lp = run(f, f->sig);
    *skip = memcmp(f->sig, f->sig0, f->n_sig * sizeof *f->sig) != 0;
    *x = x0 - EPS;
    const double lm = run(f, f->sig);
    *skip |= memcmp(f->sig, f->sig0, f->n_sig * sizeof *f->sig) != 0;
    *x = x0;
    return (lp - lm) / (2 * EPS);
}

static int close_enough(double a, double b)
{
    return fabs(a - b) <= RTOL * fmax(fabs(a), fabs(b)) + ATOL;
}

static void check(const char *name, stdbp_shape in_shape, const stdbp_layer_spec *specs,
                  size_t n_layers, uint64_t seed)
{
    stdbp_rng r;
    stdbp_neuron_params np = stdbp_neuron_defaults();
    stdbp_err err;
    fd f;
    np.grad_clip = INFINITY; /* exact gradients */
    f.net = build_net(in_shape, specs, n_layers, &np);
    f.ws = build_ws(f.net);
    f.n_in = stdbp_net_input_size(f.net);
    f.n_out = stdbp_net_output_size(f.net);
    f.n_sig = 0;
    for (size_t i = 0; i < n_layers; i++) {
        const stdbp_layer_info L = stdbp_net_layer(f.net, i);
        f.n_sig += (size_t)L.out.c * L.out.h * L.out.w;
    }
    const size_t n_p = stdbp_net_num_params(f.net);
    f.in = calloc(f.n_in, sizeof *f.in);
    f.coef = calloc(f.n_out, sizeof *f.coef);
    f.sig = calloc(f.n_sig, sizeof *f.sig);
    f.sig0 = calloc(f.n_sig, sizeof *f.sig0);
    double *dl = calloc(f.n_out, sizeof *dl), *dl_din = calloc(f.n_in, sizeof *dl_din);
    int64_t *g = calloc(n_p ? n_p : 1, sizeof *g);
    if (!f.in || !f.coef || !f.sig || !f.sig0 || !dl || !dl_din || !g)
        bail("out of memory");

    stdbp_rng_seed(&r, seed);
    double *p = stdbp_net_params(f.net);
    for (size_t i = 0; i < n_layers; i++) { /* most neurons fire */
        const stdbp_layer_info L = stdbp_net_layer(f.net, i);
        for (size_t q = 0; q < L.param_count; q++)
            p[L.param_offset + q] =
                1.5 / (0.7 * L.fan_in) + 0.5 * sqrt(2.0 / L.fan_in) * stdbp_rng_normal(&r);
    }
    random_times(&r, f.in, f.n_in, 0.2);
    for (size_t k = 0; k < f.n_out; k++)
        f.coef[k] = 2 * stdbp_rng_uniform(&r) - 1;

    const double *out = stdbp_net_forward(f.net, f.ws, f.in);
    size_t fired = 0;
    for (size_t k = 0; k < f.n_out; k++) {
        dl[k] = out[k] < INFINITY ? f.coef[k] : 0.0;
        fired += out[k] < INFINITY;
    }
    if (stdbp_net_backward(f.net, f.ws, dl, g, dl_din, &err) != STDBP_OK)
        bail("%s: backward: %s", name, err.msg);
    run(&f, f.sig0);

    int bad = 0, checked = 0, skipped = 0, nonzero = 0, skip;
    /* Weights: all of them for small nets, an even spread for larger. */
    const size_t step = n_p > MAX_CHECKS ? n_p / MAX_CHECKS : 1;
    for (size_t q = 0; q < n_p; q += step) {
        const double fdv = central(&f, &p[q], &skip);
        const double a = stdbp_grad_from_fixed(g[q]);
        if (skip) {
            skipped++;
            continue;
        }
        checked++;
        nonzero += a != 0.0;
        if (!close_enough(a, fdv) && bad++ < 5)
            diag("%s: dL/dw[%zu] = %.10g, finite difference %.10g", name, q, a, fdv);
    }
    /* Input times (fired ones). */
    for (size_t i = 0; i < f.n_in; i++) {
        if (!(f.in[i] < INFINITY))
            continue;
        const double fdv = central(&f, &f.in[i], &skip);
        if (skip) {
            skipped++;
            continue;
        }
        checked++;
        nonzero += dl_din[i] != 0.0;
        if (!close_enough(dl_din[i], fdv) && bad++ < 5)
            diag("%s: dL/dt_in[%zu] = %.10g, finite difference %.10g", name, i, dl_din[i], fdv);
    }
    is_int(0, bad, "%s: %d gradients = finite differences (%d nonzero, %d kinks skipped)", name,
           checked, nonzero, skipped);
    ok(fired > 0 && nonzero > checked / 4 && skipped < checked / 3,
       "%s: a real test (%zu/%zu outputs fire)", name, fired, f.n_out);

    free(f.in);
    free(f.coef);
    free(f.sig);
    free(f.sig0);
    free(dl);
    free(dl_din);
    free(g);
    stdbp_ws_destroy(&f.ws);
    stdbp_net_destroy(&f.net);
}

int main(void)
{
    plan(12);
    {
        const stdbp_layer_spec s[] = {spec_dense(5)};
        check("dense 12-5", (stdbp_shape){12, 1, 1}, s, 1, 31);
    }
    {
        const stdbp_layer_spec s[] = {spec_conv(3, 3, 1, 1)};
        check("conv2d(3,k3,p1) on 2x6x6", (stdbp_shape){2, 6, 6}, s, 1, 32);
    }
    {
        const stdbp_layer_spec s[] = {spec_conv(2, 3, 2, 0)};
        check("conv2d(2,k3,s2) on 2x7x7", (stdbp_shape){2, 7, 7}, s, 1, 33);
    }
    {
        const stdbp_layer_spec s[] = {spec_pool(2, 0), spec_flatten(), spec_dense(4)};
        check("pool(2)-flatten-dense(4) on 2x6x6", (stdbp_shape){2, 6, 6}, s, 3, 34);
    }
    {
        const stdbp_layer_spec s[] = {spec_dense(8), spec_dense(6), spec_dense(3)};
        check("3-layer dense 10-8-6-3", (stdbp_shape){10, 1, 1}, s, 3, 35);
    }
    {
        const stdbp_layer_spec s[] = {spec_conv(4, 3, 1, 1), spec_pool(2, 0), spec_conv(3, 3, 1, 0),
                                      spec_flatten(), spec_dense(3)};
        check("CNN 1x8x8-4C3p1-P2-3C3-3", (stdbp_shape){1, 8, 8}, s, 5, 36);
    }
    return 0;
}
