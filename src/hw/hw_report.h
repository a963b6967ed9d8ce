/* Private to src/hw: what stdbp_hw_deploy gathers for one bit width, and
 * the writers of the report (table, JSON, HDF5). */
#ifndef STDBP_HW_REPORT_H
#define STDBP_HW_REPORT_H

#include <stdio.h>

#include "hw/hw_impl.h"

typedef struct stdbp_hw_layer_row {
    stdbp_qlayer_info info;
    int first_core, n_cores;
    stdbp_hw_counts counts; /* summed over its cores */
    double energy;          /* dynamic joules, summed over its cores */
} stdbp_hw_layer_row;

/* Float against quantised spikes of one layer, over the images simulated
 * (errors in steps of the time grid: step_q - t_float / dt). */
typedef struct stdbp_hw_spike_err {
    size_t neurons;           /* neuron outputs compared (images x neurons) */
    size_t float_spikes;      /* the float neuron fired */
    size_t quant_spikes;      /* the quantised neuron fired */
    size_t both;              /* both fired: the errors below are over these */
    double sum_abs, max_abs;  /* |error| in steps */
    size_t moved;             /* |error| >= 1 step: more than the grid's own rounding */
    size_t lost_window;       /* float fired after the window: cut */
    size_t lost_window_early; /* of those, at or before the float decision */
    size_t lost_other;        /* float fired within the window, quantised silent */
    size_t extra;             /* quantised fired, float silent */
} stdbp_hw_spike_err;

typedef struct stdbp_hw_bits_run {
    int bits;
    int simulated;
    char note[STDBP_ERR_MSG_MAX]; /* why not simulated */
    stdbp_quant_acc acc;
    size_t n; /* images simulated */
    size_t hw_correct, mismatches, undecided;
    double sum_latency, min_latency, max_latency, sum_busy;
    double sum_energy, sum_dynamic, sum_static;
    double *latency, *energy; /* per image (n) */
    int32_t *decision, *label;
    stdbp_hw_counts counts; /* totals, port included */
    uint64_t input_dropped; /* event input: events after the window, not sent */
    int cores_used;
    size_t n_layers;
    stdbp_hw_layer_row *layers;
    stdbp_hw_core_info *core_info; /* cores_used */
    stdbp_hw_core_stats *core;     /* cores_used */
    stdbp_hw_core_stats port;
    /* dynamic energy by kind (joules, all images) */
    double e_synapse, e_read, e_neuron, e_fire, e_send, e_receive, e_hops;
    int64_t window;
    double dt;
    double sum_steps;              /* decision steps (decision step + 1; window + 1 if
                                      undecided), summed over images */
    stdbp_hw_spike_err *spike_err; /* n_layers, or NULL when not measured */
    double float_decision_max;     /* latest float decision, in steps (-1: none) */
} stdbp_hw_bits_run;

typedef struct stdbp_hw_report {
    const stdbp_hw_profile *profile;
    int64_t time_steps;
    double t_max;
    size_t n_samples;
    const char *dataset;
    int events; /* the data set holds events: report their counts */
    size_t n_runs;
    stdbp_hw_bits_run *runs;
} stdbp_hw_report;

void stdbp_hw_bits_run_free(stdbp_hw_bits_run *r);

/* Simulate the first n images of test at r->bits into r (deploy.c);
 * spike_err: also measure the float against quantised spike errors.
 * STDBP_EFIT: the model does not fit this width on prof. */
stdbp_status stdbp_hw_run_bits(const stdbp_net *net, const stdbp_dataset *test,
                               const stdbp_encoding *enc, int64_t T, const stdbp_hw_profile *prof,
                               size_t n, int spike_err, stdbp_hw_bits_run *r,
                               stdbp_err *err) STDBP_WUR;

/* The line setting the result beside the paper's, into buf. */
const char *stdbp_hw_report_comparison(const stdbp_hw_report *rep, const stdbp_hw_bits_run *r,
                                       char *buf, size_t len);
/* The decomposition of latency and energy, and what the paper's figures
 * imply, one line into buf. */
const char *stdbp_hw_report_decomposition(const stdbp_hw_bits_run *r, char *buf, size_t len);
/* Per-layer float against quantised spike errors of r into r->spike_err
 * (allocated here) for the first r->n images of test: q is the quantised
 * net, net the float one. */
stdbp_status stdbp_hw_spike_errors(const stdbp_net *net, const stdbp_qnet *q,
                                   const stdbp_dataset *test, const stdbp_encoding *enc,
                                   stdbp_hw_bits_run *r, stdbp_err *err) STDBP_WUR;

/* The assumptions that matter most, one line, into buf. */
const char *stdbp_hw_report_assumptions(const stdbp_hw_profile *p, char *buf, size_t len);

/* s as a JSON string literal, quoted and escaped (NULL: ""). */
void stdbp_hw_json_str(FILE *f, const char *s);
void stdbp_hw_report_print(const stdbp_hw_report *rep, FILE *out);
stdbp_status stdbp_hw_report_json(const stdbp_hw_report *rep, const char *path,
                                  stdbp_err *err) STDBP_WUR;
stdbp_status stdbp_hw_report_h5(const stdbp_hw_report *rep, const char *path,
                                stdbp_err *err) STDBP_WUR;

#endif
