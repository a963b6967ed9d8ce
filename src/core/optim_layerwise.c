/* LAMB and LARS: the layer-wise trust ratio, on the optimiser state of
 * optim.c; see include/stdbp/optim.h.
 *
 * The exact sums of squares. Each square s = x * x is a double (one
 * rounding, the same on whichever rank owns x). A finite s >= 0 is
 * m * 2^(b - 1074) with an integer m < 2^53 and 0 <= b <= 2045 (the bits
 * of the double); it is added exactly into 66 int64 limbs of 32 bits each
 * (limb i weighs 2^(32 i - 1074)): m shifted by b mod 32 spans at most
 * three limbs from b / 32, each receiving less than 2^33 per square, so a
 * limb holds 2^30 squares without overflow. Limb 66 counts squares that
 * are Inf or NaN. Integer sums do not depend on their order, so summing
 * the limbs over the slices of any number of ranks (and threads) gives the
 * same integers; their value is then read once, the same way everywhere:
 * carries propagated (low to high), the top three non-zero-led 32-bit
 * digits converted with ldexp (exact) and added from the highest ((d2 +
 * d1) + d0, two roundings), and the norm is sqrt of that (Inf when any
 * square was not finite or the sum overflows). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/optim_impl.h"

#define LIMBS STDBP_OPTIM_NORM_LIMBS /* 66 digits, then the count of non-finite squares */
#define NONFINITE (LIMBS - 1)
#define DIGIT 0xffffffffu

static void add_square(int64_t *limb, double x)
{
    const double s = x * x;
    uint64_t u;
    memcpy(&u, &s, sizeof u);
    unsigned e = (unsigned)(u >> 52) & 0x7ffu; /* s >= 0 unless NaN: the sign is ignored */
    if (e == 0x7ffu) {
        limb[NONFINITE]++;
        return;
    }
    uint64_t m = u & ((UINT64_C(1) << 52) - 1);
    if (e)
        m |= UINT64_C(1) << 52;
    else
        e = 1;
    const unsigned b = e - 1, at = b >> 5, r = b & 31u;
    const uint64_t lo = (m & DIGIT) << r, hi = (m >> 32) << r;
    limb[at] += (int64_t)(lo & DIGIT);
    limb[at + 1] += (int64_t)((lo >> 32) + (hi & DIGIT));
    limb[at + 2] += (int64_t)(hi >> 32);
}

/* The norm, sqrt of the value of summed limbs (see the top). */
static double limbs_norm(const int64_t *limb)
{
    uint64_t d[NONFINITE], carry = 0;
    int top = -1;
    if (limb[NONFINITE])
        return INFINITY;
    for (int i = 0; i < NONFINITE; i++) {
        const uint64_t t = (uint64_t)limb[i] + carry;
        d[i] = t & DIGIT;
        carry = t >> 32;
        if (d[i])
            top = i;
    }
    if (carry)
        return INFINITY;
    if (top < 0)
        return 0.0;
    double v = ldexp((double)d[top], 32 * top - 1074);
    if (top >= 1)
        v += ldexp((double)d[top - 1], 32 * (top - 1) - 1074);
    if (top >= 2)
        v += ldexp((double)d[top - 2], 32 * (top - 2) - 1074);
    return sqrt(v);
}

/* Adam's bias corrections for step t. */
static void bias_corrections(const stdbp_optim_params *p, uint64_t t, double *inv_bc1,
                             double *inv_bc2)
{
    *inv_bc1 = 1.0 / (1.0 - pow(p->beta1, (double)t));
    *inv_bc2 = 1.0 / (1.0 - pow(p->beta2, (double)t));
}

/* LAMB's update of parameter i at step t, from the old moments; the new
 * moments into *m_new, *v_new. */
static inline double lamb_r(const stdbp_optim_params *p, double w, double g, double m_old,
                            double v_old, double inv_bc1, double inv_bc2, double *m_new,
                            double *v_new)
{
    const double m = p->beta1 * m_old + (1.0 - p->beta1) * g;
    const double v = p->beta2 * v_old + (1.0 - p->beta2) * g * g;
    *m_new = m;
    *v_new = v;
    return (m * inv_bc1) / (sqrt(v * inv_bc2) + p->eps) + p->weight_decay * w;
}

/* The squares of one tensor's part [a, b) into acc (2 LIMBS: ||p||^2,
 * then ||r||^2 or ||g||^2); reads only. t: the step about to be taken. */
static void tensor_squares(const stdbp_optim *opt, const double *w, const double *g, size_t a,
                           size_t b, uint64_t t, int64_t *acc)
{
    const stdbp_optim_params *p = &opt->p;
    if (p->kind == STDBP_OPTIM_LAMB) {
        const double *m = opt->state, *v = opt->state + opt->n;
        double inv_bc1, inv_bc2, mn, vn;
        bias_corrections(p, t, &inv_bc1, &inv_bc2);
        for (size_t i = a; i < b; i++) {
            add_square(acc, w[i]);
            add_square(acc + LIMBS, lamb_r(p, w[i], g[i], m[i], v[i], inv_bc1, inv_bc2, &mn, &vn));
        }
    } else {
        for (size_t i = a; i < b; i++) {
            add_square(acc, w[i]);
            add_square(acc + LIMBS, g[i]);
        }
    }
}

/* The step of one tensor's part [a, b) at step t, given its summed
 * squares acc. */
static void tensor_step(stdbp_optim *opt, double *w, const double *g, double lr, size_t a, size_t b,
                        uint64_t t, const int64_t *acc)
{
    const stdbp_optim_params *p = &opt->p;
    const double wn = limbs_norm(acc), un = limbs_norm(acc + LIMBS);
    if (p->kind == STDBP_OPTIM_LAMB) {
        double *m = opt->state, *v = opt->state + opt->n;
        double inv_bc1, inv_bc2;
        const double q = wn > 0 && un > 0 ? p->trust_coef * wn / un : 1.0;
        const double lrq = lr * q;
        bias_corrections(p, t, &inv_bc1, &inv_bc2);
        for (size_t i = a; i < b; i++) {
            const double r = lamb_r(p, w[i], g[i], m[i], v[i], inv_bc1, inv_bc2, &m[i], &v[i]);
            w[i] -= lrq * r;
        }
    } else {
        double *u = opt->state;
        const double mu = p->momentum, wd = p->weight_decay;
        const double q = wn > 0 && un > 0 ? p->trust_coef * wn / (un + wd * wn + p->eps) : 1.0;
        for (size_t i = a; i < b; i++) {
            const double d = q * (g[i] + wd * w[i]);
            u[i] = mu * u[i] + d;
            w[i] -= lr * (p->nesterov ? d + mu * u[i] : u[i]);
        }
    }
}

stdbp_status stdbp_optim_use_layers(stdbp_optim *opt, const stdbp_net *net, stdbp_err *err)
{
    const size_t layers = stdbp_net_num_layers(net);
    size_t k = 0, end = 0;
    if (stdbp_net_num_params(net) != opt->n)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "optimiser: the network has %zu parameters, the optimiser %zu",
                             stdbp_net_num_params(net), opt->n);
    size_t *t = malloc((layers + 2) * sizeof *t);
    if (!t)
        return stdbp_err_set(err, STDBP_ENOMEM, "optimiser: out of memory for %zu layers", layers);
    t[0] = 0;
    for (size_t l = 0; l < layers; l++) {
        const stdbp_layer_info li = stdbp_net_layer(net, l);
        if (li.param_count == 0)
            continue;
        if (li.param_offset != end) {
            free(t);
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "optimiser: layer %zu's parameters start at %zu, not %zu", l,
                                 li.param_offset, end);
        }
        end += li.param_count;
        t[++k] = end;
    }
    if (k == 0) /* no parameters: one empty tensor */
        t[++k] = 0;
    free(opt->tensor);
    opt->tensor = t;
    opt->n_tensors = k;
    return STDBP_OK;
}

size_t stdbp_optim_norm_size(const stdbp_optim *opt)
{
    if (!stdbp_optim_is_layerwise(opt->p.kind))
        return 0;
    return 2 * (opt->tensor ? opt->n_tensors : 1) * LIMBS;
}

/* Tensor k's bounds (one tensor [0, n) without use_layers). */
/* Tensor k's part of the slice [lo, hi) as [*a, *b); zero if empty. */
static int tensor_part(const stdbp_optim *opt, size_t k, size_t lo, size_t hi, size_t *a, size_t *b)
{
    const size_t ta = opt->tensor ? opt->tensor[k] : 0;
    const size_t tb = opt->tensor ? opt->tensor[k + 1] : opt->n;
    *a = ta > lo ? ta : lo;
    *b = tb < hi ? tb : hi;
    return *a < *b;
}

void stdbp_optim_norms_slice(const stdbp_optim *opt, const double *params, const double *grad,
                             size_t lo, size_t hi, int64_t *acc)
{
    const size_t size = stdbp_optim_norm_size(opt), tensors = size / (2 * LIMBS);
    memset(acc, 0, size * sizeof *acc);
    hi = hi < opt->n ? hi : opt->n;
    for (size_t k = 0; k < tensors; k++) {
        size_t a, b;
        if (tensor_part(opt, k, lo, hi, &a, &b))
            tensor_squares(opt, params, grad, a, b, opt->steps + 1, acc + 2 * k * LIMBS);
    }
}

void stdbp_optim_step_slice_norms(stdbp_optim *opt, double *params, const double *grad, double lr,
                                  size_t lo, size_t hi, const int64_t *acc)
{
    const size_t tensors = stdbp_optim_norm_size(opt) / (2 * LIMBS);
    opt->steps++;
    hi = hi < opt->n ? hi : opt->n;
    for (size_t k = 0; k < tensors; k++) {
        size_t a, b;
        if (tensor_part(opt, k, lo, hi, &a, &b))
            tensor_step(opt, params, grad, lr, a, b, opt->steps, acc + 2 * k * LIMBS);
    }
}

void stdbp_optim_layerwise_step(stdbp_optim *opt, double *params, const double *grad, double lr,
                                size_t lo, size_t hi)
{
    /* Tensor by tensor, the norms of its part in [lo, hi) alone: one
     * accumulator on the stack. */
    int64_t acc[2 * LIMBS];
    const size_t tensors = stdbp_optim_norm_size(opt) / (2 * LIMBS);
    opt->steps++;
    hi = hi < opt->n ? hi : opt->n;
    for (size_t k = 0; k < tensors; k++) {
        size_t a, b;
        if (!tensor_part(opt, k, lo, hi, &a, &b))
            continue;
        memset(acc, 0, sizeof acc);
        tensor_squares(opt, params, grad, a, b, opt->steps, acc);
        tensor_step(opt, params, grad, lr, a, b, opt->steps, acc);
    }
}
