/* Shared-memory windows that may fail without ending the job; see
 * window.h. */
#include "dist/window.h"

#include <stdio.h>

#include "util/test_hooks.h"

int stdbp_dist_window_alloc(MPI_Comm node, size_t mine, void **base, MPI_Win *win, char *why,
                            size_t why_len)
{
    int rc, ok, all, len;
    *base = NULL;
    /* Failures here are reported, not fatal: the caller may fall back. */
    MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN);
    if (stdbp_test_hooks_get()->shm_fail)
        rc = MPI_ERR_NO_MEM;
    else /* collective on node */
        rc = MPI_Win_allocate_shared((MPI_Aint)mine, 1, MPI_INFO_NULL, node, base, win);
    ok = rc == MPI_SUCCESS;
    if (!ok) {
        char s[MPI_MAX_ERROR_STRING];
        if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
            snprintf(s, sizeof s, "error %d", rc);
        snprintf(why, why_len, "%s", s);
    }
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, node); /* collective */
    MPI_Comm_set_errhandler(node, MPI_ERRORS_ARE_FATAL);
    if (!all) {
        if (ok) /* some rank of node failed: it has no window, so this one
                   cannot be freed collectively; it stays, unused, until
                   MPI_Finalize */
            snprintf(why, why_len, "another rank of this node could not create it");
        *base = NULL;
        return 0;
    }
    return 1;
}
