/* Fixtures shared by the checkpoint and spike-log tests; see
 * ckpt_fixture.h. */
#include "tap/ckpt_fixture.h"

#include <sys/stat.h>

#include "stdbp/rng.h"

stdbp_net *fixture_net(stdbp_shape in, const stdbp_layer_spec *specs, size_t n)
{
    stdbp_neuron_params np = stdbp_neuron_defaults();
    stdbp_net *net = NULL;
    stdbp_err err;
    if (stdbp_net_create(in, specs, n, &np, &net, &err) != STDBP_OK)
        bail("stdbp_net_create: %s", err.msg);
    return net;
}

stdbp_optim *fixture_optim(stdbp_optim_kind kind, size_t n)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    stdbp_optim *opt = NULL;
    stdbp_err err;
    p.kind = kind;
    if (stdbp_optim_create(&p, n, &opt, &err) != STDBP_OK)
        bail("stdbp_optim_create: %s", err.msg);
    return opt;
}

void fixture_fill_normal(double *v, size_t n, uint64_t seed)
{
    stdbp_rng rng;
    stdbp_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = stdbp_rng_normal(&rng);
}

int fixture_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

void fixture_run_dir(MPI_Comm comm, const char *base, const char *name, char *buf, size_t len)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0 && (size_t)snprintf(buf, len, "%s/%s", base ? base : test_tmpdir(), name) >= len)
        bail("path too long: %s", name);
    if (len > (size_t)INT32_MAX)
        bail("run directory buffer too large");
    MPI_Bcast(buf, (int)len, MPI_CHAR, 0, comm); /* collective */
}
