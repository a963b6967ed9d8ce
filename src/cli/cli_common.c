/* Helpers shared by the stdbp_* programs; see cli_common.h. */
#include "cli/cli_common.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    stdbp_dist_default_threads(MPI_COMM_WORLD); /* collective */
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

stdbp_status stdbp_cli_resolve_checkpoint(MPI_Comm comm, const char *arg, char *path, size_t len,
                                          stdbp_err *err)
{
    struct stat sb;
    int rank, is_dir = 0;
    MPI_Comm_rank(comm, &rank);
    if (strlen(arg) >= len) /* the path would be cut */
        return stdbp_err_set(err, STDBP_EINVAL, "path too long (%zu bytes, at most %zu): %.60s...",
                             strlen(arg), len - 1, arg);
    if (rank == 0)
        is_dir = stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode);
    MPI_Bcast(&is_dir, 1, MPI_INT, 0, comm); /* collective */
    if (!is_dir) {
        snprintf(path, len, "%s", arg);
        return STDBP_OK;
    }
    stdbp_status st = stdbp_ckpt_find_latest(comm, arg, path, len, err); /* collective */
    if (st == STDBP_OK && path[0] == '\0')
        st = stdbp_err_set(err, STDBP_EIO,
                           "%s: no valid checkpoint in %s/checkpoints (give a run directory "
                           "that holds one, or a checkpoint file)",
                           arg, arg);
    return st;
}

stdbp_status stdbp_cli_load_checkpoint(MPI_Comm comm, const char *arg, char **sets, int n_sets,
                                       const char *which, stdbp_config *cfg, stdbp_dataset *ds,
                                       stdbp_net **net, char *resolved, size_t resolved_len,
                                       stdbp_train_state *state, stdbp_err *err)
{
    int rank, train = strcmp(which, "train") == 0;
    char *stored = NULL, *yaml = NULL, path[4096];
    MPI_Comm_rank(comm, &rank);
    memset(ds, 0, sizeof *ds);
    *net = NULL;
    stdbp_status st = stdbp_cli_resolve_checkpoint(comm, arg, path, sizeof path, err);
    if (st == STDBP_OK && resolved)
        snprintf(resolved, resolved_len, "%s", path);
    if (st == STDBP_OK) {
        st = rank == 0 ? stdbp_ckpt_read_config(path, &stored, err) : STDBP_OK;
        st = stdbp_dist_agree(comm, st, err); /* collective */
    }
    if (st == STDBP_OK)
        st = stdbp_cli_load_config(comm, NULL, stored ? stored : "", sets, n_sets, cfg, &yaml,
                                   err); /* collective */
    if (st == STDBP_OK) {
        const char *name = !train && cfg->data.test[0] ? cfg->data.test : cfg->data.train;
        st = stdbp_dataset_open(name, cfg->data.dir, train ? "train" : "test", ds, err);
        if (st == STDBP_OK)
            st = stdbp_net_create(ds->shape, cfg->network.layers, cfg->network.n_layers,
                                  &cfg->network.neuron, net, err);
        if (st == STDBP_OK)
            st = stdbp_dataset_check_labels(ds, stdbp_net_output_size(*net), err);
        st = stdbp_dist_agree(comm, st, err); /* collective */
    }
    if (st == STDBP_OK)
        st = stdbp_ckpt_read(comm, path, *net, NULL, state, NULL, err); /* collective */
    if (st != STDBP_OK) {
        stdbp_net_destroy(net);
        stdbp_dataset_free(ds);
    }
    free(stored);
    free(yaml);
    return st;
}

/* Where the shipped profiles are: set by src/cli/local.mk. */
#ifndef STDBP_PKGDATADIR
#define STDBP_PKGDATADIR "/usr/local/share/stdbp"
#endif
#ifndef STDBP_BINDIR
#define STDBP_BINDIR "/usr/local/bin"
#endif
#ifndef STDBP_SRCDIR
#define STDBP_SRCDIR ""
#endif

/* Is this program the installed one (its executable in STDBP_BINDIR)? A
 * program run from the build tree also looks in the source tree's
 * configs/hw. When /proc/self/exe cannot be read, say installed. */
static int run_installed(void)
{
    char exe[PATH_MAX];
    struct stat a, b;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 1;
    *slash = '\0';
    if (stat(STDBP_BINDIR, &b) != 0)
        return 0; /* nothing installed there */
    return stat(exe[0] ? exe : "/", &a) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The directories searched for a profile name, in order, into dirs (at
 * most max; strings malloc'd). Returns how many. */
static int hw_dirs(char **dirs, int max)
{
    int n = 0;
    const char *env = getenv("STDBP_HW_PATH");
    if (env) {
        const char *p = env;
        while (*p && n < max) {
            size_t len = strcspn(p, ":");
            if (len > 0 && (dirs[n] = malloc(len + 1))) {
                memcpy(dirs[n], p, len);
                dirs[n++][len] = '\0';
            }
            p += len + (p[len] == ':');
        }
    }
    if (STDBP_SRCDIR[0] && n < max && !run_installed() &&
        (dirs[n] = malloc(sizeof STDBP_SRCDIR + sizeof "/configs/hw")))
        snprintf(dirs[n], sizeof STDBP_SRCDIR + sizeof "/configs/hw", "%s/configs/hw",
                 STDBP_SRCDIR),
            n++;
    if (n < max && (dirs[n] = malloc(sizeof STDBP_PKGDATADIR + sizeof "/hw")))
        snprintf(dirs[n], sizeof STDBP_PKGDATADIR + sizeof "/hw", "%s/hw", STDBP_PKGDATADIR), n++;
    return n;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Is name one of the ", "-separated items of list? */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p; p += strspn(p, ", ")) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* The NAME of each NAME.yaml in dir, appended to list (of size len) as
 * ", NAME" unless already there. */
static void list_profiles(const char *dir, char *list, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char name[256];
        size_t n = strlen(e->d_name), used = strlen(list);
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".yaml") || n - 5 >= sizeof name)
            continue;
        memcpy(name, e->d_name, n - 5);
        name[n - 5] = '\0';
        if (!listed(list, name))
            snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
    }
    closedir(d);
}

stdbp_status stdbp_cli_find_hw(const char *name, char *path, size_t len, stdbp_err *err)
{
    char *dirs[32], found[1024] = "", searched[2048] = "";
    struct stat sb;
    stdbp_status st = STDBP_OK;
    if (strlen(name) >= len)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "--hw: path too long (%zu bytes, at most %zu): %.60s...", strlen(name),
                             len - 1, name);
    if (!name[0] || strchr(name, '/') || has_suffix(name, ".yaml")) {
        snprintf(path, len, "%s", name);
        return STDBP_OK;
    }
    int n = hw_dirs(dirs, 32);
    path[0] = '\0';
    for (int k = 0; k < n; k++) {
        char cand[4096];
        int w = snprintf(cand, sizeof cand, "%s/%s.yaml", dirs[k], name);
        if (!path[0] && w > 0 && (size_t)w < sizeof cand && (size_t)w < len &&
            stat(cand, &sb) == 0 && S_ISREG(sb.st_mode))
            snprintf(path, len, "%s", cand);
        list_profiles(dirs[k], found, sizeof found);
        size_t used = strlen(searched);
        snprintf(searched + used, sizeof searched - used, "%s%s", used ? ", " : "", dirs[k]);
    }
    if (!path[0])
        st = stdbp_err_set(err, STDBP_ECONFIG,
                           "accelerator profile '%s' not found; profiles found: %s (searched "
                           "%s; give a NAME from this list, a path to a profile, or set "
                           "STDBP_HW_PATH)",
                           name, found[0] ? found : "none", searched);
    for (int k = 0; k < n; k++)
        free(dirs[k]);
    return st;
}

stdbp_status stdbp_cli_resolve_hw(MPI_Comm comm, char *field, size_t len, stdbp_err *err)
{
    int rank;
    stdbp_status st = STDBP_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        char *path = malloc(len);
        if (!path)
            st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        else if ((st = stdbp_cli_find_hw(field, path, len, err)) == STDBP_OK)
            memcpy(field, path, len);
        free(path);
    }
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) /* collective */
        return st;
    MPI_Bcast(field, (int)len, MPI_CHAR, 0, comm); /* collective */
    return STDBP_OK;
}

int stdbp_cli_fail(MPI_Comm comm, const char *prog, const stdbp_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    fflush(stdout); /* what the run printed comes before the error */
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
