/* stdbp_config_bcast on 2 ranks: rank root's config, loaded from a file
 * and overridden, reaches every rank exactly, from root 0 and root 1;
 * the bytes were garbage before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/config.h"
#include "stdbp/dist.h"
#include "tap/tap_mpi.h"

/* FNV-1a over the struct's bytes, padding included. */
static unsigned long long digest(const stdbp_config *cfg)
{
    const unsigned char *p = (const unsigned char *)cfg;
    unsigned long long h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < sizeof *cfg; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static stdbp_status load_expected(stdbp_config *cfg, int variant, stdbp_err *err)
{
    char path[4096], set[64];
    const char *top = getenv("top_srcdir");
    stdbp_status st;
    snprintf(path, sizeof path, "%s/configs/mnist_cnn.yaml", top && top[0] ? top : ".");
    st = stdbp_config_load(path, cfg, err);
    snprintf(set, sizeof set, "run.seed=%d", 1000 + variant);
    if (!st)
        st = stdbp_config_set(cfg, set, err);
    if (!st)
        st = stdbp_config_set(cfg, "deploy.bits=[3, 5, 7]", err);
    if (!st)
        st = stdbp_config_set(cfg, "train.clip_norm=inf", err);
    return st;
}

int main(int argc, char **argv)
{
    stdbp_config cfg, want;
    stdbp_err err;
    char what[128];
    int rank, size, root;
    MPI_Init(&argc, &argv);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    plan(2 + 3 * 2);
    ok_all(MPI_COMM_WORLD, size >= 2, "running on %d ranks", size);
    /* Every rank can compute what root will send: same file, same sets. */
    stdbp_err_clear(&err);
    ok_all(MPI_COMM_WORLD, load_expected(&want, 0, &err) == STDBP_OK, "the config loads");
    if (err.code)
        diag("%s", err.msg);
    for (root = 0; root < 2; root++) {
        if (load_expected(&want, root, &err) != STDBP_OK)
            bail("%s", err.msg);
        if (rank == root)
            cfg = want;
        else
            memset(&cfg, 0xA5, sizeof cfg); /* garbage until the broadcast */
        ok_all(MPI_COMM_WORLD, stdbp_config_bcast(&cfg, root, MPI_COMM_WORLD, &err) == STDBP_OK,
               "bcast from root %d succeeds", root);
        ok_all(MPI_COMM_WORLD, stdbp_config_equal(&want, &cfg, what, sizeof what),
               "every rank has root %d's config (%s)", root, what[0] ? what : "all keys equal");
        {
            /* The received bytes are root's bytes, padding and all. */
            unsigned long long sent = rank == root ? digest(&cfg) : 0;
            MPI_Bcast(&sent, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD);
            ok_all(MPI_COMM_WORLD, digest(&cfg) == sent, "byte for byte, from root %d", root);
        }
    }
    return tap_mpi_finish(MPI_COMM_WORLD);
}
