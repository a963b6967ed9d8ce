/* AdamW and SGD with momentum on one flat parameter buffer, the learning
 * rate's batch scaling, and gradient clipping by global norm; see
 * include/stdbp/optim.h. LAMB and LARS share the state and are stepped in
 * optim_layerwise.c. */
#include "stdbp/optim.h"

#include <math.h>
#include <stdlib.h>

#include "core/chunks.h"
#include "core/optim_impl.h"
#include "core/relpsp_isa.h"

#ifdef STDBP_X86_SIMD
#include <immintrin.h>
#endif

stdbp_optim_params stdbp_optim_defaults(void)
{
    stdbp_optim_params p;
    p.kind = STDBP_OPTIM_ADAM;
    p.lr = 1e-4;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    p.weight_decay = 0.0;
    p.momentum = 0.9;
    p.nesterov = 0;
    p.lr_scaling = STDBP_LR_SCALE_NONE;
    p.lr_base_batch = 0.0;
    p.trust_coef = 1.0;
    return p;
}

double stdbp_optim_scaled_lr(const stdbp_optim_params *p, long batch)
{
    if (!(p->lr_base_batch > 0) || batch <= 0)
        return p->lr;
    const double ratio = (double)batch / p->lr_base_batch;
    if (p->lr_scaling == STDBP_LR_SCALE_LINEAR)
        return p->lr * ratio;
    if (p->lr_scaling == STDBP_LR_SCALE_SQRT)
        return p->lr * sqrt(ratio);
    return p->lr;
}

int stdbp_optim_is_layerwise(stdbp_optim_kind kind)
{
    return kind == STDBP_OPTIM_LAMB || kind == STDBP_OPTIM_LARS;
}

/* Names the offending field so that the config layer's message can point
 * at the key. */
static stdbp_status check_params(const stdbp_optim_params *p, stdbp_err *err)
{
    const int adam_like = p->kind == STDBP_OPTIM_ADAM || p->kind == STDBP_OPTIM_LAMB;
    if (p->kind != STDBP_OPTIM_ADAM && p->kind != STDBP_OPTIM_SGD &&
        !stdbp_optim_is_layerwise(p->kind))
        return stdbp_err_set(err, STDBP_EINVAL, "optimiser: unknown kind %d", (int)p->kind);
    if (p->lr_scaling != STDBP_LR_SCALE_NONE && p->lr_scaling != STDBP_LR_SCALE_LINEAR &&
        p->lr_scaling != STDBP_LR_SCALE_SQRT)
        return stdbp_err_set(err, STDBP_EINVAL, "optimiser: unknown lr_scaling %d",
                             (int)p->lr_scaling);
    if (p->lr_scaling != STDBP_LR_SCALE_NONE &&
        !(p->lr_base_batch > 0 && p->lr_base_batch < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "optimiser: lr_scaling needs lr_base_batch > 0 (got %g)",
                             p->lr_base_batch);
    if (stdbp_optim_is_layerwise(p->kind) && !(p->trust_coef > 0 && p->trust_coef < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "optimiser: trust_coef must be finite and > 0 (got %g)",
                             p->trust_coef);
    if (p->kind == STDBP_OPTIM_LARS && !(p->eps > 0 && p->eps < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL, "optimiser: eps must be finite and > 0 (got %g)",
                             p->eps);
    if (!(p->lr > 0 && p->lr < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL, "optimiser: lr must be finite and > 0 (got %g)",
                             p->lr);
    if (!(p->weight_decay >= 0 && p->weight_decay < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "optimiser: weight_decay must be finite and >= 0 (got %g)",
                             p->weight_decay);
    if (adam_like) {
        if (!(p->beta1 >= 0 && p->beta1 < 1))
            return stdbp_err_set(err, STDBP_EINVAL, "optimiser: beta1 must be in [0, 1) (got %g)",
                                 p->beta1);
        if (!(p->beta2 >= 0 && p->beta2 < 1))
            return stdbp_err_set(err, STDBP_EINVAL, "optimiser: beta2 must be in [0, 1) (got %g)",
                                 p->beta2);
        if (!(p->eps > 0 && p->eps < INFINITY))
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "optimiser: eps must be finite and > 0 (got %g)", p->eps);
    } else {
        if (!(p->momentum >= 0 && p->momentum < 1))
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "optimiser: momentum must be in [0, 1) (got %g)", p->momentum);
        if (p->nesterov && p->momentum == 0)
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "optimiser: nesterov needs momentum > 0 (set momentum or "
                                 "turn nesterov off)");
    }
    return STDBP_OK;
}

stdbp_status stdbp_optim_create(const stdbp_optim_params *p, size_t n_params, stdbp_optim **out,
                                stdbp_err *err)
{
    stdbp_optim *opt = NULL;
    stdbp_status st;
    size_t per = 1;

    *out = NULL;
    st = check_params(p, err);
    if (st != STDBP_OK)
        return st;
    if (p->kind == STDBP_OPTIM_ADAM || p->kind == STDBP_OPTIM_LAMB)
        per = 2;
    if (n_params > (size_t)-1 / sizeof(double) / per)
        return stdbp_err_set(err, STDBP_ENOMEM, "optimiser: %zu parameters is too many", n_params);
    opt = calloc(1, sizeof *opt);
    if (!opt)
        goto nomem;
    opt->p = *p;
    opt->n = n_params;
    opt->state_size = per * n_params;
    /* At least one element so that an empty model still gets a pointer. */
    opt->state = calloc(opt->state_size ? opt->state_size : 1, sizeof(double));
    if (!opt->state)
        goto nomem;
    *out = opt;
    return STDBP_OK;
nomem:
    stdbp_optim_destroy(&opt);
    return stdbp_err_set(err, STDBP_ENOMEM,
                         "optimiser: cannot allocate the state for %zu parameters", n_params);
}

void stdbp_optim_destroy(stdbp_optim **opt)
{
    if (!opt || !*opt)
        return;
    free((*opt)->state);
    free((*opt)->tensor);
    free(*opt);
    *opt = NULL;
}

/* The loops below take restrict pointers and have no branches, so the
 * compiler may vectorise them (the Adam loop only with -fno-math-errno,
 * because of sqrt). Each parameter's update depends only on its own state
 * and sqrt is correctly rounded, so the result is bitwise the same
 * either way. */
/* The same loop in AVX2 and AVX-512 (relpsp_isa.h picks one): sqrt and
 * division are correctly rounded and each intrinsic is one IEEE
 * operation, in the order the C above does them, so every build gives
 * the same bits. The plain C loop stays scalar (errno of sqrt). */
static void adam_step_c(size_t n, double *restrict w, const double *restrict g, double *restrict m,
                        double *restrict v, double b1, double b2, double eps, double inv_bc1,
                        double inv_bc2, double lr, double wd)
{
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        const double mhat = m[i] * inv_bc1;
        const double vhat = v[i] * inv_bc2;
        w[i] -= lr * (mhat / (sqrt(vhat) + eps) + wd * w[i]);
    }
}

#ifdef STDBP_X86_SIMD
#define ADAM_VEC(T, P, N)                                                                          \
    const T vb1 = P##_set1_pd(b1), vc1 = P##_set1_pd(1.0 - b1), vb2 = P##_set1_pd(b2);             \
    const T vc2 = P##_set1_pd(1.0 - b2), veps = P##_set1_pd(eps), vi1 = P##_set1_pd(inv_bc1);      \
    const T vi2 = P##_set1_pd(inv_bc2), vlr = P##_set1_pd(lr), vwd = P##_set1_pd(wd);              \
    size_t i = 0;                                                                                  \
    for (; i + (N) <= n; i += (N)) {                                                               \
        const T gi = P##_loadu_pd(g + i), wi = P##_loadu_pd(w + i);                                \
        const T mi = P##_add_pd(P##_mul_pd(vb1, P##_loadu_pd(m + i)), P##_mul_pd(vc1, gi));        \
        const T vi =                                                                               \
            P##_add_pd(P##_mul_pd(vb2, P##_loadu_pd(v + i)), P##_mul_pd(P##_mul_pd(vc2, gi), gi)); \
        P##_storeu_pd(m + i, mi);                                                                  \
        P##_storeu_pd(v + i, vi);                                                                  \
        const T den = P##_add_pd(P##_sqrt_pd(P##_mul_pd(vi, vi2)), veps);                          \
        const T step = P##_add_pd(P##_div_pd(P##_mul_pd(mi, vi1), den), P##_mul_pd(vwd, wi));      \
        P##_storeu_pd(w + i, P##_sub_pd(wi, P##_mul_pd(vlr, step)));                               \
    }                                                                                              \
    adam_step_c(n - i, w + i, g + i, m + i, v + i, b1, b2, eps, inv_bc1, inv_bc2, lr, wd)

STDBP_TARGET("avx2")
static void adam_step_avx2(size_t n, double *restrict w, const double *restrict g,
                           double *restrict m, double *restrict v, double b1, double b2, double eps,
                           double inv_bc1, double inv_bc2, double lr, double wd)
{
    ADAM_VEC(__m256d, _mm256, 4);
}

STDBP_TARGET("avx512f")
static void adam_step_avx512(size_t n, double *restrict w, const double *restrict g,
                             double *restrict m, double *restrict v, double b1, double b2,
                             double eps, double inv_bc1, double inv_bc2, double lr, double wd)
{
    ADAM_VEC(__m512d, _mm512, 8);
}
#undef ADAM_VEC
#endif

static void adam_step_isa(size_t n, double *w, const double *g, double *m, double *v, double b1,
                          double b2, double eps, double inv_bc1, double inv_bc2, double lr,
                          double wd)
{
#ifdef STDBP_X86_SIMD
    const stdbp_isa isa = stdbp_relpsp_isa();
    if (isa == STDBP_ISA_AVX512) {
        adam_step_avx512(n, w, g, m, v, b1, b2, eps, inv_bc1, inv_bc2, lr, wd);
        return;
    }
    if (isa == STDBP_ISA_AVX2) {
        adam_step_avx2(n, w, g, m, v, b1, b2, eps, inv_bc1, inv_bc2, lr, wd);
        return;
    }
#endif
    adam_step_c(n, w, g, m, v, b1, b2, eps, inv_bc1, inv_bc2, lr, wd);
}

/* Each parameter's update is its own: chunks over the threads
 * (chunks.h). */
static void adam_step(size_t n, double *w, const double *g, double *m, double *v, double b1,
                      double b2, double eps, double inv_bc1, double inv_bc2, double lr, double wd)
{
    STDBP_FOR_CHUNKS(
        n, a, len,
        adam_step_isa(len, w + a, g + a, m + a, v + a, b1, b2, eps, inv_bc1, inv_bc2, lr, wd););
}

static void sgd_step(size_t n, double *restrict w, const double *restrict g, double *restrict vel,
                     double mu, int nesterov, double lr, double wd)
{
    if (nesterov) {
        for (size_t i = 0; i < n; i++) {
            vel[i] = mu * vel[i] + g[i];
            w[i] -= lr * (g[i] + mu * vel[i] + wd * w[i]);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            vel[i] = mu * vel[i] + g[i];
            w[i] -= lr * (vel[i] + wd * w[i]);
        }
    }
}

void stdbp_optim_step(stdbp_optim *opt, double *params, const double *grad, double lr)
{
    stdbp_optim_step_slice(opt, params, grad, lr, 0, opt->n);
}

void stdbp_optim_step_slice(stdbp_optim *opt, double *params, const double *grad, double lr,
                            size_t lo, size_t hi)
{
    const stdbp_optim_params *p = &opt->p;
    const size_t n = opt->n;
    hi = hi < n ? hi : n;
    lo = lo < hi ? lo : hi;
    if (stdbp_optim_is_layerwise(p->kind)) {
        stdbp_optim_layerwise_step(opt, params, grad, lr, lo, hi);
        return;
    }
    opt->steps++;
    if (p->kind == STDBP_OPTIM_ADAM) {
        /* Bias corrections depend only on the step count, so a restored
         * state (moments + steps) continues bitwise identically. */
        const double t = (double)opt->steps;
        const double inv_bc1 = 1.0 / (1.0 - pow(p->beta1, t));
        const double inv_bc2 = 1.0 / (1.0 - pow(p->beta2, t));
        adam_step(hi - lo, params + lo, grad + lo, opt->state + lo, opt->state + n + lo, p->beta1,
                  p->beta2, p->eps, inv_bc1, inv_bc2, lr, p->weight_decay);
    } else {
        sgd_step(hi - lo, params + lo, grad + lo, opt->state + lo, p->momentum, p->nesterov, lr,
                 p->weight_decay);
    }
}

size_t stdbp_optim_state_arrays(const stdbp_optim *opt)
{
    return opt->p.kind == STDBP_OPTIM_ADAM || opt->p.kind == STDBP_OPTIM_LAMB ? 2 : 1;
}

size_t stdbp_optim_state_size(const stdbp_optim *opt)
{
    return opt->state_size;
}

double *stdbp_optim_state(stdbp_optim *opt)
{
    return opt->state;
}

uint64_t stdbp_optim_steps(const stdbp_optim *opt)
{
    return opt->steps;
}

void stdbp_optim_set_steps(stdbp_optim *opt, uint64_t steps)
{
    opt->steps = steps;
}

double stdbp_grad_clip_norm(double *grad, size_t n, double max_norm)
{
    double ss = 0.0, norm;
    for (size_t i = 0; i < n; i++)
        ss += grad[i] * grad[i];
    if (isinf(ss)) {
        /* Squares overflowed though the values may be finite: redo the sum
         * scaled by the largest magnitude. */
        double big = 0.0;
        for (size_t i = 0; i < n; i++)
            big = fmax(big, fabs(grad[i]));
        ss = 0.0;
        if (big < INFINITY)
            for (size_t i = 0; i < n; i++)
                ss += (grad[i] / big) * (grad[i] / big);
        norm = big < INFINITY ? big * sqrt(ss) : INFINITY;
    } else {
        norm = sqrt(ss);
    }
    /* A NaN or infinite norm is returned untouched for the caller to
     * report; scaling would hide it. */
    if (!(max_norm < INFINITY) || !(norm > max_norm) || !(norm < INFINITY))
        return norm;
    const double scale = max_norm / norm;
    for (size_t i = 0; i < n; i++)
        grad[i] *= scale;
    return norm;
}
