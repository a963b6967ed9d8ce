/* Deployment: quantisation of a trained network and a simulated
 * multi-core neuromorphic accelerator that reports power and latency.
 *
 * Four stages, each usable on its own (docs/HARDWARE.md has the model,
 * the formulas and the profiles' sources):
 *
 *   stdbp_qnet       n-bit weights, integer time steps, the same
 *                    event-driven closed form in integer arithmetic;
 *   stdbp_hw_profile an accelerator described in YAML (configs/hw/);
 *   stdbp_hw_map     neurons and their fan-in synapses placed on cores;
 *   stdbp_hw_sim     inputs fed through the mapped cores and the mesh,
 *                    every operation counted and timed.
 *
 * stdbp_hw_deploy does all four and writes the report; it is what the
 * programs call. Nothing here is collective and nothing calls MPI: the
 * training program runs it on rank 0 only. Objects are not thread-safe;
 * a stdbp_qnet is read-only after creation and may be shared by threads,
 * each with its own stdbp_qws.
 *
 * Integer semantics (the contract shared by the software model and the
 * simulator; times are integer steps, silent is STDBP_QT_SILENT):
 *   dt       = t_max / T model-time units per step (t_max: the encoding
 *              window, T: time_steps);
 *   input    t_q = floor(t * T / t_max + 1/2) (t >= 0; negative counts
 *            as 0), silent stays silent;
 *   weights  per layer scale = max|w| / (2^(bits-1) - 1) (1 if all are 0),
 *            w_q = round(w / scale), |w_q| <= 2^(bits-1) - 1;
 *   theta_q  = max(1, round(theta / (scale * dt))): theta in the units of
 *            sum w_q * (t - t_i) with t in steps (this is round(theta /
 *            scale) when time is measured in steps, i.e. dt = 1);
 *   a neuron fires at the smallest integer step t with
 *            V(t) = sum_{i: t_i < t} w_q,i * (t - t_i) >= theta_q,
 *            and t <= window; otherwise it is silent. Equivalently (the
 *            closed form): going through its inputs' groups of equal
 *            step g in order, S = sum w_q, R = sum w_q * t_q; after each
 *            group, if S > 0, c = ceil((theta_q + R) / S) (always > g),
 *            and it fires at c if c <= the next group's step (or no group
 *            is left) and c <= window;
 *   window   the last step at which any neuron may fire: round down of
 *            neuron.t_max * T / t_max if the float net has a finite window,
 *            else (number of dense and conv layers + 1) * T; or set;
 *            at most STDBP_QWINDOW_MAX;
 *   pooling  the earliest input step of each window (no window check:
 *            its inputs are already within it);
 *   decision the output neuron with the smallest step, ties to the
 *            lowest index; -1 if every output is silent. */
#ifndef STDBP_HW_H
#define STDBP_HW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stdbp/api.h"
#include "stdbp/data.h"
#include "stdbp/error.h"
#include "stdbp/net.h"

#define STDBP_QT_SILENT INT64_MAX
#define STDBP_QBITS_MIN 2
#define STDBP_QBITS_MAX 16
#define STDBP_QWINDOW_MAX (INT64_C(1) << 24) /* longest window, in steps */

/* ---- quantised network --------------------------------------------- */

typedef struct stdbp_qnet stdbp_qnet;
typedef struct stdbp_qws stdbp_qws;

typedef struct stdbp_quant_params {
    int bits;           /* weight bits, sign included, in [2, 16] (8) */
    int64_t time_steps; /* T >= 1: the encoding's t_max is step T (256) */
    double t_max;       /* the encoding window in model units, > 0 (1) */
    int64_t window;     /* last step at which a neuron may fire; 0 =
                           derived as described above (0) */
} stdbp_quant_params;

/* The defaults in parentheses above. Cannot fail. */
STDBP_API stdbp_quant_params stdbp_quant_defaults(void);

/* Quantise net (read, not kept: the qnet owns copies of what it needs).
 * Errors: bits or T out of range, a layer kind the hardware model does
 * not know, accumulators that would need more than 62 bits (names the
 * layer). Not collective. */
STDBP_API stdbp_status stdbp_qnet_create(const stdbp_net *net, const stdbp_quant_params *params,
                                         stdbp_qnet **out, stdbp_err *err) STDBP_WUR;
/* Free; NULLs *q; accepts NULL. */
STDBP_API void stdbp_qnet_destroy(stdbp_qnet **q);

/* One computing layer of the quantised net (flatten layers are dropped:
 * with channel-major storage they change nothing). */
typedef struct stdbp_qlayer_info {
    stdbp_layer_kind kind; /* dense, conv2d or pool */
    size_t net_layer;      /* index of the layer in the float net */
    size_t n_in, n_out;    /* input values, neurons */
    size_t n_synapses;     /* weights held (pool: 0) */
    int fan_in_max;        /* largest number of inputs of one neuron */
    double scale;          /* model weight per integer unit (pool: 0) */
    int32_t w_max;         /* 2^(bits-1) - 1 (pool: 0) */
    int64_t theta;         /* theta_q (pool: 0) */
    double w_err_max;      /* max |w - scale * w_q| over the layer */
    int acc_bits;          /* signed accumulator bits that hold R for any
                              input within the window (pool: 0) */
    char desc[48];         /* "dense(800)", ... */
} stdbp_qlayer_info;

STDBP_API size_t stdbp_qnet_num_layers(const stdbp_qnet *q);
STDBP_API stdbp_qlayer_info stdbp_qnet_layer(const stdbp_qnet *q, size_t i);
STDBP_API size_t stdbp_qnet_input_size(const stdbp_qnet *q);
STDBP_API size_t stdbp_qnet_output_size(const stdbp_qnet *q);
/* The parameters as resolved (window filled in). */
STDBP_API stdbp_quant_params stdbp_qnet_params(const stdbp_qnet *q);
/* Model-time units per step (dt). */
STDBP_API double stdbp_qnet_step(const stdbp_qnet *q);

/* Input times (model units, INFINITY = silent) to steps, as defined
 * above; negative times count as 0. Cannot fail; no allocation. */
STDBP_API void stdbp_qnet_quantise_input(const stdbp_qnet *q, const double *times, int64_t *steps);

/* Workspace for stdbp_qnet_forward (every per-sample buffer). */
STDBP_API stdbp_status stdbp_qws_create(const stdbp_qnet *q, stdbp_qws **out,
                                        stdbp_err *err) STDBP_WUR;
STDBP_API void stdbp_qws_destroy(stdbp_qws **ws);

/* Forward one sample of stdbp_qnet_input_size steps. Returns the output
 * layer's steps (owned by ws, valid until the next forward). Integer
 * arithmetic only; no allocation; cannot fail. */
STDBP_API const int64_t *stdbp_qnet_forward(const stdbp_qnet *q, stdbp_qws *ws,
                                            const int64_t *in_steps);
/* Steps of computing layer i from the last forward (owned by ws). */
STDBP_API const int64_t *stdbp_qws_layer_steps(const stdbp_qws *ws, size_t i);

/* The decision: earliest output, ties to the lowest index, -1 if all are
 * silent. Cannot fail. */
STDBP_API int stdbp_decide_steps(const int64_t *steps, size_t n);
STDBP_API int stdbp_decide_times(const double *times, size_t n);

/* Float against quantised accuracy on the first n_samples of ds (0 or
 * more than ds->n: all), for each bit width in bits[n_bits]. */
typedef struct stdbp_quant_acc {
    int bits;
    size_t n;             /* samples evaluated */
    size_t float_correct; /* float net's decision == label */
    size_t quant_correct; /* quantised net's decision == label */
    size_t agree;         /* both decisions equal (silent included) */
    size_t float_silent;  /* no output fired */
    size_t quant_silent;
} stdbp_quant_acc;

/* Encodes each sample with stdbp_encode(enc) (enc->t_max is the window T
 * maps to) and classifies it with both nets. out has n_bits entries. */
STDBP_API stdbp_status stdbp_quant_accuracy(const stdbp_net *net, const stdbp_dataset *ds,
                                            const stdbp_encoding *enc, const int *bits,
                                            size_t n_bits, int64_t time_steps, size_t n_samples,
                                            stdbp_quant_acc *out, stdbp_err *err) STDBP_WUR;

/* ---- accelerator profile ------------------------------------------- */

typedef enum stdbp_hw_mode {
    STDBP_HW_STEPPED, /* every active neuron is updated at every step:
                         V += S, then V >= theta_q (Loihi, TrueNorth) */
    STDBP_HW_EVENT    /* only steps that carry events are processed; a
                         neuron keeps (S, R) and computes its candidate
                         step when an input arrives (SpinalFlow-like) */
} stdbp_hw_mode;

/* Energy (joules) and time (seconds) of one operation. */
typedef struct stdbp_hw_op {
    double energy;
    double time;
} stdbp_hw_op;

/* Where one parameter of a profile comes from, and the range it may take
 * (the profile's `sources:` map, docs/HARDWARE.md section 5). */
#define STDBP_HW_MAX_SOURCES 64
typedef struct stdbp_hw_param_source {
    char key[48];            /* dotted key path, e.g. "ops.synapse.energy_pj" */
    int ranged;              /* 1: a number with low <= value <= high */
    double value, low, high; /* in the file's units (pJ, ns, mW, ...) */
    char source[512];        /* paper + table/section, or "ASSUMPTION: why" */
} stdbp_hw_param_source;

/* Every parameter of an accelerator, in SI units (the YAML file uses pJ,
 * ns, MHz and mW; docs/HARDWARE.md lists the keys). */
typedef struct stdbp_hw_profile {
    char name[64];
    char source[512]; /* the file it was loaded from, or "" */
    stdbp_hw_mode mode;
    int cores;                   /* cores available */
    int neurons_per_core;        /* neuron capacity of a core */
    long synapses_per_core;      /* synapse capacity as a count, or 0 if it
                                    is given in bytes */
    long synapse_bytes;          /* synapse memory per core in bytes (0 if
                                    given as a count) */
    int synapse_overhead_bits;   /* bytes form: bits per synapse besides the
                                    weight (index, delay...); capacity =
                                    floor(8 bytes / (bits + overhead)) */
    int axons_per_core;          /* distinct input sources a core can receive
                                    (0 = no limit) */
    int max_weight_bits;         /* widest weight the synapse memory holds (0 =
                                    no limit); wider widths are not simulated */
    int mesh_width, mesh_height; /* tiles */
    int cores_per_tile;          /* cores sharing a router (hop 0) */
    int input_x, input_y;        /* tile where input spikes enter */
    stdbp_hw_op hop_x, hop_y;    /* per router-to-router hop */
    double clock_hz;             /* converts cycles; 0 if every time is
                                    given in ns */
    double time_step;            /* minimum period of one step (0 = none) */
    double barrier;              /* global synchronisation at the end of a step */
    stdbp_hw_op synapse;         /* one synaptic update (per target neuron) */
    stdbp_hw_op memory_read;     /* one weight read (per synaptic update) */
    double memory_read_per_bit;  /* joules added per weight bit read */
    stdbp_hw_op neuron;          /* one neuron update + threshold check */
    stdbp_hw_op fire;            /* one neuron firing (before its packets) */
    stdbp_hw_op send;            /* one spike packet sent (per destination core) */
    stdbp_hw_op receive;         /* one spike packet received by a core */
    double static_power;         /* watts per core in use */
    int stop_at_decision;        /* 1: an image ends at the end of the step of
                                    its first output spike; 0: when no event is
                                    left (event) or at the window (stepped) */
    int n_sources;               /* entries of the sources map (0: the profile
                                    has none, as older profiles) */
    stdbp_hw_param_source sources[STDBP_HW_MAX_SOURCES];
} stdbp_hw_profile;

/* Defaults for the optional keys (cores_per_tile 1, stop_at_decision 1,
 * everything else 0); the required ones are left 0 and fail validation.
 * Cannot fail. */
STDBP_API void stdbp_hw_profile_defaults(stdbp_hw_profile *p);
/* Load a YAML profile. Errors read "FILE:LINE:COL: key: what". */
STDBP_API stdbp_status stdbp_hw_profile_load(const char *path, stdbp_hw_profile *p,
                                             stdbp_err *err) STDBP_WUR;
/* Same from text in memory (name stands for the file in messages). */
STDBP_API stdbp_status stdbp_hw_profile_load_string(const char *yaml, size_t len, const char *name,
                                                    stdbp_hw_profile *p, stdbp_err *err) STDBP_WUR;
/* Load the profile at path (NULL or "": the built-in default) with the
 * number at the dotted key (e.g. "ops.neuron.energy_pj", in the file's
 * units) replaced by value: what --sensitivity varies. Fails with
 * STDBP_ECONFIG if the profile has no such number or the result is not a
 * valid profile. */
STDBP_API stdbp_status stdbp_hw_profile_load_variant(const char *path, const char *key,
                                                     double value, stdbp_hw_profile *p,
                                                     stdbp_err *err) STDBP_WUR;
/* The default profile, configs/hw/default.yaml, as compiled into the
 * library (what an empty deploy.hw means). */
STDBP_API stdbp_status stdbp_hw_profile_load_default(stdbp_hw_profile *p, stdbp_err *err) STDBP_WUR;
/* Range and consistency checks (also done by the loaders). */
STDBP_API stdbp_status stdbp_hw_profile_validate(const stdbp_hw_profile *p,
                                                 stdbp_err *err) STDBP_WUR;
/* Synapses a core holds at the given weight width. Cannot fail. */
STDBP_API long stdbp_hw_profile_synapse_capacity(const stdbp_hw_profile *p, int bits);
/* Mesh position (tile column x, row y) of core c: cores fill a tile, and
 * tiles are numbered in snake order (row 0 left to right, row 1 right to
 * left, ...), so consecutive cores are neighbours. Cannot fail. */
STDBP_API void stdbp_hw_core_xy(const stdbp_hw_profile *p, int core, int *x, int *y);

/* ---- mapping ------------------------------------------------------- */

typedef struct stdbp_hw_map stdbp_hw_map;

/* Place every neuron of q (with its fan-in synapses) on a core. Each
 * layer gets its own cores, in layer order along the snake, filled with
 * contiguous neuron ranges as evenly as the capacities allow (see
 * docs/HARDWARE.md). STDBP_EFIT when the model does not fit, with the
 * shortfall ("needs 812 cores, profile has 128: 684 short") or the limit
 * one neuron exceeds. Not collective. */
STDBP_API stdbp_status stdbp_hw_map_create(const stdbp_qnet *q, const stdbp_hw_profile *p,
                                           stdbp_hw_map **out, stdbp_err *err) STDBP_WUR;
STDBP_API void stdbp_hw_map_destroy(stdbp_hw_map **m);

typedef struct stdbp_hw_core_info {
    size_t layer;    /* computing layer */
    size_t first;    /* first neuron (index in the layer) */
    size_t count;    /* neurons */
    size_t synapses; /* fan-in synapses held */
    size_t axons;    /* distinct input sources */
    int x, y;        /* tile */
} stdbp_hw_core_info;

STDBP_API int stdbp_hw_map_cores_used(const stdbp_hw_map *m);
STDBP_API stdbp_hw_core_info stdbp_hw_map_core(const stdbp_hw_map *m, int core);
/* Core of neuron j of computing layer l. */
STDBP_API int stdbp_hw_map_core_of(const stdbp_hw_map *m, size_t l, size_t j);

/* ---- simulation ---------------------------------------------------- */

typedef struct stdbp_hw_sim stdbp_hw_sim;

/* Operation counts (and mesh traffic) of one image or of a run. */
typedef struct stdbp_hw_counts {
    uint64_t synapse;      /* synaptic updates */
    uint64_t mem_read;     /* weight reads */
    uint64_t neuron;       /* neuron updates + threshold checks */
    uint64_t fire;         /* spikes produced by neurons */
    uint64_t send;         /* packets sent (input port included) */
    uint64_t receive;      /* packets received */
    uint64_t hops;         /* router-to-router hops, x and y */
    uint64_t input_spikes; /* spikes entering at the input port */
} stdbp_hw_counts;

typedef struct stdbp_hw_result {
    int decision;          /* class, -1 if no output fired */
    int64_t decision_step; /* step of the first output spike, or
                              STDBP_QT_SILENT */
    double latency;        /* seconds from the start of the first input
                              step to the end of the decision step (to
                              the end of the run if undecided) */
    double busy;           /* seconds the chip is occupied by the image */
    double energy;         /* joules: dynamic + static */
    double energy_dynamic;
    double energy_static; /* static_power x cores used x busy */
    int64_t steps;        /* steps processed */
    stdbp_hw_counts counts;
    uint64_t input_dropped; /* event input: events after the window (not sent) */
} stdbp_hw_result;

/* The simulator for one mapped network (q, m and p must outlive it). */
STDBP_API stdbp_status stdbp_hw_sim_create(const stdbp_qnet *q, const stdbp_hw_map *m,
                                           const stdbp_hw_profile *p, stdbp_hw_sim **out,
                                           stdbp_err *err) STDBP_WUR;
STDBP_API void stdbp_hw_sim_destroy(stdbp_hw_sim **sim);
/* Run one image (stdbp_qnet_input_size steps) and add its counts to the
 * per-core totals. Every buffer is allocated by stdbp_hw_sim_create: no
 * allocation here; cannot fail. */
STDBP_API void stdbp_hw_sim_run(stdbp_hw_sim *sim, const int64_t *in_steps, stdbp_hw_result *res);
/* Spike steps of computing layer l in the last run, as the hardware
 * produced them (owned by sim). */
STDBP_API const int64_t *stdbp_hw_sim_layer_steps(const stdbp_hw_sim *sim, size_t l);

/* Totals since creation (or the last reset). */
typedef struct stdbp_hw_core_stats {
    stdbp_hw_counts counts; /* operations on this core (send: its packets) */
    double energy;          /* dynamic joules spent on this core */
    double busy;            /* seconds of operations */
    double queue_wait;      /* seconds packets waited for the core */
} stdbp_hw_core_stats;
STDBP_API stdbp_hw_core_stats stdbp_hw_sim_core_stats(const stdbp_hw_sim *sim, int core);
/* Input port: counts.send, counts.hops and energy of the input packets. */
STDBP_API stdbp_hw_core_stats stdbp_hw_sim_port_stats(const stdbp_hw_sim *sim);
STDBP_API void stdbp_hw_sim_reset_stats(stdbp_hw_sim *sim);

/* ---- everything at once -------------------------------------------- */

/* Headline figures of one bit width. */
typedef struct stdbp_hw_summary {
    int bits;
    int simulated;                                      /* 0 if the width was not simulated (see the
                                                           report for why) */
    size_t n;                                           /* images */
    double float_accuracy, quant_accuracy, hw_accuracy; /* fractions */
    size_t spike_mismatches;                            /* images whose hardware output spikes
                                                           differ from the software model's (must
                                                           be 0) */
    double power_mw;                                    /* total energy / total busy time */
    double latency_ms;                                  /* mean over images */
    double energy_uj;                                   /* mean per image */
    double throughput;                                  /* images per second, one image at a time */
    int cores_used;
} stdbp_hw_summary;

/* Quantise net at each width in bits[n_bits], check float against
 * quantised accuracy on the first n_samples of test (0: all), load the
 * profile, map and simulate those images, and write report.json and
 * report.h5 into out_dir (created if missing) and print the report as a
 * table to `table` (may be NULL). Progress notes ("hw: 8-bit: 100 images
 * simulated ...", a width not simulated, where the report went) go to the
 * log handler (stdbp_set_log_handler) as STDBP_LOG_INFO, one line each
 * without the newline. profile_path NULL or "" means the built-in
 * default profile (stdbp_hw_profile_load_default). time_steps is T (0:
 * 256); enc->t_max is what T maps to. out_dir's parent must exist.
 * summary (may be NULL) receives n_bits entries. A width the profile
 * cannot hold (max_weight_bits, capacity) is reported and skipped; if no
 * width can be simulated the call fails with that reason (STDBP_EFIT).
 * An event data set is simulated event by event: each event within the
 * window is an input spike (docs/HARDWARE.md, "Event input"); the report
 * counts the events sent and those dropped after the window.
 * Rank 0 only; not collective. When the stop check set by
 * stdbp_hw_set_stop_check reports a stop, the call ends after the image
 * it is working on and fails with "deploy: stopped by a signal after I
 * of N images" (no report is written). */
/* What stdbp_hw_deploy and stdbp_quant_accuracy ask between images:
 * "stop now?" (nonzero: yes), e.g. stdbp_signal_pending of train.h so
 * that SIGTERM ends the deploy phase promptly. NULL (the default): never
 * stop. Process-wide; set it before the call, not during. */
typedef int (*stdbp_hw_stop_fn)(void);
STDBP_API void stdbp_hw_set_stop_check(stdbp_hw_stop_fn fn);

STDBP_API stdbp_status stdbp_hw_deploy(const stdbp_net *net, const stdbp_dataset *test,
                                       const stdbp_encoding *enc, const int *bits, size_t n_bits,
                                       int64_t time_steps, const char *profile_path,
                                       size_t n_samples, const char *out_dir, FILE *table,
                                       stdbp_hw_summary *summary, stdbp_err *err) STDBP_WUR;

/* Sensitivity of power, latency and energy per image to each parameter
 * of the profile (profile_path NULL or "": the built-in default): every
 * entry of its sources map with a range is set to its low and then its
 * high end, the others kept at their values, and the first n_samples
 * images (0: all) of test are simulated at the given weight width. Prints
 * a table to table (NULL: none) and writes sensitivity.json into out_dir
 * (docs/HARDWARE.md, "Sensitivity"); a variant that does not fit or is
 * not a valid profile is reported as not simulated. Fails with
 * STDBP_ECONFIG when the profile has no sources map. Not collective: call
 * it on rank 0 only. */
STDBP_API stdbp_status stdbp_hw_sensitivity(const stdbp_net *net, const stdbp_dataset *test,
                                            const stdbp_encoding *enc, int bits, int64_t time_steps,
                                            const char *profile_path, size_t n_samples,
                                            const char *out_dir, FILE *table,
                                            stdbp_err *err) STDBP_WUR;

/* The paper's figures, printed beside ours (Zhang et al. 2022, abstract:
 * an accelerator whose details are not public). */
#define STDBP_PAPER_POWER_MW 0.751
#define STDBP_PAPER_LATENCY_MS 47.71

#endif
