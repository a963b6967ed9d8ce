/* stdbp_sweep --run: a sweep's points on this machine, each as a child
 * process (an MPI job of its own: `mpirun -np P stdbp_sweep SWEEP --index
 * K --resume auto`), N at a time, then the summary. The process that runs
 * this never starts MPI itself (an MPI singleton's environment would leak
 * into the children). See docs/SLURM.md, "Running a sweep on this
 * machine". */
#ifndef STDBP_CLI_SWEEP_LOCAL_H
#define STDBP_CLI_SWEEP_LOCAL_H

#include <stddef.h>

#include "stdbp/error.h"
#include "stdbp/sweep.h"

/* The name of each point's log, in its run directory. */
#define STDBP_SWEEP_LOG_FILE "sweep.log"

typedef struct stdbp_sweep_local_opts {
    const char *sweep_path; /* the sweep file as given (the children get it) */
    const char *argv0;      /* this program, when /proc/self/exe is unknown */
    long jobs;              /* points at a time (>= 1) */
    long ranks;             /* MPI ranks per point (>= 1) */
    const char *launcher;   /* "mpirun" (or another program that takes
                               mpirun's -np and --bind-to) or "none" */
    char *const *sets;      /* --set KEY=VALUE for every point */
    size_t n_sets;
    int deploy;   /* 0: pass --no-deploy */
    int quiet;    /* pass --quiet; print no per-point lines */
    int progress; /* pass --progress bar (1) or log (0); -1: nothing */
} stdbp_sweep_local_opts;

/* Run every point of sw that has not finished (stdbp_sweep_point_done),
 * o->jobs at a time, each with its output appended to
 * RUN_DIR/sweep.log; print a line as each starts and ends; then print
 * the summary (stdbp_sweep_summary). SIGINT, SIGTERM and SIGHUP stop it:
 * no new point starts, the running ones get SIGUSR1 (they checkpoint and
 * exit 75); a second such signal kills them (SIGKILL to each child's
 * process group). *exit_status: 0 every point done, 1 a point failed, 75
 * stopped by a signal. Returns an error (and starts nothing) when the
 * sweep's points cannot be listed; not collective (no MPI). */
stdbp_status stdbp_sweep_run_local(const stdbp_sweep *sw, const stdbp_sweep_local_opts *o,
                                   int *exit_status, stdbp_err *err);

#endif
