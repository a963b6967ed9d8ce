/* Shared by the stdbp_* programs: config loading on rank 0 with a
 * broadcast, and one way to report a fatal error. */
#ifndef STDBP_CLI_COMMON_H
#define STDBP_CLI_COMMON_H

#include <mpi.h>

#include "stdbp/ckpt.h"
#include "stdbp/config.h"
#include "stdbp/error.h"

/* Collective on comm: rank 0 loads path (or the YAML text yaml_text when
 * path is NULL), applies the n_sets "key.path=value" overrides and
 * validates; every rank then receives the config and, in *yaml_out
 * (malloc'd), the effective config text. A failure on rank 0 is returned
 * on every rank. */
stdbp_status stdbp_cli_load_config(MPI_Comm comm, const char *path, const char *yaml_text,
                                   char **sets, int n_sets, stdbp_config *cfg, char **yaml_out,
                                   stdbp_err *err);

/* Collective on comm: a program's CHECKPOINT argument into path (of size
 * len): a checkpoint file as it is, a run directory as its newest valid
 * checkpoint (stdbp_ckpt_find_latest; an error when it has none). Rank 0
 * looks at the file system; every rank gets the same path or error. */
stdbp_status stdbp_cli_resolve_checkpoint(MPI_Comm comm, const char *arg, char *path, size_t len,
                                          stdbp_err *err);

/* Collective on comm: rebuild a checkpoint's network from the config
 * stored in it (plus the n_sets overrides), open a data set and load the
 * weights. arg is a checkpoint file or a run directory
 * (stdbp_cli_resolve_checkpoint); the file used goes into resolved (of
 * size resolved_len) unless that is NULL. which: "test" opens data.test
 * (else data.train), "train" opens data.train (for the training and
 * validation splits). state (NULL: not wanted) gets the stored training
 * state (its step and epoch). On success the caller owns *ds
 * (stdbp_dataset_free) and *net (stdbp_net_destroy). */
stdbp_status stdbp_cli_load_checkpoint(MPI_Comm comm, const char *arg, char **sets, int n_sets,
                                       const char *which, stdbp_config *cfg, stdbp_dataset *ds,
                                       stdbp_net **net, char *resolved, size_t resolved_len,
                                       stdbp_train_state *state, stdbp_err *err);

/* Not collective: an accelerator profile given as NAME or path into path
 * (of size len). A value that contains '/' or ends in .yaml is a path,
 * used as it is. Otherwise NAME.yaml is looked up in the directories of
 * $STDBP_HW_PATH (colon-separated) when set, then, for a program run from
 * its build tree, the source tree's configs/hw, then the installed
 * profiles ($(pkgdatadir)/hw); the first found wins. When none has it, the
 * error names the directories searched and the profiles found there. An
 * empty name stays empty (the built-in default profile). */
stdbp_status stdbp_cli_find_hw(const char *name, char *path, size_t len, stdbp_err *err);

/* Collective on comm: stdbp_cli_find_hw on rank 0 for the profile in
 * field (of size len, e.g. cfg->deploy.hw), replaced by the path found;
 * every rank gets the same field or error. */
stdbp_status stdbp_cli_resolve_hw(MPI_Comm comm, char *field, size_t len, stdbp_err *err);

/* Rank 0 prints "PROG: error: MSG" on stderr; every rank finalises MPI.
 * Returns the exit status to use (1). Call on every rank. */
int stdbp_cli_fail(MPI_Comm comm, const char *prog, const stdbp_err *err);

/* Collective on MPI_COMM_WORLD (every rank calls it first thing): MPI_Init,
 * then the default OpenMP threads (stdbp_dist_default_threads: with
 * OMP_NUM_THREADS unset, the rank's CPUs over the ranks on its node), then
 * HDF5's own error printing off for the
 * whole program (stdbp reports HDF5 failures in its own messages; left
 * on, HDF5 1.10 also prints "infinite loop closing library" at exit after
 * reading a damaged file), then the log handler: the library's warnings
 * appear on rank 0 as "PROG: warning: MSG" on stderr. prog must outlive
 * the program (a string literal). */
void stdbp_cli_init(int *argc, char ***argv, const char *prog);

/* For a process that never starts MPI (stdbp_sweep --run, which starts
 * an MPI job per point): the log handler of stdbp_cli_init only, as rank
 * 0. Not collective. */
void stdbp_cli_init_nompi(const char *prog);

/* --exit-file PATH (STDBP_CLI_OPT_EXIT_FILE): "STATUS\n" into path, for
 * launchers that do not pass a rank's 75 on (mpirun after its own
 * SIGTERM: docs/SLURM.md). Via path.tmp and a rename, so that a reader
 * never sees a partial file; anything but a regular file at path (or
 * path.tmp) is left alone. A failure is a warning ("PROG: warning: ...")
 * that leaves the exit status as it is. Not collective: rank 0 calls it
 * just before it exits. */
void stdbp_cli_write_exit_file(const char *prog, const char *path, int status);

/* --progress MODE: "bar" 1, "log" 0, "auto" -1; -2 for anything else.
 * Not collective; cannot fail. */
int stdbp_cli_progress_mode(const char *mode);

#endif
