/* stdbp_sweep --run: child processes, signals, the summary; see
 * sweep_local.h. */
#define _GNU_SOURCE /* PR_SET_PDEATHSIG */
#include "cli/sweep_local.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "stdbp/config.h"
#include "stdbp/train.h"

typedef struct child {
    pid_t pid; /* 0: free slot */
    size_t k;  /* the point */
    double t0; /* when it started (monotonic seconds) */
} child;

static volatile sig_atomic_t stop_signals; /* SIGINT, SIGTERM, SIGHUP seen */
static volatile sig_atomic_t last_signal;

static void on_stop(int sig)
{
    stop_signals++;
    last_signal = sig;
}

static void on_child(int sig)
{
    (void)sig; /* only to end sigsuspend */
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The program the children run: this one. */
static void self_path(const char *argv0, char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n > 0 && (size_t)n < size - 1) {
        buf[n] = '\0';
        return;
    }
    snprintf(buf, size, "%s", argv0); /* execvp looks it up in PATH */
}

/* The command line of point k, NULL-terminated, views into o, words
 * (MPIRUN_ARGS split at blanks; freed by the caller) and nums. */
static char **point_argv(const stdbp_sweep_local_opts *o, const char *self, size_t k, char *words,
                         char nums[2][32])
{
    size_t n_words = 0, n = 0;
    char *save = NULL, *w;
    for (const char *p = words; p && *p; p++)
        n_words += *p == ' ' || *p == '\t';
    char **av = calloc(16 + n_words + 1 + 2 * o->n_sets, sizeof *av);
    if (!av)
        return NULL;
    snprintf(nums[0], sizeof nums[0], "%ld", o->ranks);
    snprintf(nums[1], sizeof nums[1], "%zu", k);
    if (strcmp(o->launcher, "none") != 0) {
        av[n++] = (char *)o->launcher;
        av[n++] = "-np";
        av[n++] = nums[0];
        /* Open MPI binds 1 or 2 ranks to cores from core 0: two points at
         * once would share cores. */
        av[n++] = "--bind-to";
        av[n++] = "none";
        for (w = words ? strtok_r(words, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save))
            av[n++] = w;
    }
    av[n++] = (char *)self;
    av[n++] = (char *)o->sweep_path;
    av[n++] = "--index";
    av[n++] = nums[1];
    av[n++] = "--resume";
    av[n++] = "auto";
    for (size_t i = 0; i < o->n_sets; i++) {
        av[n++] = "--set";
        av[n++] = o->sets[i];
    }
    if (!o->deploy)
        av[n++] = "--no-deploy";
    if (o->quiet)
        av[n++] = "--quiet";
    if (o->progress >= 0) {
        av[n++] = "--progress";
        av[n++] = o->progress ? "bar" : "log";
    }
    av[n] = NULL;
    return av;
}

/* Start point k: its run directory, its log, the child. 0 on success. */
static int start(const stdbp_sweep *sw, const stdbp_sweep_local_opts *o, const char *self, size_t k,
                 const sigset_t *child_mask, child *c, stdbp_err *err)
{
    stdbp_sweep_point pt;
    char log[STDBP_CFG_STR + 32], nums[2][32];
    char *words = getenv("MPIRUN_ARGS") ? strdup(getenv("MPIRUN_ARGS")) : NULL;
    char **av = NULL;
    int fd = -1, rc = -1;
    pid_t parent = getpid();

    memset(&pt, 0, sizeof pt);
    if (stdbp_sweep_point_get(sw, k, o->sets, o->n_sets, &pt, err) != STDBP_OK ||
        stdbp_sweep_point_mkdir(&pt, err) != STDBP_OK)
        goto done;
    snprintf(log, sizeof log, "%s/%s", pt.run_dir, STDBP_SWEEP_LOG_FILE);
    if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        stdbp_err_set(err, STDBP_EIO, "cannot open %s: %s", log, strerror(errno));
        goto done;
    }
    if (!(av = point_argv(o, self, k, words, nums))) {
        stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        goto done;
    }
    {
        /* A header in the log: when and what (a resumed point appends). */
        char when[64];
        time_t t = time(NULL);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
        dprintf(fd, "==== stdbp_sweep --run %s: point %zu:", when, k);
        for (size_t i = 0; av[i]; i++)
            dprintf(fd, " %s", av[i]);
        dprintf(fd, "\n");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        stdbp_err_set(err, STDBP_EIO, "cannot start point %zu: fork: %s", k, strerror(errno));
        goto done;
    }
    if (pid == 0) {
        /* The child: its own process group (a Ctrl-C at the terminal
         * reaches only the parent, which stops the points cleanly), ended
         * like by a signal if the parent dies, output to the log. */
        setpgid(0, 0);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGUSR1);
        if (getppid() != parent)
            _exit(127);
#endif
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, child_mask, NULL);
        /* OpenMP would give every rank of every point all the CPUs: share
         * them, unless the user chose. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (!getenv("OMP_NUM_THREADS") && o->jobs > 1 && cpus > 0) {
            char t[32];
            long per = cpus / (o->jobs * o->ranks);
            snprintf(t, sizeof t, "%ld", per > 1 ? per : 1);
            setenv("OMP_NUM_THREADS", t, 1);
        }
        execvp(av[0], av);
        dprintf(2, "stdbp_sweep: cannot run %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->k = k;
    c->t0 = now();
    if (!o->quiet) {
        printf("stdbp_sweep: point %zu started:", k);
        for (size_t i = 0; i < pt.n_params; i++)
            printf(" %s", pt.params[i]);
        printf(" -> %s (log: %s)\n", pt.run_dir, STDBP_SWEEP_LOG_FILE);
        fflush(stdout);
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(av);
    free(words);
    stdbp_sweep_point_clear(&pt);
    return rc;
}

/* The last line of path that says something (not blank, not one of
 * mpirun's rules of dashes), cut to size - 1 bytes, in buf. */
static void last_line(const char *path, char *buf, size_t size)
{
    char tail[4096];
    size_t n;
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        fseek(f, len > (long)sizeof tail - 1 ? len - (long)sizeof tail + 1 : 0, SEEK_SET);
    }
    n = fread(tail, 1, sizeof tail - 1, f);
    fclose(f);
    tail[n] = '\0';
    for (;;) {
        while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
            tail[--n] = '\0';
        if (n == 0)
            return;
        char *s = strrchr(tail, '\n');
        s = s ? s + 1 : tail;
        if (strspn(s, "-") < strlen(s)) {
            n = strlen(s) < size - 1 ? strlen(s) : size - 1; /* cut to fit */
            memcpy(buf, s, n);
            buf[n] = '\0';
            return;
        }
        n = (size_t)(s - tail);
        tail[n] = '\0';
    }
}

/* A child ended: how, from its exit status and the status its run wrote.
 * Returns 0 done, 75 stopped after a checkpoint, 1 failed. */
static int finished(const stdbp_sweep *sw, const stdbp_sweep_local_opts *o, const child *c, int ws)
{
    stdbp_sweep_point pt;
    stdbp_err e;
    char status[32], msg[STDBP_ERR_MSG_MAX], how[64], log[STDBP_CFG_STR + 32];
    int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, result;
    double secs = now() - c->t0;

    memset(&pt, 0, sizeof pt);
    status[0] = msg[0] = '\0';
    if (stdbp_sweep_point_get(sw, c->k, o->sets, o->n_sets, &pt, &e) == STDBP_OK)
        stdbp_sweep_point_status(&pt, status, sizeof status, msg, sizeof msg);
    if (WIFSIGNALED(ws))
        snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(ws));
    else
        snprintf(how, sizeof how, "exit %d", code);
    /* The run's own word decides when it agrees with the exit status: a
     * launcher may turn the ranks' 75 into another status, and a point
     * killed before it wrote its status still says "running". */
    if (code == 0 && strcmp(status, "done") == 0)
        result = 0;
    else if (strcmp(status, "preempted") == 0 && (code == 75 || stop_signals))
        result = 75;
    else
        result = 1;
    snprintf(log, sizeof log, "%s/%s", pt.run_dir, STDBP_SWEEP_LOG_FILE);
    if (result == 0 && !o->quiet)
        printf("stdbp_sweep: point %zu done in %.0f s\n", c->k, secs);
    else if (result == 75 && !o->quiet)
        printf("stdbp_sweep: point %zu stopped after a checkpoint in %.0f s (rerun to resume)\n",
               c->k, secs);
    else if (result == 1) {
        if (strcmp(status, "failed") != 0 || !msg[0])
            last_line(log, msg, sizeof msg);
        fflush(stdout);
        fprintf(stderr, "stdbp_sweep: point %zu failed in %.0f s (%s): %s\n", c->k, secs, how,
                msg[0] ? msg : "(no output)");
        fprintf(stderr, "stdbp_sweep:   its log: %s\n", log);
        fflush(stderr);
    }
    fflush(stdout);
    stdbp_sweep_point_clear(&pt);
    return result;
}

/* The points to run (not finished), in index order, in *todo. */
static stdbp_status unfinished(const stdbp_sweep *sw, const stdbp_sweep_local_opts *o,
                               size_t **todo, size_t *n_todo, stdbp_err *err)
{
    size_t n = stdbp_sweep_count(sw);
    stdbp_config *base = malloc(sizeof *base);
    stdbp_sweep_point pt;
    stdbp_status st = STDBP_OK;

    memset(&pt, 0, sizeof pt);
    *n_todo = 0;
    *todo = calloc(n ? n : 1, sizeof **todo);
    if (!base || !*todo) {
        free(base);
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    }
    st = stdbp_sweep_load_base(sw, base, err);
    for (size_t k = 0; k < n && st == STDBP_OK; k++) {
        int done = 0;
        if ((st = stdbp_sweep_point_get(sw, k, o->sets, o->n_sets, &pt, err)) == STDBP_OK &&
            (st = stdbp_sweep_point_done(sw, &pt, base, &done, err)) == STDBP_OK && !done)
            (*todo)[(*n_todo)++] = k;
        stdbp_sweep_point_clear(&pt);
    }
    free(base);
    return st;
}

stdbp_status stdbp_sweep_run_local(const stdbp_sweep *sw, const stdbp_sweep_local_opts *o,
                                   int *exit_status, stdbp_err *err)
{
    size_t *todo = NULL, n_todo = 0, next = 0, running = 0, n_failed = 0;
    size_t n = stdbp_sweep_count(sw);
    long jobs = o->jobs < 1 ? 1 : o->jobs;
    child *kids = NULL;
    char self[4096];
    sigset_t block, old, wait_mask;
    struct sigaction sa, old_int, old_term, old_hup, old_chld;
    int handled = 0, stopping = 0;
    stdbp_status st;

    *exit_status = 1;
    if ((st = unfinished(sw, o, &todo, &n_todo, err)) != STDBP_OK) {
        free(todo);
        return st;
    }
    if (!(kids = calloc((size_t)jobs, sizeof *kids))) {
        free(todo);
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    }
    self_path(o->argv0, self, sizeof self);
    if (!o->quiet) {
        printf("stdbp_sweep: sweep %s: %zu points, %zu done, %zu to run, %ld at a time "
               "(%ld rank%s each, %s%s)\n",
               stdbp_sweep_name(sw), n, n - n_todo, n_todo, jobs, o->ranks, o->ranks > 1 ? "s" : "",
               strcmp(o->launcher, "none") == 0 ? "started directly" : "via ",
               strcmp(o->launcher, "none") == 0 ? "" : o->launcher);
        fflush(stdout);
    }

    /* The signals are blocked except inside sigsuspend, so that none is
     * lost between a check and the wait. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    wait_mask = old;
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGHUP);
    sigdelset(&wait_mask, SIGCHLD);
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    sa.sa_handler = on_child;
    sigaction(SIGCHLD, &sa, &old_chld);

    for (;;) {
        pid_t pid;
        int ws;
        while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
            for (long j = 0; j < jobs; j++)
                if (kids[j].pid == pid) {
                    int r = finished(sw, o, &kids[j], ws);
                    n_failed += r == 1;
                    kids[j].pid = 0;
                    running--;
                }
        if (stop_signals > handled) {
            int first = handled == 0;
            handled = stop_signals;
            stopping = 1;
            if (!o->quiet || first) {
                fflush(stdout);
                fprintf(stderr,
                        first ? "stdbp_sweep: got signal %d: stopping the %zu running point%s "
                                "(SIGUSR1: they checkpoint and exit; a second signal kills them)\n"
                              : "stdbp_sweep: got signal %d again: killing the %zu running "
                                "point%s\n",
                        (int)last_signal, running, running == 1 ? "" : "s");
            }
            for (long j = 0; j < jobs; j++)
                if (kids[j].pid > 0) {
                    if (first)
                        kill(kids[j].pid, SIGUSR1);
                    else {
                        kill(-kids[j].pid, SIGKILL);
                        kill(kids[j].pid, SIGKILL);
                    }
                }
        }
        while (!stopping && running < (size_t)jobs && next < n_todo) {
            long j = 0;
            while (kids[j].pid > 0)
                j++;
            stdbp_err e;
            if (start(sw, o, self, todo[next], &old, &kids[j], &e) != 0) {
                fflush(stdout);
                fprintf(stderr, "stdbp_sweep: point %zu: %s\n", todo[next], e.msg);
                n_failed++;
            } else
                running++;
            next++;
        }
        if (running == 0 && (stopping || next >= n_todo))
            break;
        sigsuspend(&wait_mask);
    }

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(kids);
    free(todo);

    /* The same summary as --summary (summary.csv and the table). */
    size_t n_done = 0;
    if ((st = stdbp_sweep_summary(sw, o->sets, o->n_sets, stdout, &n_done, err)) != STDBP_OK)
        return st;
    fflush(stdout);
    if (stopping && n_done < n) {
        fprintf(stderr,
                "stdbp_sweep: stopped by a signal: %zu of %zu points done; rerun the same "
                "command to go on (finished points are skipped, the others resume)\n",
                n_done, n);
        *exit_status = STDBP_EXIT_PREEMPTED;
    } else if (n_failed || n_done < n) {
        fprintf(stderr,
                "stdbp_sweep: %zu of %zu points done, %zu failed; rerun the same command to "
                "retry (finished points are skipped, the others resume)\n",
                n_done, n, n_failed ? n_failed : n - n_done);
        *exit_status = 1;
    } else
        *exit_status = 0;
    return STDBP_OK;
}
