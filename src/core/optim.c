/* AdamW and SGD with momentum on one flat parameter buffer, and gradient
 * clipping by global norm; see include/stdbp/optim.h. */
#include "stdbp/optim.h"

#include <math.h>
#include <stdlib.h>

struct stdbp_optim {
    stdbp_optim_params p;
    size_t n;          /* parameters */
    size_t state_size; /* Adam: 2n (m, v); SGD: n (velocity) */
    double *state;     /* the whole state, with steps */
    uint64_t steps;
};

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
    return p;
}

/* Names the offending field so that the config layer's message can point
 * at the key. */
static stdbp_status check_params(const stdbp_optim_params *p, stdbp_err *err)
{
    if (p->kind != STDBP_OPTIM_ADAM && p->kind != STDBP_OPTIM_SGD)
        return stdbp_err_set(err, STDBP_EINVAL, "optimiser: unknown kind %d", (int)p->kind);
    if (!(p->lr > 0 && p->lr < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL, "optimiser: lr must be finite and > 0 (got %g)",
                             p->lr);
    if (!(p->weight_decay >= 0 && p->weight_decay < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "optimiser: weight_decay must be finite and >= 0 (got %g)",
                             p->weight_decay);
    if (p->kind == STDBP_OPTIM_ADAM) {
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
    if (p->kind == STDBP_OPTIM_ADAM)
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
    free(*opt);
    *opt = NULL;
}

/* The loops below take restrict pointers and have no branches, so the
 * compiler may vectorise them (the Adam loop only with -fno-math-errno,
 * because of sqrt). Each parameter's update depends only on its own state
 * and sqrt is correctly rounded, so the result is bitwise the same
 * either way. */
/* Built for AVX2 too, picked at load time: sqrt and division are
 * correctly rounded and there is no FMA contraction under -std=c11, so
 * both builds give bitwise the same result. */
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(__target_clones__)
#define OPTIM_CLONES __attribute__((__target_clones__("avx2", "default")))
#endif
#endif
#ifndef OPTIM_CLONES
#define OPTIM_CLONES
#endif

OPTIM_CLONES static void adam_step(size_t n, double *restrict w, const double *restrict g,
                                   double *restrict m, double *restrict v, double b1, double b2,
                                   double eps, double inv_bc1, double inv_bc2, double lr, double wd)
{
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        const double mhat = m[i] * inv_bc1;
        const double vhat = v[i] * inv_bc2;
        w[i] -= lr * (mhat / (sqrt(vhat) + eps) + wd * w[i]);
    }
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
    return opt->p.kind == STDBP_OPTIM_ADAM ? 2 : 1;
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
