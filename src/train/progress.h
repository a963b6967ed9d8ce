/* Training progress on rank 0: an updating bar when stdout is a terminal,
 * plain log lines every log_every steps otherwise (SLURM logs). Not
 * collective; call it from rank 0 only. */
#ifndef STDBP_TRAIN_PROGRESS_H
#define STDBP_TRAIN_PROGRESS_H

typedef struct stdbp_progress {
    int tty;        /* 1: redraw one line with \r */
    int quiet;      /* print nothing */
    long log_every; /* steps between log lines when not a tty */
    double last_draw;
    int bar_shown;
} stdbp_progress;

/* mode: -1 detect (a bar when stdout, or under mpirun the launcher's
 * stdout, is a terminal), 0 log lines, 1 bar. */
void stdbp_progress_init(stdbp_progress *p, int mode, int quiet, long log_every);
/* Report one step: batch (1-based) of n_batches in epoch (1-based) of
 * n_epochs, with running averages and throughput; eta in seconds. */
void stdbp_progress_step(stdbp_progress *p, long epoch, long n_epochs, long batch, long n_batches,
                         double loss, double acc, double samples_per_s, double eta_s);
/* A whole line (the bar is cleared first). */
void stdbp_progress_print(stdbp_progress *p, const char *fmt, ...)
    __attribute__((__format__(printf, 2, 3)));
/* Seconds since an arbitrary fixed point (monotonic). */
double stdbp_now(void);

#endif
