/* The contents of a checkpoint file as docs/FORMAT.md lays them out: the
 * root attributes, /model, /weights, /optimizer, /train, /config and the
 * digest, written collectively (rank 0 writes the data, the other ranks
 * take part with empty selections); see ckpt_write.h. Every HDF5 call
 * that can fail is one step, agreed on by all ranks before the next
 * (STEP): a failure on one rank, say a full disk seen by rank 0 only,
 * sends every rank to the clean-up instead of into a collective that the
 * failing rank has left. */
#include "ckpt/ckpt_write.h"

#include <stdio.h>
#include <string.h>

#include "stdbp/version.h"
#include "util/h5util.h"

stdbp_status stdbp_ckpt_steps_fail(ckpt_steps *s, const char *call)
{
    char detail[512];
    stdbp_h5_error(detail, sizeof detail);
    return stdbp_err_set(s->e, STDBP_EIO, "%s %s: %s failed: %s", s->what, s->path, call, detail);
}

stdbp_status stdbp_ckpt_steps_prefix(ckpt_steps *s)
{
    return stdbp_err_prefix(s->e, "%s %s: ", s->what, s->path);
}

stdbp_status stdbp_ckpt_steps_agree(ckpt_steps *s, stdbp_status mine)
{
    s->done++;
    if (mine == STDBP_OK && s->fail_at == s->done && (s->fail_rank < 0 || s->fail_rank == s->rank))
        mine = stdbp_err_set(s->e, STDBP_EIO, "%s %s: step %llu failed (injected by a test hook)",
                             s->what, s->path, (unsigned long long)s->done);
    return stdbp_dist_agree(s->comm, mine, s->e);
}

stdbp_status stdbp_ckpt_writer_fail(ckpt_writer *w, const char *what)
{
    return stdbp_ckpt_steps_fail(&w->steps, what);
}

stdbp_status stdbp_ckpt_writer_prefix(ckpt_writer *w)
{
    return stdbp_ckpt_steps_prefix(&w->steps);
}

stdbp_status stdbp_ckpt_writer_agree(ckpt_writer *w, stdbp_status mine)
{
    return stdbp_ckpt_steps_agree(&w->steps, mine);
}

/* One step of s: st gets the agreed outcome of expr; on failure, goto done. */
#define SSTEP(expr)                                                                                \
    do {                                                                                           \
        st = stdbp_ckpt_steps_agree(s, (expr));                                                    \
        if (st != STDBP_OK)                                                                        \
            goto done;                                                                             \
    } while (0)

stdbp_status stdbp_ckpt_put_rows(ckpt_steps *s, const ckpt_rows *r, hid_t *out)
{
    hsize_t dims[4], start[4] = {0, 0, 0, 0}, cnt[4], mdims[4];
    size_t n = 1;
    hid_t dcpl = H5I_INVALID_HID, fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    hid_t dset = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK, mine = STDBP_OK;
    char what[256];
    static const double dummy[2];

    *out = H5I_INVALID_HID;
    snprintf(what, sizeof what, "dataset %s", r->name);
    if (r->rank < 1 || r->rank > 4 || r->first > r->dims[0] || r->count > r->dims[0] - r->first)
        mine = stdbp_err_set(s->e, STDBP_EINVAL, "%s %s: %s: rows [%llu, +%llu) of a rank-%d shape",
                             s->what, s->path, what, (unsigned long long)r->first,
                             (unsigned long long)r->count, r->rank);
    for (int i = 0; mine == STDBP_OK && i < r->rank; i++) {
        dims[i] = cnt[i] = mdims[i] = r->dims[i];
        n *= (size_t)r->dims[i];
    }
    if (mine == STDBP_OK) {
        start[0] = r->first;
        cnt[0] = r->count;
        mdims[0] = r->count ? r->count : 1; /* an empty selection of one row */
        if (stdbp_h5_dcpl(r->rank, dims, H5Tget_size(r->ftype), r->chunk_bytes, r->fletcher32,
                          r->deflate, &dcpl, s->e) != STDBP_OK)
            mine = stdbp_err_prefix(s->e, "%s %s: %s: ", s->what, s->path, what);
    }
    if (mine == STDBP_OK) {
        fspace = H5Screate_simple(r->rank, dims, NULL);
        mspace = H5Screate_simple(r->rank, mdims, NULL);
        if (fspace < 0 || mspace < 0 ||
            (r->fill ? H5Pset_fill_value(dcpl, r->mtype, r->fill)
                     : H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER)) < 0 ||
            (n > 0 &&
             (r->count ? H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, cnt, NULL)
                       : (H5Sselect_none(fspace) < 0 ? -1 : H5Sselect_none(mspace))) < 0))
            mine = stdbp_ckpt_steps_fail(s, what);
    }
    SSTEP(mine);
    dset = H5Dcreate2(r->loc, r->name, r->ftype, fspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    SSTEP(dset < 0 ? stdbp_ckpt_steps_fail(s, what) : STDBP_OK);
    if (n > 0)
        SSTEP(H5Dwrite(dset, r->mtype, mspace, fspace, r->dxpl,
                       r->count && r->buf ? r->buf : (const void *)dummy) < 0
                  ? stdbp_ckpt_steps_fail(s, what)
                  : STDBP_OK);
    *out = dset;
    dset = H5I_INVALID_HID;
done:
    if (dset >= 0)
        H5Dclose(dset);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return st;
}

/* One step: st gets the agreed outcome of expr; on failure, goto done. */
#define STEP(expr)                                                                                 \
    do {                                                                                           \
        st = stdbp_ckpt_writer_agree(w, (expr));                                                   \
        if (st != STDBP_OK)                                                                        \
            goto done;                                                                             \
    } while (0)
/* One attribute (an h5util call, whose message gets the file's name). */
#define ATTR(call) STEP((call) != STDBP_OK ? stdbp_ckpt_writer_prefix(w) : STDBP_OK)

/* A chunked, Fletcher32-checked dataset (stdbp_ckpt_put_rows): rank 0
 * writes all of it, the other ranks take part with empty selections.
 * Leaves the dataset open in *out for attributes. */
static stdbp_status write_dataset(ckpt_writer *w, hid_t loc, const char *name, hid_t ftype,
                                  hid_t mtype, int rank, const uint64_t *dims64, const void *buf,
                                  hid_t *out)
{
    hsize_t dims[4] = {0, 0, 0, 0};
    ckpt_rows r;
    stdbp_status st;
    for (int i = 0; i < rank && i < 4; i++)
        dims[i] = (hsize_t)dims64[i];
    memset(&r, 0, sizeof r);
    r.loc = loc, r.name = name, r.ftype = ftype, r.mtype = mtype;
    r.rank = rank, r.dims = dims;
    r.chunk_bytes = CKPT_CHUNK_BYTES, r.fletcher32 = 1, r.deflate = 0;
    r.fill = NULL; /* every element is written */
    r.dxpl = w->dxpl;
    r.first = 0, r.count = w->rank == 0 ? dims[0] : 0;
    r.buf = buf;
    st = stdbp_ckpt_put_rows(&w->steps, &r, out);
    stdbp_ckpt_test_delay();
    return st;
}

static stdbp_status write_root_attrs(ckpt_writer *w)
{
    stdbp_status st = STDBP_OK;
    int size;
    MPI_Comm_size(w->comm, &size);
    ATTR(stdbp_h5_attr_put_str(w->file, "format", CKPT_FORMAT_NAME, w->e));
    ATTR(stdbp_h5_attr_put_u64(w->file, "format_version", CKPT_FORMAT_VERSION, w->e));
    ATTR(stdbp_h5_attr_put_str(w->file, "stdbp_version", STDBP_VERSION, w->e));
    ATTR(stdbp_h5_attr_put_str(w->file, "created", w->hdr.created, w->e));
    ATTR(stdbp_h5_attr_put_u64(w->file, "writer_ranks", (uint64_t)size, w->e));
done:
    return st;
}

static stdbp_status write_layer_group(ckpt_writer *w, hid_t g, size_t i)
{
    const ckpt_layer *l = &w->layers[i];
    char name[32], desc[128], wname[64], wpath[96];
    hid_t lg;
    stdbp_status st = STDBP_OK;
    snprintf(name, sizeof name, "layer%02zu", i);
    stdbp_ckpt_weight_name(i, l, wname, sizeof wname);
    snprintf(wpath, sizeof wpath, "/weights/%s", wname);
    lg = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    STEP(lg < 0 ? stdbp_ckpt_writer_fail(w, "a layer group under /model") : STDBP_OK);
    ATTR(stdbp_h5_attr_put_str(lg, "kind", stdbp_ckpt_kind_name(l->kind), w->e));
    ATTR(stdbp_h5_attr_put_i32v(lg, "in", l->in, 3, w->e));
    ATTR(stdbp_h5_attr_put_i32v(lg, "out", l->out, 3, w->e));
    ATTR(stdbp_h5_attr_put_i32(lg, "kernel", l->kernel, w->e));
    ATTR(stdbp_h5_attr_put_i32(lg, "stride", l->stride, w->e));
    ATTR(stdbp_h5_attr_put_i32(lg, "padding", l->padding, w->e));
    ATTR(stdbp_h5_attr_put_u64(lg, "param_count", l->param_count, w->e));
    ATTR(stdbp_h5_attr_put_str(lg, "describe", stdbp_ckpt_layer_describe(l, desc, sizeof desc),
                               w->e));
    ATTR(stdbp_h5_attr_put_str(lg, "weights", l->param_count ? wpath : "", w->e));
done:
    if (lg >= 0)
        H5Gclose(lg);
    return st;
}

static stdbp_status write_model(ckpt_writer *w)
{
    hid_t g = H5Gcreate2(w->file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    stdbp_status st = STDBP_OK;
    uint64_t n_weights = 0;
    int32_t input[3] = {0, 0, 0};
    STEP(g < 0 ? stdbp_ckpt_writer_fail(w, "group /model") : STDBP_OK);
    if (w->n_layers)
        memcpy(input, w->layers[0].in, sizeof input);
    for (size_t i = 0; i < w->n_layers; i++)
        n_weights += w->layers[i].param_count;
    ATTR(stdbp_h5_attr_put_u64(g, "n_layers", w->n_layers, w->e));
    ATTR(stdbp_h5_attr_put_i32v(g, "input", input, 3, w->e));
    ATTR(stdbp_h5_attr_put_u64(g, "n_weights", n_weights, w->e));
    for (size_t i = 0; i < w->n_layers; i++) {
        st = write_layer_group(w, g, i);
        if (st != STDBP_OK)
            goto done;
    }
done:
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static const char *weight_layout(int kind)
{
    if (kind == STDBP_LAYER_DENSE)
        return "W[in][out], in = c*h*w of the layer input (c-major), out = neurons";
    if (kind == STDBP_LAYER_CONV2D)
        return "W[c_in][k_y][k_x][c_out]";
    return "flat";
}

static stdbp_status write_layer_weights(ckpt_writer *w, hid_t g, size_t i)
{
    const ckpt_layer *l = &w->layers[i];
    stdbp_layer_info info = stdbp_net_layer(w->net, i);
    uint64_t dims[4];
    int rank = stdbp_ckpt_weight_dims(l, dims);
    char name[64];
    hid_t d = H5I_INVALID_HID;
    stdbp_status st;
    stdbp_ckpt_weight_name(i, l, name, sizeof name);
    st = write_dataset(w, g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, dims,
                       w->params + info.param_offset, &d);
    if (st != STDBP_OK)
        goto done;
    ATTR(stdbp_h5_attr_put_u64(d, "layer", i, w->e));
    ATTR(stdbp_h5_attr_put_str(d, "kind", stdbp_ckpt_kind_name(l->kind), w->e));
    ATTR(stdbp_h5_attr_put_str(d, "layout", weight_layout(l->kind), w->e));
    ATTR(stdbp_ckpt_describe(d, "threshold/model time",
                             l->kind == STDBP_LAYER_CONV2D ? "the conv2d layer's kernel weights"
                                                           : "the dense layer's weights",
                             w->e));
done:
    if (d >= 0)
        H5Dclose(d);
    return st;
}

static stdbp_status write_weights(ckpt_writer *w)
{
    hid_t g = H5Gcreate2(w->file, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    stdbp_status st = STDBP_OK;
    STEP(g < 0 ? stdbp_ckpt_writer_fail(w, "group /weights") : STDBP_OK);
    for (size_t i = 0; i < w->n_layers; i++)
        if (w->layers[i].param_count) {
            st = write_layer_weights(w, g, i);
            if (st != STDBP_OK)
                goto done;
        }
done:
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static stdbp_status write_optimizer(ckpt_writer *w)
{
    hid_t g = H5Gcreate2(w->file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d = H5I_INVALID_HID;
    uint64_t dims[1] = {w->state_size};
    stdbp_status st = STDBP_OK;
    const char *kind = stdbp_ckpt_optim_kind(w->state_size, stdbp_net_num_params(w->net));
    const char *layout = strcmp(kind, "adam") == 0  ? "m[n_params] then v[n_params]"
                         : strcmp(kind, "sgd") == 0 ? "velocity[n_params]"
                                                    : "flat";
    STEP(g < 0 ? stdbp_ckpt_writer_fail(w, "group /optimizer") : STDBP_OK);
    ATTR(stdbp_h5_attr_put_str(g, "kind", kind, w->e));
    ATTR(stdbp_h5_attr_put_u64(g, "steps", w->hdr.optim_steps, w->e));
    ATTR(stdbp_h5_attr_put_u64(g, "n_params", stdbp_net_num_params(w->net), w->e));
    st = write_dataset(w, g, "state", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, w->state, &d);
    if (st != STDBP_OK)
        goto done;
    ATTR(stdbp_h5_attr_put_str(d, "layout", layout, w->e));
    ATTR(stdbp_ckpt_describe(d, "weight units (m, velocity), squared (v)",
                             "the optimiser's per-parameter state, in the layout above", w->e));
done:
    if (d >= 0)
        H5Dclose(d);
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static stdbp_status write_train(ckpt_writer *w)
{
    const uint64_t *t = w->hdr.train;
    hid_t g = H5Gcreate2(w->file, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d = H5I_INVALID_HID;
    uint64_t dims[1] = {4};
    double best, wall;
    int64_t q[3];
    stdbp_status st = STDBP_OK;
    memcpy(&best, &t[9], sizeof best);
    memcpy(q, &t[10], sizeof q);
    memcpy(&wall, &t[13], sizeof wall);
    STEP(g < 0 ? stdbp_ckpt_writer_fail(w, "group /train") : STDBP_OK);
    ATTR(stdbp_h5_attr_put_u64(g, "step", t[0], w->e));
    ATTR(stdbp_h5_attr_put_u64(g, "epoch", t[1], w->e));
    ATTR(stdbp_h5_attr_put_u64(g, "batch", t[2], w->e));
    ATTR(stdbp_h5_attr_put_u64(g, "seed", t[3], w->e));
    ATTR(stdbp_h5_attr_put_f64(g, "best_val_acc", best, w->e));
    ATTR(stdbp_h5_attr_put_u64(g, "best_epoch", t[8], w->e));
    ATTR(stdbp_h5_attr_put_i64(g, "epoch_loss", q[0], w->e));
    ATTR(stdbp_h5_attr_put_i64(g, "epoch_correct", q[1], w->e));
    ATTR(stdbp_h5_attr_put_i64(g, "epoch_samples", q[2], w->e));
    ATTR(stdbp_h5_attr_put_f64(g, "wall_seconds", wall, w->e));
    st = write_dataset(w, g, "rng", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, dims, &t[4], &d);
    if (st != STDBP_OK)
        goto done;
    ATTR(stdbp_h5_attr_put_str(d, "generator", "xoshiro256**", w->e));
    ATTR(stdbp_ckpt_describe(d, "1", "the state of the run's random generator", w->e));
done:
    if (d >= 0)
        H5Dclose(d);
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static stdbp_status write_config(ckpt_writer *w)
{
    size_t len = (size_t)w->hdr.config_len;
    uint64_t dims[1] = {1};
    hid_t t = H5Tcopy(H5T_C_S1), d = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    STEP(t < 0 || H5Tset_size(t, len ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
                 H5Tset_cset(t, H5T_CSET_UTF8) < 0
             ? stdbp_ckpt_writer_fail(w, "the config string type")
             : STDBP_OK);
    st = write_dataset(w, w->file, "config", t, t, 1, dims, len ? w->config : "", &d);
    if (st != STDBP_OK)
        goto done;
    ATTR(stdbp_h5_attr_put_str(d, "format", "yaml", w->e));
    ATTR(stdbp_ckpt_describe(d, "none", "the run's effective configuration, as YAML", w->e));
done:
    if (d >= 0)
        H5Dclose(d);
    if (t >= 0)
        H5Tclose(t);
    return st;
}

/* Each part returns the agreed status of its last step. */
#define PART(call)                                                                                 \
    do {                                                                                           \
        st = (call);                                                                               \
        if (st != STDBP_OK)                                                                        \
            goto done;                                                                             \
    } while (0)

stdbp_status stdbp_ckpt_write_contents(ckpt_writer *w)
{
    stdbp_status st = STDBP_OK;
    PART(write_root_attrs(w));
    PART(write_model(w));
    PART(write_weights(w));
    if (w->hdr.has_optim)
        PART(write_optimizer(w));
    if (w->hdr.has_train)
        PART(write_train(w));
    PART(write_config(w));
    /* Last: the digest. A file without it was not finished. */
    ATTR(stdbp_h5_attr_put_str(w->file, "digest", w->hdr.digest, w->e));
    STEP(H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0 ? stdbp_ckpt_writer_fail(w, "H5Fflush")
                                                 : STDBP_OK);
done:
    return st;
}
