/* Sending the configuration to every rank. */
#include "stdbp/dist.h"

/* The struct is plain data (fixed arrays, no pointers): one MPI_Bcast of
 * its bytes carries it whole. Every rank must run the same build, so
 * that the layout (sizes, padding, enum widths) agrees. */
_Static_assert(sizeof(stdbp_config) < 2147483647, "fits one MPI count");

stdbp_status stdbp_config_bcast(stdbp_config *cfg, int root, MPI_Comm comm, stdbp_err *err)
{
    int rc = MPI_Bcast(cfg, (int)sizeof *cfg, MPI_BYTE, root, comm);
    if (rc != MPI_SUCCESS) {
        char msg[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, msg, &len);
        return stdbp_err_set(err, STDBP_EMPI, "broadcasting the configuration: %s", msg);
    }
    return STDBP_OK;
}
