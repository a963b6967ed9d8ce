/* A feed-forward network of ReL-PSP neurons that fire at most once.
 *
 * A network is a list of layers (dense, 2-D convolution, spike pooling,
 * flatten) over a C x H x W input of spike times. All parameters live in
 * one contiguous buffer and all gradients in another of the same shape, so
 * that one reduction per step serves data parallelism.
 *
 * Spike times are doubles in model units; a silent neuron has +INFINITY.
 * Input times must be finite or +INFINITY (NaN and -INFINITY are taken as
 * silent). Activations are stored channel-major (C, H, W); flatten is
 * therefore a change of shape only.
 *
 * Weight layouts inside the parameter buffer (chosen so that the inner
 * loops run over output neurons, contiguous and vectorisable):
 *   dense:  W[in][out]                  (in = C*H*W of the layer's input)
 *   conv2d: W[c_in][k_y][k_x][c_out]
 * There are no biases (the ReL-PSP neuron has none).
 *
 * Threading: a stdbp_net is read-only during forward/backward; each thread
 * needs its own stdbp_ws. Nothing here calls MPI. */
#ifndef STDBP_NET_H
#define STDBP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/api.h"
#include "stdbp/error.h"
#include "stdbp/rng.h"

typedef enum stdbp_layer_kind {
    STDBP_LAYER_DENSE,
    STDBP_LAYER_CONV2D,
    STDBP_LAYER_POOL, /* earliest spike of each window */
    STDBP_LAYER_FLATTEN
} stdbp_layer_kind;

typedef struct stdbp_shape {
    int c, h, w; /* a flat vector of n values is (n, 1, 1) */
} stdbp_shape;

/* What the configuration says about one layer. */
typedef struct stdbp_layer_spec {
    stdbp_layer_kind kind;
    int out;     /* dense: neurons; conv2d: output channels */
    int kernel;  /* conv2d, pool: square kernel size */
    int stride;  /* conv2d, pool; 0 means 1 for conv, kernel for pool */
    int padding; /* conv2d, pool: zero (silent) padding on each side,
                    0 <= padding < kernel */
} stdbp_layer_spec;

/* The neuron model, shared by every spiking layer. */
typedef struct stdbp_neuron_params {
    double theta;       /* firing threshold, > 0 (default 1) */
    double t_max;       /* window: a neuron that would fire after t_max is
                           silent; INFINITY = no window (default) */
    double grad_clip;   /* |dL/dt_j / S_j| is clipped to this per neuron
                           (exploding gradients when S_j is small);
                           INFINITY = off (default 10) */
    double silent_time; /* a silent neuron asked by the loss to fire is
                           treated as firing at this time, with its inputs
                           fired before it as causal set (default 3;
                           see stdbp_net_backward) */
} stdbp_neuron_params;

/* Defaults as documented above. Cannot fail. */
STDBP_API stdbp_neuron_params stdbp_neuron_defaults(void);

/* The instruction set the neuron kernels use on this CPU: "avx512",
 * "avx2" or "generic" (picked at run time; every one gives the same
 * bits). For logs and benchmarks. Not collective. */
STDBP_API const char *stdbp_kernels_isa(void);

/* Makes every later kernel call use the named build ("avx512", "avx2",
 * "generic"), or "best" (the default) to go back to the automatic choice;
 * STDBP_EINVAL if unknown or not runnable here. The results do not
 * change, only the speed: for benchmarks and for checking a build on a
 * machine that has a faster one. Not thread-safe: call it before any
 * kernel runs. Not collective. */
STDBP_API stdbp_status stdbp_kernels_select(const char *name, stdbp_err *err) STDBP_WUR;

/* One layer, as built (read-only view). */
typedef struct stdbp_layer_info {
    stdbp_layer_kind kind;
    stdbp_shape in, out;
    int kernel, stride, padding; /* conv2d and pool; 0 otherwise */
    size_t param_offset;         /* first weight in the parameter buffer */
    size_t param_count;          /* 0 for pool and flatten */
    int fan_in;                  /* inputs per neuron (dense: in.c*h*w;
                                    conv: c_in*k*k; 0 otherwise) */
} stdbp_layer_info;

typedef struct stdbp_net stdbp_net;
typedef struct stdbp_ws stdbp_ws;

/* Build a network. Checks that every layer fits its input (kernel no
 * larger than the padded input, positive sizes, ...) and names the layer
 * (0-based) in the message when not. Parameters are zero until
 * stdbp_net_init or a copy into stdbp_net_params. Not collective. */
STDBP_API stdbp_status stdbp_net_create(stdbp_shape input, const stdbp_layer_spec *specs,
                                        size_t n_layers, const stdbp_neuron_params *neuron,
                                        stdbp_net **out, stdbp_err *err) STDBP_WUR;
/* Free a network; NULLs *net; accepts NULL. */
STDBP_API void stdbp_net_destroy(stdbp_net **net);

STDBP_API size_t stdbp_net_num_layers(const stdbp_net *net);
STDBP_API stdbp_layer_info stdbp_net_layer(const stdbp_net *net, size_t i);
STDBP_API const stdbp_neuron_params *stdbp_net_neuron(const stdbp_net *net);
STDBP_API size_t stdbp_net_input_size(const stdbp_net *net);
STDBP_API size_t stdbp_net_output_size(const stdbp_net *net);
/* The contiguous parameter buffer (owned by net unless given with
 * stdbp_net_use_params). */
STDBP_API size_t stdbp_net_num_params(const stdbp_net *net);
STDBP_API double *stdbp_net_params(stdbp_net *net);
STDBP_API const double *stdbp_net_params_const(const stdbp_net *net);
/* The net's parameters live in buf from now on: stdbp_net_num_params
 * doubles, 64-byte aligned, filled by the caller (the net's own values
 * are dropped, not copied). The net never frees buf; the caller keeps it
 * until the net is destroyed. For parameters that several processes
 * share (the trainer's node window, dist.h). Not collective. */
STDBP_API void stdbp_net_use_params(stdbp_net *net, double *buf);
/* "dense(800)", "conv2d(16,k5,s1,p2)", ... into buf; returns buf. */
STDBP_API const char *stdbp_layer_describe(const stdbp_layer_info *info, char *buf, size_t len);

/* Weight initialisation, layer by layer (fan-in N, a = active_fraction):
 *   STDBP_INIT_FIRE (default):
 *     w ~ Normal(theta / (N a), gain * theta * sqrt(2 / N)).
 *     The a N inputs expected to fire then sum to theta on average, with
 *     spread gain * theta * sqrt(2 a); a neuron with no leak fires as soon
 *     as its causal weights sum to S > 0, so P(fire) = Phi(1 / (gain
 *     sqrt(2 a))) = 94% for a = 0.2, gain 1, about 1 time unit after its
 *     inputs (net_init.c says more).
 *   STDBP_INIT_KAIMING: w ~ Normal(0, gain * sqrt(2 / N)); about half the
 *     neurons never fire at first.
 * Layer l draws from stdbp_rng_stream(seed, l, 0): every rank that calls
 * it with the same seed gets the same weights. init NULL means the
 * defaults. Cannot fail. */
typedef enum stdbp_init_kind { STDBP_INIT_FIRE, STDBP_INIT_KAIMING } stdbp_init_kind;
typedef struct stdbp_init_params {
    stdbp_init_kind kind;
    double gain;            /* scales the standard deviation (default 1) */
    double active_fraction; /* expected fraction of a layer's inputs that
                               fire, used by STDBP_INIT_FIRE (default 0.2;
                               clamped to [0.001, 1]) */
} stdbp_init_params;
STDBP_API stdbp_init_params stdbp_init_defaults(void);
STDBP_API void stdbp_net_init(stdbp_net *net, const stdbp_init_params *init, uint64_t seed);

/* Workspace: every per-sample buffer (layer times, sorted events, causal
 * sets, per-sample conv gradients), allocated once so that forward and
 * backward never allocate. */
STDBP_API stdbp_status stdbp_ws_create(const stdbp_net *net, stdbp_ws **out,
                                       stdbp_err *err) STDBP_WUR;
STDBP_API void stdbp_ws_destroy(stdbp_ws **ws);

/* Forward one sample: in_times has stdbp_net_input_size values (copied).
 * Returns the output layer's times (owned by ws, valid until the next
 * forward). Cannot fail; does not allocate. */
STDBP_API const double *stdbp_net_forward(const stdbp_net *net, stdbp_ws *ws,
                                          const double *in_times);
/* Event input: a sample as a list of (channel, time) events, any number
 * per channel (channel = the index into the C x H x W input, channel-major
 * as in_times). The first dense or conv2d layer (after any flatten) takes
 * every event exactly: a neuron's membrane gains w (t - t_k) after each of
 * its channel's events, and its dL/dw sums over the causal events of that
 * channel. Hidden neurons still fire once. When the first layer is a pool,
 * only each channel's earliest event matters (pooling keeps the earliest
 * spike), and that is what it gets. Events need not be sorted: they are
 * taken in order of (time, channel), so any order of the same events gives
 * the same bits, and an image given as one event per fired pixel gives the
 * bits of stdbp_net_forward. Times that are not finite are dropped
 * (silent), as in stdbp_net_forward. */
typedef struct stdbp_event_input {
    size_t n;           /* number of events (at most STDBP_MAX_EVENTS) */
    const uint32_t *ch; /* channel of each, < stdbp_net_input_size */
    const double *t;    /* time of each */
} stdbp_event_input;

#define STDBP_MAX_EVENTS ((size_t)1 << 30)

/* Forward one sample given as events; *out receives the output layer's
 * times (owned by ws, valid until the next forward). stdbp_ws_layer_times
 * and the backward work as after stdbp_net_forward; the input "times" of
 * the workspace (and dL/dt of the input from stdbp_net_backward) are per
 * channel: the earliest event of each channel, and dL/dt summed over the
 * channel's events (the derivative for a common shift of all of them).
 * The workspace grows its event buffers when a sample has more events
 * than any before (the only allocation). STDBP_EINVAL for a channel
 * outside the input or more than STDBP_MAX_EVENTS events, STDBP_ENOMEM;
 * on error no forward has run on ws. Not collective. */
STDBP_API stdbp_status stdbp_net_forward_events(const stdbp_net *net, stdbp_ws *ws,
                                                const stdbp_event_input *ev, const double **out,
                                                stdbp_err *err) STDBP_WUR;
/* Spike times of layer i's output from the last forward (owned by ws). */
STDBP_API const double *stdbp_ws_layer_times(const stdbp_ws *ws, size_t i);

/* Per-layer timing. With sec (2 x stdbp_net_num_layers doubles, the
 * caller's, kept while timing is on), every stdbp_net_forward,
 * stdbp_net_forward_events and stdbp_net_backward on ws adds layer i's
 * thread CPU seconds to sec[2 i] (forward) and sec[2 i + 1] (backward);
 * NULL turns timing off (the default). Two clock reads per layer and pass
 * while on, none while off. Not collective. */
STDBP_API void stdbp_ws_profile(stdbp_ws *ws, double *sec);

/* Gradients are accumulated across samples in 64-bit fixed point with
 * STDBP_GRAD_FRAC_BITS fractional bits: each sample's gradient is computed
 * in double, rounded once per parameter, and added as an integer. Integer
 * addition is associative, so the sum over a batch is bitwise the same in
 * any order and on any number of ranks. Per-sample values are clamped to
 * +-STDBP_GRAD_FIXED_LIMIT before rounding (2^19, so that the scaled
 * value stays within +-2^51, where the rounding is exact and branch-free,
 * and 2^12 samples at the limit still fit in 63 bits); rounding is to
 * nearest, ties to even; NaN gives 0 (stdbp_net_backward reports NaN
 * separately). Sums wrap modulo 2^64 rather than overflow, so they stay
 * associative. Neither function can fail. */
#define STDBP_GRAD_FRAC_BITS 32
#define STDBP_GRAD_FIXED_LIMIT 524288.0 /* 2^19 */
STDBP_API int64_t stdbp_grad_to_fixed(double g);
STDBP_API double stdbp_grad_from_fixed(int64_t q);
/* grad[k] = acc[k] / 2^STDBP_GRAD_FRAC_BITS / count, and acc[k] = 0, for
 * k < n, in one vectorisable pass: the mean gradient of a batch of count
 * samples, with the accumulator ready for the next batch. The same
 * arithmetic on every rank gives the same gradient. Cannot fail. */
STDBP_API void stdbp_grad_fixed_mean(int64_t *acc, double *grad, size_t n, size_t count);
/* The same over n_acc accumulators (the per-thread ones of one rank):
 * grad[k] = (acc[0][k] + ... + acc[n_acc - 1][k]) / 2^STDBP_GRAD_FRAC_BITS
 * / count, the sum wrapping as the accumulators' sums do, and every
 * acc[i][k] = 0: the same bits as adding them into one accumulator, then
 * stdbp_grad_fixed_mean, in one pass instead of two. Cannot fail. */
STDBP_API void stdbp_grad_fixed_mean_sum(int64_t *const *acc, size_t n_acc, double *grad, size_t n,
                                         size_t count);

/* Backward for the sample of the last forward on ws. dl_dout holds dL/dt
 * for each output neuron (0 for neurons that should get no gradient). Adds
 * the sample's dL/dw, in fixed point, to grad_acc (stdbp_net_num_params
 * values). If dl_din is not NULL it receives dL/dt of the network's input
 * (for tests). Exact STDBP: through causal sets only, dL/dt_j / S_j
 * clipped to +-neuron.grad_clip per neuron; silent neurons pass nothing,
 * except an output neuron that is silent yet has dl_dout != 0, which is
 * treated as firing at neuron.silent_time with the inputs fired before
 * that time causal and S = max(sum of their weights, theta / 100) (so a
 * dead label neuron learns to fire; the floor keeps the push finite; with
 * no input before silent_time there is nothing to push). "Output neuron" means
 * one of the last layer, or of the last spiking layer when only flatten
 * follows it; a silent pool output has no input to push.
 * Returns STDBP_ENUMERIC, naming the layer (or the output neuron, for a
 * NaN/Inf dl_dout), if a gradient is NaN or Inf; grad_acc is then left
 * partly updated and must be discarded. STDBP_EINVAL if no forward ran on
 * ws, ws belongs to another net or grad_acc is NULL. Does not allocate. */
STDBP_API stdbp_status stdbp_net_backward(const stdbp_net *net, stdbp_ws *ws, const double *dl_dout,
                                          int64_t *grad_acc, double *dl_din,
                                          stdbp_err *err) STDBP_WUR;

/* Number of synaptic events in the last forward on ws, for benchmarks and
 * the hardware model: each fired input spike counted once per neuron it
 * reaches (dense: fired inputs x out; conv2d: fired inputs x output
 * positions that see them x c_out; pool and flatten: none), whether or
 * not the neuron had already fired. */
STDBP_API uint64_t stdbp_ws_synaptic_events(const stdbp_ws *ws);

#endif
