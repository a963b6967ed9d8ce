/* Fixtures shared by the checkpoint and spike-log tests (tests/unit/
 * test_ckpt, tests/mpi/test_ckpt_mpi, tests/mpi/test_spikelog): a small
 * net and optimiser, a run directory every rank agrees on, paths. Each
 * helper bails out (ends the test) when it cannot do its job. */
#ifndef STDBP_TAP_CKPT_FIXTURE_H
#define STDBP_TAP_CKPT_FIXTURE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stdbp/net.h"
#include "stdbp/optim.h"
#include "tap/basic.h"

/* snprintf into an array, bailing out if the path does not fit. */
#define PATHF(buf, ...)                                                                            \
    do {                                                                                           \
        if ((size_t)snprintf(buf, sizeof buf, __VA_ARGS__) >= sizeof buf)                          \
            bail("path too long: %s", #buf);                                                       \
    } while (0)

/* Not collective: the n layers of specs on input shape in, with the
 * default neuron parameters (weights not initialised). */
stdbp_net *fixture_net(stdbp_shape in, const stdbp_layer_spec *specs, size_t n);
/* Not collective: an optimiser of kind for n parameters, the rest of its
 * settings default. */
stdbp_optim *fixture_optim(stdbp_optim_kind kind, size_t n);
/* Not collective: n standard normal values drawn from seed. */
void fixture_fill_normal(double *v, size_t n, uint64_t seed);
/* Not collective: 1 when path exists, else 0. */
int fixture_exists(const char *path);
/* Collective on comm: buf (len bytes) receives, on every rank, rank 0's
 * "BASE/NAME", BASE being base or (when NULL) rank 0's test_tmpdir()
 * (removed by rank 0 at exit). */
void fixture_run_dir(MPI_Comm comm, const char *base, const char *name, char *buf, size_t len);

#endif
