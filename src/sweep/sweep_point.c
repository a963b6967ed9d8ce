/* A sweep's points: the grid digits and random draws of point K and the
 * overrides they make; see sweep.h. */
#include "sweep/sweep_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/rng.h"

/* The value sample s draws for a distribution, as YAML text. */
static void draw(const stdbp_sweep *sw, const sweep_param *p, size_t s, char *buf, size_t size,
                 size_t *choice)
{
    stdbp_rng rng;
    stdbp_rng_stream(&rng, sw->seed, (uint64_t)s, p->hash);
    if (p->kind == P_CHOICE) {
        *choice = (size_t)stdbp_rng_below(&rng, (uint64_t)p->n);
        return;
    }
    double u = stdbp_rng_uniform(&rng), v;
    if (p->kind == P_UNIFORM)
        v = p->low + (p->high - p->low) * u;
    else
        v = exp(log(p->low) + (log(p->high) - log(p->low)) * u);
    if (p->integer) {
        /* An integer in [ceil(low), floor(high)]: uniform gives each the
         * same chance (the floor of a draw in [ceil(low), floor(high) + 1));
         * loguniform rounds its draw to the nearest integer. */
        double lo = ceil(p->low), hi = floor(p->high);
        v = p->kind == P_UNIFORM ? floor(lo + (hi + 1 - lo) * u) : floor(v + 0.5);
        v = v < lo ? lo : v > hi ? hi : v;
        snprintf(buf, size, "%.0f", v);
        return;
    }
    snprintf(buf, size, "%.*g", STDBP_SWEEP_DIGITS, v);
    if (!strpbrk(buf, ".eEn")) /* "3" -> "3.0": keep it a number that reads as real */
        snprintf(buf + strlen(buf), size - strlen(buf), ".0");
}

void stdbp_sweep_point_clear(stdbp_sweep_point *pt)
{
    if (!pt)
        return;
    for (size_t i = 0; pt->sets && i < pt->n_sets; i++)
        free(pt->sets[i]);
    free(pt->sets);
    free(pt->where);
    memset(pt, 0, sizeof *pt);
}

stdbp_status stdbp_sweep_point_get(const stdbp_sweep *sw, size_t k, char *const *extra,
                                   size_t n_extra, stdbp_sweep_point *pt, stdbp_err *err)
{
    size_t total = 1 + sw->n_fixed + sw->n_params + n_extra + 1, i, o = 0;
    char buf[STDBP_CFG_STR + 16];
    memset(pt, 0, sizeof *pt);
    if (k >= sw->count)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "point %zu is out of range: the sweep %s has %zu points (0..%zu)", k,
                             sw->source, sw->count, sw->count - 1);
    pt->index = k;
    /* Both fit: load_tree left room in dir, and name is short. */
    if (snprintf(pt->run_dir, sizeof pt->run_dir, "%s/point-%04zu", sw->dir, k) < 0 ||
        snprintf(pt->run_name, sizeof pt->run_name, "%s-%04zu", sw->name, k) < 0)
        return stdbp_err_set(err, STDBP_EINVAL, "cannot format the point's directory");
    pt->sets = calloc(total, sizeof *pt->sets);
    pt->where = calloc(total, sizeof *pt->where);
    if (!pt->sets || !pt->where)
        goto nomem;

    /* run.name first, so that set: or a parameter may still change it. */
    char quoted[STDBP_CFG_STR + 8] = "";
    stdbp_sweep_quote(pt->run_name, strlen(pt->run_name), quoted, sizeof quoted);
    if (!(pt->sets[o++] = stdbp_sweep_assignment("run.name", quoted)))
        goto nomem;
    for (i = 0; i < sw->n_fixed; i++) {
        pt->where[o].origin = sw->fixed_val[i];
        pt->where[o].key = sw->fixed_key[i];
        if (!(pt->sets[o++] = strdup(sw->fixed[i])))
            goto nomem;
    }
    pt->params = pt->sets + o;
    pt->n_params = sw->n_params;
    /* Grid digits: the last listed grid key varies fastest. */
    size_t g = k % sw->grid, s = k / sw->grid, *digit = calloc(sw->n_params + 1, sizeof *digit);
    if (!digit)
        goto nomem;
    for (i = sw->n_params; i-- > 0;)
        if (sw->params[i].kind == P_GRID) {
            digit[i] = g % sw->params[i].n;
            g /= sw->params[i].n;
        }
    for (i = 0; i < sw->n_params; i++) {
        const sweep_param *p = &sw->params[i];
        size_t c = digit[i];
        pt->where[o].key = p->key_node;
        pt->where[o].origin = p->node;
        if (p->kind != P_GRID)
            draw(sw, p, s, buf, sizeof buf, &c);
        if (p->kind == P_GRID || p->kind == P_CHOICE)
            pt->where[o].origin = stdbp_yaml_item(p->values, c);
        pt->sets[o] = stdbp_sweep_assignment(
            p->key, p->kind == P_GRID || p->kind == P_CHOICE ? p->flow[c] : buf);
        if (!pt->sets[o++]) {
            free(digit);
            goto nomem;
        }
    }
    free(digit);
    for (i = 0; i < n_extra; i++)
        if (!(pt->sets[o++] = strdup(extra[i])))
            goto nomem;
    quoted[0] = '\0';
    stdbp_sweep_quote(pt->run_dir, strlen(pt->run_dir), quoted, sizeof quoted);
    if (!(pt->sets[o++] = stdbp_sweep_assignment("run.dir", quoted)))
        goto nomem;
    pt->n_sets = o;
    return STDBP_OK;
nomem:
    pt->n_sets = total;
    stdbp_sweep_point_clear(pt);
    return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
}
