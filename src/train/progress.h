/* Training progress on rank 0: an updating bar when stdout is a terminal,
 * plain log lines every log_every steps otherwise (SLURM logs). Log lines
 * start with the local time (ISO 8601, "2026-01-31T14:05:09 ") and are
 * wrapped to fit width columns (continuation lines without the time,
 * indented by four). Not collective; call it from rank 0 only. */
#ifndef STDBP_TRAIN_PROGRESS_H
#define STDBP_TRAIN_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct stdbp_progress {
    int tty;        /* 1: redraw one line with \r */
    int quiet;      /* print nothing */
    long log_every; /* steps between log lines when not a tty */
    double last_draw;
    int bar_shown;
    FILE *out;       /* stdout */
    int width;       /* log mode: columns a line may take (80) */
    int stamp;       /* log mode: the local time in front of every line */
    double eval_log; /* log mode: when the last evaluation line was printed */
    /* Measured rates (samples/s) for the ETA; 0 until known. */
    double train_rate, eval_rate;
} stdbp_progress;

/* mode: -1 detect (a bar when stdout, or under mpirun the launcher's
 * stdout, is a terminal), 0 log lines, 1 bar. */
void stdbp_progress_init(stdbp_progress *p, int mode, int quiet, long log_every);
/* Report one step: batch (1-based) of n_batches in epoch (1-based) of
 * n_epochs, with running averages and throughput; eta in seconds. */
void stdbp_progress_step(stdbp_progress *p, long epoch, long n_epochs, long batch, long n_batches,
                         double loss, double acc, double samples_per_s, double eta_s);
/* Report the evaluation at the end of epoch (1-based): done of total
 * samples. A bar, redrawn at most 10 times a second; in log mode a line
 * when it starts (done == 0) and then at most every 30 s. */
void stdbp_progress_eval(stdbp_progress *p, long epoch, long n_epochs, uint64_t done,
                         uint64_t total, double eta_s);
/* In a message: a space where a log line is never broken (printed as a
 * space), to keep a field ("epoch 3/30") or a phrase that scripts look
 * for on one line. */
#define STDBP_PROGRESS_NBSP "\a"

/* A whole line (the bar is cleared first); in log mode each line of the
 * text is stamped and wrapped. */
void stdbp_progress_print(stdbp_progress *p, const char *fmt, ...)
    __attribute__((__format__(printf, 2, 3)));
/* Seconds since an arbitrary fixed point (monotonic). */
double stdbp_now(void);

/* What is left of a run, for its ETA. */
typedef struct stdbp_eta {
    double train_left; /* training samples still to run */
    double eval_left;  /* evaluation samples still to run (this and later evaluations) */
    double train_rate; /* samples/s of training (0: unknown) */
    double eval_rate;  /* samples/s of evaluation (0: unknown yet) */
} stdbp_eta;

/* Seconds left: the training at train_rate plus the evaluations at
 * eval_rate; before any evaluation was measured, at twice the training
 * rate (an evaluation runs the forward pass only). 0 when no rate is
 * known. */
double stdbp_progress_eta(const stdbp_eta *e);

#endif
