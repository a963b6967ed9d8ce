/* Helpers shared by the stdbp_* programs; see cli_common.h. */
#include "cli/cli_common.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stdbp/ckpt.h"
#include "stdbp/dist.h"

int stdbp_cli_progress_mode(const char *mode)
{
    if (strcmp(mode, "bar") == 0)
        return 1;
    if (strcmp(mode, "log") == 0)
        return 0;
    if (strcmp(mode, "auto") == 0)
        return -1;
    return -2;
}

/* The program's name and this process's rank in MPI_COMM_WORLD, for the
 * log handler. */
static const char *log_prog = "stdbp";
static int log_rank;

/* What the library reports, on rank 0 only (the other ranks would repeat
 * it): warnings as "PROG: warning: MSG" on stderr; notes (the deploy
 * phase's progress) unchanged on stdout, between the program's own lines
 * around them. */
static void log_to_console(stdbp_log_level level, const char *msg, void *user)
{
    (void)user;
    if (log_rank != 0)
        return;
    if (level == STDBP_LOG_WARNING) {
        fprintf(stderr, "%s: warning: %s\n", log_prog, msg);
        fflush(stderr);
    } else {
        printf("%s\n", msg);
        fflush(stdout);
    }
}

void stdbp_cli_init(int *argc, char ***argv, const char *prog)
{
    MPI_Init(argc, argv);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &log_rank);
    log_prog = prog;
    stdbp_set_log_handler(log_to_console, NULL);
}

void stdbp_cli_init_nompi(const char *prog)
{
    log_rank = 0;
    log_prog = prog;
    stdbp_set_log_handler(log_to_console, NULL);
}

stdbp_status stdbp_cli_load_config(MPI_Comm comm, const char *path, const char *yaml_text,
                                   char **sets, int n_sets, stdbp_config *cfg, char **yaml_out,
                                   stdbp_err *err)
{
    int rank;
    stdbp_status st = STDBP_OK;
    size_t len = 0;
    char *yaml = NULL;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        if (path)
            st = stdbp_config_load(path, cfg, err);
        else
            st = stdbp_config_load_string(yaml_text, strlen(yaml_text), "(checkpoint config)", cfg,
                                          err);
        for (int k = 0; k < n_sets && st == STDBP_OK; k++)
            st = stdbp_config_set(cfg, sets[k], err);
        if (st == STDBP_OK)
            st = stdbp_config_validate(cfg, err);
        if (st == STDBP_OK)
            st = stdbp_config_emit(cfg, &yaml, &len, err);
    }
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) { /* collective */
        free(yaml);
        return st;
    }
    if ((st = stdbp_config_bcast(cfg, 0, comm, err)) != STDBP_OK) /* collective */
        return st;
    if ((st = stdbp_dist_bcast_string(comm, 0, &yaml, err)) != STDBP_OK) /* collective */
        return st;
    *yaml_out = yaml;
    return STDBP_OK;
}

stdbp_status stdbp_cli_load_checkpoint(MPI_Comm comm, const char *path, char **sets, int n_sets,
                                       stdbp_config *cfg, stdbp_dataset *test, stdbp_net **net,
                                       stdbp_err *err)
{
    int rank;
    char *stored = NULL, *yaml = NULL;
    MPI_Comm_rank(comm, &rank);
    memset(test, 0, sizeof *test);
    *net = NULL;
    stdbp_status st = rank == 0 ? stdbp_ckpt_read_config(path, &stored, err) : STDBP_OK;
    st = stdbp_dist_agree(comm, st, err); /* collective */
    if (st == STDBP_OK)
        st = stdbp_cli_load_config(comm, NULL, stored ? stored : "", sets, n_sets, cfg, &yaml,
                                   err); /* collective */
    if (st == STDBP_OK) {
        const char *name = cfg->data.test[0] ? cfg->data.test : cfg->data.train;
        st = stdbp_dataset_open(name, cfg->data.dir, "test", test, err);
        if (st == STDBP_OK)
            st = stdbp_net_create(test->shape, cfg->network.layers, cfg->network.n_layers,
                                  &cfg->network.neuron, net, err);
        if (st == STDBP_OK)
            st = stdbp_dataset_check_labels(test, stdbp_net_output_size(*net), err);
        st = stdbp_dist_agree(comm, st, err); /* collective */
    }
    if (st == STDBP_OK)
        st = stdbp_ckpt_read(comm, path, *net, NULL, NULL, NULL, err); /* collective */
    if (st != STDBP_OK) {
        stdbp_net_destroy(net);
        stdbp_dataset_free(test);
    }
    free(stored);
    free(yaml);
    return st;
}

int stdbp_cli_fail(MPI_Comm comm, const char *prog, const stdbp_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        fprintf(stderr, "%s: error: %s\n", prog,
                err && err->msg[0] ? err->msg : stdbp_status_name(err ? err->code : STDBP_EINVAL));
        fflush(stderr);
    }
    MPI_Finalize();
    return 1;
}

void stdbp_cli_write_exit_file(const char *prog, const char *path, int status)
{
    struct stat sb;
    size_t n = strlen(path) + sizeof ".tmp";
    char *tmp = malloc(n);
    FILE *f = NULL;
    int ok = 0;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "%s: warning: --exit-file %s is not a regular file: not written\n", prog,
                path);
        free(tmp);
        return;
    }
    if (tmp) {
        snprintf(tmp, n, "%s.tmp", path);
        if (!(stat(tmp, &sb) == 0 && !S_ISREG(sb.st_mode)) && (f = fopen(tmp, "w"))) {
            ok = fprintf(f, "%d\n", status) > 0;
            ok = (fclose(f) == 0) && ok && rename(tmp, path) == 0;
            if (!ok)
                remove(tmp);
        }
    }
    if (!ok)
        fprintf(stderr, "%s: warning: cannot write --exit-file %s: %s\n", prog, path,
                strerror(errno));
    free(tmp);
}
