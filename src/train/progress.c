/* Progress bar or log lines; see progress.h. */
#include "train/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double stdbp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Is stdout a terminal a person watches? Under mpirun a rank's stdout is
 * always a pseudo-terminal that mpirun copies to its own stdout, which
 * may be a file (a SLURM log): then ask about the launcher's stdout, seen
 * through /proc (Linux). Elsewhere, or when unsure, say no: log lines. */
static int stdout_is_terminal(void)
{
    char path[64], target[256];
    ssize_t n;
    if (!isatty(STDOUT_FILENO))
        return 0;
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK"))
        return 1; /* not under a launcher */
    snprintf(path, sizeof path, "/proc/%ld/fd/1", (long)getppid());
    n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0;
}

void stdbp_progress_init(stdbp_progress *p, int mode, int quiet, long log_every)
{
    p->tty = mode < 0 ? stdout_is_terminal() : mode;
    p->quiet = quiet;
    p->log_every = log_every > 0 ? log_every : 100;
    p->last_draw = 0;
    p->bar_shown = 0;
}

static void format_eta(double s, char *buf, size_t len)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

void stdbp_progress_step(stdbp_progress *p, long epoch, long n_epochs, long batch, long n_batches,
                         double loss, double acc, double samples_per_s, double eta_s)
{
    char eta[32];
    if (p->quiet)
        return;
    format_eta(eta_s, eta, sizeof eta);
    if (p->tty) {
        double now = stdbp_now();
        if (now - p->last_draw < 0.1 && batch != n_batches)
            return; /* redraw at most 10 times a second */
        p->last_draw = now;
        int width = 24, fill = n_batches ? (int)(width * batch / n_batches) : width;
        char bar[32];
        for (int k = 0; k < width; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[width] = '\0';
        printf("\repoch %ld/%ld [%s] %ld/%ld loss %.4f acc %.2f%% %.0f samples/s ETA %s\033[K",
               epoch, n_epochs, bar, batch, n_batches, loss, 100 * acc, samples_per_s, eta);
        p->bar_shown = 1;
        fflush(stdout);
    } else if (batch % p->log_every == 0 || batch == n_batches) {
        printf("epoch %ld/%ld step %ld/%ld loss %.4f acc %.2f%% %.0f samples/s ETA %s\n", epoch,
               n_epochs, batch, n_batches, loss, 100 * acc, samples_per_s, eta);
        fflush(stdout);
    }
}

void stdbp_progress_print(stdbp_progress *p, const char *fmt, ...)
{
    va_list ap;
    if (p->quiet)
        return;
    if (p->bar_shown) {
        printf("\r\033[K");
        p->bar_shown = 0;
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}
