/* Checking a sweep before training: every override applied to the base
 * config, each refusal reported where it came from in the sweep file;
 * see sweep.h. */
#include "sweep/sweep_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The message stdbp_config_set gave for assignment a, without its
 * "--set a: " prefix and, when it names the key itself, without "key: ". */
static const char *strip_set_prefix(const char *msg, const char *a)
{
    char ctx[320];
    size_t klen = strcspn(a, "=");
    if (strlen(a) > 240)
        snprintf(ctx, sizeof ctx, "--set %.240s...: ", a);
    else
        snprintf(ctx, sizeof ctx, "--set %s: ", a);
    if (strncmp(msg, ctx, strlen(ctx)) != 0)
        return msg;
    msg += strlen(ctx);
    if (strncmp(msg, a, klen) == 0 && strncmp(msg + klen, ": ", 2) == 0)
        msg += klen + 2;
    return msg;
}

/* Apply pt->sets[i] to cfg; a refusal is reported where it came from:
 * an unknown key at the key, a bad value at the value. what (may be NULL)
 * says which point or draw. */
static stdbp_status apply_one(const stdbp_sweep_point *pt, size_t i, stdbp_config *cfg,
                              const char *what, stdbp_err *err)
{
    const char *a = pt->sets[i];
    stdbp_status st = stdbp_config_set(cfg, a, err);
    if (st == STDBP_OK || !pt->where[i].origin)
        return st;
    char msg[STDBP_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", strip_set_prefix(err->msg, a));
    int unknown = strstr(msg, "unknown key") == msg;
    const stdbp_yaml_node *at = unknown ? pt->where[i].key : pt->where[i].origin;
    if (unknown || !what)
        return stdbp_yaml_error(at, err, st, "%s", msg);
    /* A number drawn for an integer key. */
    const char *hint = stdbp_yaml_get(at, "dist") && !stdbp_yaml_get(at, "integer") &&
                               strstr(msg, "expected an integer")
                           ? " (add integer: true to the distribution)"
                           : "";
    return stdbp_yaml_error(at, err, st, "%s: %s: %s%s", what, a, msg, hint);
}

stdbp_status stdbp_sweep_load_base(const stdbp_sweep *sw, stdbp_config *base, stdbp_err *err)
{
    stdbp_status st = stdbp_config_load(sw->base, base, err);
    if (st != STDBP_OK) {
        char msg[STDBP_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return stdbp_yaml_error(sw->base_node, err, st, "%s", msg);
    }
    return STDBP_OK;
}

static void describe_point(const stdbp_sweep_point *pt, char *buf, size_t size)
{
    size_t o = (size_t)snprintf(buf, size, "point %zu (", pt->index);
    for (size_t i = 0; i < pt->n_params && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? " " : "", pt->params[i]);
    if (o < size)
        snprintf(buf + o, size - o, ")");
}

stdbp_status stdbp_sweep_point_config(const stdbp_sweep *sw, const stdbp_sweep_point *pt,
                                      const stdbp_config *base, stdbp_config *cfg, stdbp_err *err)
{
    char what[600];
    stdbp_status st = STDBP_OK;
    describe_point(pt, what, sizeof what);
    *cfg = *base;
    for (size_t i = 0; i < pt->n_sets && st == STDBP_OK; i++)
        st = apply_one(pt, i, cfg, what, err);
    if (st == STDBP_OK && (st = stdbp_config_validate(cfg, err)) != STDBP_OK) {
        char msg[STDBP_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        st = stdbp_yaml_error(sw->params_node, err, st, "%s: %s", what, msg);
    }
    return st;
}

stdbp_status stdbp_sweep_check(const stdbp_sweep *sw, char *const *extra, size_t n_extra,
                               stdbp_err *err)
{
    stdbp_config *base = malloc(sizeof *base), *fixed = malloc(sizeof *fixed),
                 *cfg = malloc(sizeof *cfg);
    stdbp_sweep_point pt;
    stdbp_status st = STDBP_OK;
    size_t i, j;

    memset(&pt, 0, sizeof pt);
    if (!base || !fixed || !cfg) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = stdbp_sweep_load_base(sw, base, err)))
        goto done;
    /* The caller's overrides on their own. */
    for (i = 0; i < n_extra; i++) {
        *cfg = *base;
        if (strncmp(extra[i], "run.dir=", 8) == 0) {
            st = stdbp_err_set(err, STDBP_ECONFIG,
                               "--set %s: run.dir is chosen by the sweep (DIR/NAME/point-KKKK): "
                               "set 'dir' and 'name' in %s instead",
                               extra[i], sw->source);
            goto done;
        }
        if ((st = stdbp_config_set(cfg, extra[i], err)))
            goto done;
    }
    /* Each set: entry, then each listed value on top of them, on its own:
     * the message points at the line that is wrong. */
    if ((st = stdbp_sweep_point_get(sw, 0, NULL, 0, &pt, err)))
        goto done;
    *fixed = *base;
    for (i = 1; i <= sw->n_fixed; i++)
        if ((st = apply_one(&pt, i, fixed, NULL, err)))
            goto done;
    for (i = 0; i < sw->n_params; i++) {
        const sweep_param *p = &sw->params[i];
        size_t o = 1 + sw->n_fixed + i;
        for (j = 0; j < (p->kind == P_GRID || p->kind == P_CHOICE ? p->n : 0); j++) {
            char *a = stdbp_sweep_assignment(p->key, p->flow[j]), *keep = pt.sets[o];
            const stdbp_yaml_node *keep_origin = pt.where[o].origin;
            if (!a) {
                st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
                goto done;
            }
            pt.sets[o] = a;
            pt.where[o].origin = stdbp_yaml_item(p->values, j);
            *cfg = *fixed;
            st = apply_one(&pt, o, cfg, NULL, err);
            pt.sets[o] = keep;
            pt.where[o].origin = keep_origin;
            free(a);
            if (st)
                goto done;
        }
    }
    stdbp_sweep_point_clear(&pt);
    /* Every point as a whole (a refused draw names its point). */
    for (i = 0; i < sw->count && st == STDBP_OK; i++) {
        if ((st = stdbp_sweep_point_get(sw, i, extra, n_extra, &pt, err)))
            break;
        st = stdbp_sweep_point_config(sw, &pt, base, cfg, err);
        stdbp_sweep_point_clear(&pt);
    }
done:
    stdbp_sweep_point_clear(&pt);
    free(base);
    free(fixed);
    free(cfg);
    return st;
}
