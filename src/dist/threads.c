/* The default number of OpenMP threads per rank; see dist.h. */
#include "stdbp/dist.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int stdbp_dist_default_threads(MPI_Comm comm)
{
    /* collective, before any rank may return: the ranks of comm that
     * share this rank's node */
    MPI_Comm node;
    int local = 1;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local);
    MPI_Comm_free(&node);
#ifdef _OPENMP
    const char *env = getenv("OMP_NUM_THREADS");
    if (!env || !*env) {
        /* omp_get_num_procs: the CPUs this process may run on (its
         * affinity, so a rank bound to one core gets one thread) */
        const int n = omp_get_num_procs() / (local > 0 ? local : 1);
        omp_set_num_threads(n > 1 ? n : 1);
    }
    return omp_get_max_threads();
#else
    (void)local;
    return 1;
#endif
}
