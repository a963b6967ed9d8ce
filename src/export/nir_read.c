/* Reading NIR files (tests, tools); see nir.h. Every dataset is read as
 * stored (type, shape, values); nothing is interpreted beyond the graph
 * structure. */
#include "stdbp/nir.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/h5util.h"

static void value_free(stdbp_nir_value *v)
{
    if (v->s)
        for (size_t k = 0; k < v->n; k++)
            free(v->s[k]);
    free(v->s);
    free(v->f);
    free(v->i);
    free(v->name);
    memset(v, 0, sizeof *v);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* The strings of dataset ds (file type ft, space space) into v->s, as
 * stored: variable-length or fixed, in ft's character set. */
static stdbp_status read_strings(hid_t ds, hid_t ft, hid_t space, const char *where,
                                 stdbp_nir_value *v, stdbp_err *err)
{
    const size_t size = H5Tget_size(ft);
    const H5T_cset_t cset = H5Tget_cset(ft);
    stdbp_status st = STDBP_OK;
    hid_t mt = H5I_INVALID_HID;
    char *buf = NULL, **vs = NULL;
    v->kind = STDBP_NIR_STRING;
    v->vlen = H5Tis_variable_str(ft) > 0;
    v->utf8 = cset == H5T_CSET_UTF8;
    if (!(v->s = calloc(v->n ? v->n : 1, sizeof *v->s)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory reading %s/%s", where, v->name);
    if (stdbp_h5_str_type(v->vlen ? H5T_VARIABLE : size + 1, H5T_STR_NULLTERM, cset, &mt, err) !=
        STDBP_OK)
        return stdbp_err_prefix(err, "%s/%s: cannot read: ", where, v->name);
    if (v->vlen) {
        if (!(vs = calloc(v->n ? v->n : 1, sizeof *vs)))
            goto nomem;
        if (v->n && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, vs) < 0)
            goto readfail;
        for (size_t k = 0; k < v->n; k++)
            if (!(v->s[k] = dup_str(vs[k] ? vs[k] : "")))
                st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mt, space, H5P_DEFAULT, vs);
#else
        H5Dvlen_reclaim(mt, space, H5P_DEFAULT, vs);
#endif
    } else {
        if (!(buf = malloc((v->n ? v->n : 1) * (size + 1))))
            goto nomem;
        if (v->n && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            goto readfail;
        for (size_t k = 0; k < v->n; k++)
            if (!(v->s[k] = dup_str(buf + k * (size + 1))))
                st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    }
    goto done;
nomem:
    st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory reading %s/%s", where, v->name);
    goto done;
readfail:
    st = stdbp_h5_fail(err, STDBP_EFORMAT, "%s/%s: cannot read", where, v->name);
done:
    free(buf);
    free(vs);
    H5Tclose(mt);
    return st;
}

/* Read dataset loc/name into *v. */
static stdbp_status read_value(hid_t loc, const char *name, const char *where, stdbp_nir_value *v,
                               stdbp_err *err)
{
    hid_t ds = H5I_INVALID_HID, space = H5I_INVALID_HID, ft = H5I_INVALID_HID;
    hsize_t dims[STDBP_NIR_MAX_RANK];
    stdbp_status st = STDBP_OK;
    int rank;

    memset(v, 0, sizeof *v);
    if (!(v->name = dup_str(name)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((ds = H5Dopen2(loc, name, H5P_DEFAULT)) < 0 || (space = H5Dget_space(ds)) < 0 ||
        (ft = H5Dget_type(ds)) < 0) {
        st = stdbp_h5_fail(err, STDBP_EFORMAT, "%s/%s: cannot open", where, name);
        goto done;
    }
    rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > STDBP_NIR_MAX_RANK) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s/%s: unsupported rank %d", where, name, rank);
        goto done;
    }
    H5Sget_simple_extent_dims(space, dims, NULL);
    v->rank = rank;
    v->n = 1;
    for (int k = 0; k < rank; k++) {
        v->dims[k] = (size_t)dims[k];
        v->n *= (size_t)dims[k];
    }
    switch (H5Tget_class(ft)) {
    case H5T_FLOAT:
        v->kind = STDBP_NIR_FLOAT;
        v->bits = (int)(8 * H5Tget_size(ft));
        if (!(v->f = malloc((v->n ? v->n : 1) * sizeof *v->f)))
            goto nomem;
        if (v->n && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->f) < 0)
            goto readfail;
        break;
    case H5T_INTEGER:
        v->kind = STDBP_NIR_INT;
        v->bits = (int)(8 * H5Tget_size(ft));
        v->is_signed = H5Tget_sign(ft) == H5T_SGN_2;
        if (!(v->i = malloc((v->n ? v->n : 1) * sizeof *v->i)))
            goto nomem;
        if (v->n && H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->i) < 0)
            goto readfail;
        break;
    case H5T_STRING:
        st = read_strings(ds, ft, space, where, v, err);
        break;
    default:
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s/%s: not a float, integer or string dataset",
                           where, name);
    }
    goto done;
nomem:
    st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory reading %s/%s", where, name);
    goto done;
readfail:
    st = stdbp_h5_fail(err, STDBP_EFORMAT, "%s/%s: cannot read", where, name);
done:
    if (ft >= 0)
        H5Tclose(ft);
    if (space >= 0)
        H5Sclose(space);
    if (ds >= 0)
        H5Dclose(ds);
    if (st != STDBP_OK)
        value_free(v);
    return st;
}

/* Names of the links of a group, in name order (malloc'd array of
 * malloc'd strings). */
typedef struct name_list {
    char **names;
    size_t n, cap;
    int nomem;
} name_list;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    name_list *l = data;
    (void)g;
    (void)info;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->names, cap * sizeof *p);
        if (!p) {
            l->nomem = 1;
            return -1;
        }
        l->names = p;
        l->cap = cap;
    }
    if (!(l->names[l->n] = dup_str(name))) {
        l->nomem = 1;
        return -1;
    }
    l->n++;
    return 0;
}

static void names_free(name_list *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->names[k]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static stdbp_status list_names(hid_t g, const char *where, name_list *l, stdbp_err *err)
{
    hsize_t idx = 0;
    memset(l, 0, sizeof *l);
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, l) < 0) {
        stdbp_status st = l->nomem ? stdbp_err_set(err, STDBP_ENOMEM, "out of memory")
                                   : stdbp_h5_fail(err, STDBP_EFORMAT, "%s: cannot list", where);
        names_free(l);
        return st;
    }
    return STDBP_OK;
}

/* Is loc/name a group? (where names it in messages) */
static stdbp_status is_group(hid_t loc, const char *name, const char *where, int *grp,
                             stdbp_err *err)
{
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (o < 0)
        return stdbp_h5_fail(err, STDBP_EFORMAT, "%s: cannot inspect", where);
    *grp = H5Iget_type(o) == H5I_GROUP;
    H5Oclose(o);
    return STDBP_OK;
}

/* Every dataset of group g into *vals (subgroups: the "metadata" one into
 * *meta when meta is not NULL; any other is STDBP_EFORMAT). */
static stdbp_status read_group(hid_t g, const char *where, stdbp_nir_value **vals, size_t *n_vals,
                               stdbp_nir_value **meta, size_t *n_meta, stdbp_err *err)
{
    name_list l;
    stdbp_status st = list_names(g, where, &l, err);
    char sub[512];
    if (st != STDBP_OK)
        return st;
    *vals = calloc(l.n ? l.n : 1, sizeof **vals);
    *n_vals = 0;
    if (!*vals)
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    for (size_t k = 0; k < l.n && st == STDBP_OK; k++) {
        int grp = 0;
        snprintf(sub, sizeof sub, "%s/%s", where, l.names[k]);
        if ((st = is_group(g, l.names[k], sub, &grp, err)) != STDBP_OK) {
            break;
        } else if (grp && meta && strcmp(l.names[k], "metadata") == 0) {
            hid_t mg = H5Gopen2(g, l.names[k], H5P_DEFAULT);
            if (mg < 0) {
                st = stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot open", sub);
            } else {
                st = read_group(mg, sub, meta, n_meta, NULL, NULL, err);
                H5Gclose(mg);
            }
        } else if (grp) {
            st = stdbp_err_set(err, STDBP_EFORMAT,
                               "%s: a group here is not supported (nested graph or nested "
                               "metadata)",
                               sub);
        } else if ((st = read_value(g, l.names[k], where, &(*vals)[*n_vals], err)) == STDBP_OK) {
            (*n_vals)++;
        }
    }
    names_free(&l);
    return st;
}

static void values_free(stdbp_nir_value *v, size_t n)
{
    for (size_t k = 0; v && k < n; k++)
        value_free(&v[k]);
    free(v);
}

void stdbp_nir_free(stdbp_nir_graph **gp)
{
    stdbp_nir_graph *g = gp ? *gp : NULL;
    if (!g)
        return;
    value_free(&g->version);
    value_free(&g->type);
    value_free(&g->edges);
    for (size_t k = 0; g->nodes && k < g->n_nodes; k++) {
        free(g->nodes[k].name);
        values_free(g->nodes[k].values, g->nodes[k].n_values);
        values_free(g->nodes[k].meta, g->nodes[k].n_meta);
    }
    free(g->nodes);
    values_free(g->meta, g->n_meta);
    free(g);
    *gp = NULL;
}

static stdbp_status read_graph(hid_t file, const char *path, stdbp_nir_graph *g, stdbp_err *err)
{
    hid_t node = H5I_INVALID_HID, nodes = H5I_INVALID_HID;
    name_list l = {0};
    stdbp_status st;
    char where[512];

    if ((st = read_value(file, "version", path, &g->version, err)) != STDBP_OK)
        return st;
    if ((node = H5Gopen2(file, "node", H5P_DEFAULT)) < 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: no /node group: not a NIR file", path);
    snprintf(where, sizeof where, "%s:/node", path);
    if ((st = read_value(node, "type", where, &g->type, err)) != STDBP_OK ||
        (st = read_value(node, "edges", where, &g->edges, err)) != STDBP_OK)
        goto done;
    if (g->type.kind != STDBP_NIR_STRING || strcmp(g->type.s[0], "NIRGraph") != 0 ||
        g->edges.kind != STDBP_NIR_STRING || !(g->edges.rank == 2 && g->edges.dims[1] == 2)) {
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "%s: /node is not a NIRGraph with (E, 2) string edges", path);
        goto done;
    }
    g->n_edges = g->edges.dims[0];
    if (H5Lexists(node, "metadata", H5P_DEFAULT) > 0) {
        hid_t mg = H5Gopen2(node, "metadata", H5P_DEFAULT);
        snprintf(where, sizeof where, "%s:/node/metadata", path);
        st = mg < 0 ? stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot open", where)
                    : read_group(mg, where, &g->meta, &g->n_meta, NULL, NULL, err);
        if (mg >= 0)
            H5Gclose(mg);
        if (st != STDBP_OK)
            goto done;
    }
    if ((nodes = H5Gopen2(node, "nodes", H5P_DEFAULT)) < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: no /node/nodes group", path);
        goto done;
    }
    snprintf(where, sizeof where, "%s:/node/nodes", path);
    if ((st = list_names(nodes, where, &l, err)) != STDBP_OK)
        goto done;
    if (!(g->nodes = calloc(l.n ? l.n : 1, sizeof *g->nodes))) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < l.n && st == STDBP_OK; k++) {
        stdbp_nir_node *nd = &g->nodes[k];
        hid_t ng = H5Gopen2(nodes, l.names[k], H5P_DEFAULT);
        snprintf(where, sizeof where, "%s:/node/nodes/%s", path, l.names[k]);
        if (ng < 0) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: not a group", where);
            break;
        }
        g->n_nodes++;
        if (!(nd->name = dup_str(l.names[k])))
            st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        else
            st = read_group(ng, where, &nd->values, &nd->n_values, &nd->meta, &nd->n_meta, err);
        H5Gclose(ng);
        if (st == STDBP_OK && strcmp(stdbp_nir_node_type(nd), "NIRGraph") == 0)
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: nested graphs are not supported", where);
    }
done:
    names_free(&l);
    if (nodes >= 0)
        H5Gclose(nodes);
    if (node >= 0)
        H5Gclose(node);
    return st;
}

stdbp_status stdbp_nir_read(const char *path, stdbp_nir_graph **out, stdbp_err *err)
{
    stdbp_nir_graph *g;
    stdbp_h5_quiet q;
    stdbp_status st = STDBP_OK;
    hid_t file;

    if (!path || !out)
        return stdbp_err_set(err, STDBP_EINVAL, "stdbp_nir_read: no path or no output");
    *out = NULL;
    if (!(g = calloc(1, sizeof *g)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    stdbp_h5_quiet_begin(&q);
    FILE *probe = fopen(path, "rb");
    struct stat sb;
    file = H5I_INVALID_HID;
    if (!probe || fstat(fileno(probe), &sb) != 0)
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot open: %s", path, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        st = stdbp_err_set(err, STDBP_EIO, "%s: is a directory, not a NIR file", path);
    else if (H5Fis_hdf5(path) <= 0)
        st = stdbp_err_set(err, STDBP_EIO, "%s: not an HDF5 file (NIR files are HDF5)", path);
    else if ((file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        st = stdbp_h5_fail(err, STDBP_EIO, "%s: cannot open as HDF5", path);
    if (probe)
        fclose(probe);
    if (file >= 0) {
        st = read_graph(file, path, g, err);
        H5Fclose(file);
    }
    stdbp_h5_quiet_end(&q);
    if (st != STDBP_OK)
        stdbp_nir_free(&g);
    *out = g;
    return st;
}
