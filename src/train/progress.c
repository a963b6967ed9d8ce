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
    p->out = stdout;
    p->width = 80;
    p->stamp = !p->tty;
    p->eval_log = 0;
    p->train_rate = p->eval_rate = 0;
}

static void format_eta(double s, char *buf, size_t len)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

double stdbp_progress_eta(const stdbp_eta *e)
{
    double eval_rate = e->eval_rate > 0 ? e->eval_rate : 2 * e->train_rate;
    double t = 0;
    if (e->train_left > 0) {
        if (e->train_rate <= 0)
            return 0;
        t += e->train_left / e->train_rate;
    }
    if (e->eval_left > 0) {
        if (eval_rate <= 0)
            return 0;
        t += e->eval_left / eval_rate;
    }
    return t;
}

/* "2026-01-31T14:05:09 " (local time) into buf. */
static void stamp(char *buf, size_t len)
{
    struct tm tm;
    time_t now = time(NULL);
    if (!localtime_r(&now, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%S ", &tm) == 0)
        snprintf(buf, len, "%s", "");
}

/* len bytes of s, each STDBP_PROGRESS_NBSP as a space. */
static void emit(FILE *out, const char *s, size_t len)
{
    for (size_t k = 0; k < len; k++)
        fputc(s[k] == STDBP_PROGRESS_NBSP[0] ? ' ' : s[k], out);
}

/* Log mode: one line of text (no '\n'), stamped and wrapped at spaces so
 * that no line is wider than p->width; continuation lines carry no stamp
 * and are indented by four. A run of text without a breakable space
 * longer than a whole line (a long path) stays whole. */
static void log_line(stdbp_progress *p, const char *line, size_t len)
{
    char ts[64] = "";
    if (p->stamp)
        stamp(ts, sizeof ts);
    const char *lead = ts;
    do {
        size_t used = strlen(lead);
        size_t room = (size_t)p->width > used + 10 ? (size_t)p->width - used : 10;
        size_t cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && line[cut] != ' ')
                cut--;
            if (cut == 0) /* one long word: up to the next space */
                for (cut = room; cut < len && line[cut] != ' '; cut++)
                    ;
        }
        fputs(lead, p->out);
        emit(p->out, line, cut);
        fputc('\n', p->out);
        while (cut < len && line[cut] == ' ')
            cut++;
        line += cut;
        len -= cut;
        lead = "    ";
    } while (len > 0);
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
        fprintf(p->out,
                "\repoch %ld/%ld [%s] %ld/%ld loss %.4f acc %.2f%% %.0f samples/s ETA %s\033[K",
                epoch, n_epochs, bar, batch, n_batches, loss, 100 * acc, samples_per_s, eta);
        p->bar_shown = 1;
        fflush(p->out);
    } else if (batch % p->log_every == 0 || batch == n_batches) {
        char line[256];
        int n = snprintf(line, sizeof line,
                         "epoch\a%ld/%ld step\a%ld/%ld loss\a%.4f acc\a%.2f%% "
                         "%.0f\asamples/s ETA\a%s",
                         epoch, n_epochs, batch, n_batches, loss, 100 * acc, samples_per_s, eta);
        log_line(p, line, n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        fflush(p->out);
    }
}

void stdbp_progress_eval(stdbp_progress *p, long epoch, long n_epochs, uint64_t done,
                         uint64_t total, double eta_s)
{
    char eta[32], line[256];
    double now = stdbp_now();
    if (p->quiet)
        return;
    format_eta(eta_s, eta, sizeof eta);
    if (p->tty) {
        if (now - p->last_draw < 0.1 && done != total)
            return;
        p->last_draw = now;
        int width = 24, fill = total ? (int)((uint64_t)width * done / total) : width;
        char bar[32];
        for (int k = 0; k < width; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(p->out, "\repoch %ld/%ld evaluating [%s] %llu/%llu ETA %s\033[K", epoch, n_epochs,
                bar, (unsigned long long)done, (unsigned long long)total, eta);
        p->bar_shown = 1;
        fflush(p->out);
        return;
    }
    if (done == 0)
        snprintf(line, sizeof line, "epoch\a%ld/%ld: evaluating %llu\asamples", epoch, n_epochs,
                 (unsigned long long)total);
    else if (now - p->eval_log >= 30 && done < total)
        snprintf(line, sizeof line, "epoch\a%ld/%ld: evaluated %llu\aof\a%llu\asamples, ETA\a%s",
                 epoch, n_epochs, (unsigned long long)done, (unsigned long long)total, eta);
    else
        return;
    p->eval_log = now;
    log_line(p, line, strlen(line));
    fflush(p->out);
}

void stdbp_progress_print(stdbp_progress *p, const char *fmt, ...)
{
    va_list ap;
    char buf[2048];
    if (p->quiet)
        return;
    if (p->bar_shown) {
        fprintf(p->out, "\r\033[K");
        p->bar_shown = 0;
    }
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    if (p->tty) {
        emit(p->out, buf, len);
    } else {
        for (const char *s = buf; s < buf + len;) {
            const char *nl = memchr(s, '\n', (size_t)(buf + len - s));
            size_t l = nl ? (size_t)(nl - s) : (size_t)(buf + len - s);
            log_line(p, s, l);
            s += l + (nl != NULL);
        }
    }
    va_end(ap);
    fflush(p->out);
}
