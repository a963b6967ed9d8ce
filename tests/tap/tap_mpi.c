/* TAP under MPI; see tap_mpi.h. */
#include "tap/tap_mpi.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_rank;

void tap_mpi_init(MPI_Comm comm)
{
    MPI_Comm_rank(comm, &tap_rank);
    tap_set_quiet(tap_rank != 0);
}

int ok_all(MPI_Comm comm, int success, const char *fmt, ...)
{
    char name[512];
    int size, mine = success != 0, all = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    MPI_Comm_size(comm, &size);
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, comm); /* collective */
    if (!all) {
        int *each = tap_rank == 0 ? malloc((size_t)size * sizeof *each) : NULL;
        MPI_Gather(&mine, 1, MPI_INT, each, 1, MPI_INT, 0, comm); /* collective */
        if (each) {
            for (int r = 0; r < size; r++)
                if (!each[r])
                    diag("failed on rank %d of %d", r, size);
            free(each);
        }
    }
    return ok(all, "%s", name);
}

int tap_mpi_finish(MPI_Comm comm)
{
    int mine = tap_failures() != 0, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_LOR, comm); /* collective */
    MPI_Finalize();
    return any ? 1 : 0;
}
