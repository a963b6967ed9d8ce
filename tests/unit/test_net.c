/* Building networks (checks and messages, shapes, the parameter buffer),
 * and the edge cases of forward and backward: silent inputs, dead and
 * tiny weight sums, thresholds reached at an input time, the silent
 * output surrogate, NaN detection. */
#include "core/layer.h"
#include "test_net_util.h"

static void expect_error(stdbp_shape in, const stdbp_layer_spec *s, size_t n,
                         const stdbp_neuron_params *np, const char *needle, const char *what)
{
    stdbp_net *net = (stdbp_net *)&net; /* must come back NULL */
    stdbp_err err;
    stdbp_err_clear(&err);
    stdbp_status st = stdbp_net_create(in, s, n, np, &net, &err);
    ok(st == STDBP_EINVAL && net == NULL && strstr(err.msg, needle) != NULL, "%s: \"%s\"", what,
       err.msg);
    if (st == STDBP_OK)
        stdbp_net_destroy(&net);
}

static void test_create_errors(void)
{
    const stdbp_shape mnist = {1, 28, 28};
    stdbp_neuron_params np = stdbp_neuron_defaults();
    {
        const stdbp_layer_spec s[] = {spec_conv(4, 5, 1, 0), spec_pool(2, 0),
                                      spec_conv(8, 13, 1, 0)};
        expect_error(mnist, s, 3, NULL, "layer 2 (conv2d, input 4x12x12): kernel 13 is larger",
                     "kernel larger than its input names layer 2");
    }
    {
        const stdbp_layer_spec s[] = {spec_conv(4, 0, 1, 0)};
        expect_error(mnist, s, 1, NULL, "layer 0 (conv2d", "kernel 0");
    }
    {
        stdbp_layer_spec s[] = {spec_dense(10), spec_pool(2, 0)};
        s[1].padding = 2;
        expect_error(mnist, s, 2, NULL, "layer 1 (pool", "pool padding >= kernel");
    }
    {
        const stdbp_layer_spec s[] = {spec_dense(10), spec_dense(0)};
        expect_error(mnist, s, 2, NULL, "layer 1 (dense", "dense with 0 neurons");
    }
    {
        stdbp_layer_spec s[] = {spec_conv(4, 3, 1, 0)};
        s[0].stride = -1;
        expect_error(mnist, s, 1, NULL, "stride", "negative stride");
    }
    {
        stdbp_layer_spec s[] = {spec_dense(3)};
        s[0].kind = (stdbp_layer_kind)42;
        expect_error(mnist, s, 1, NULL, "layer 0: unknown layer kind 42", "unknown kind");
    }
    {
        const stdbp_layer_spec s[] = {spec_dense(3)};
        expect_error(mnist, s, 0, NULL, "at least one layer", "no layers");
        expect_error((stdbp_shape){0, 28, 28}, s, 1, NULL, "input shape", "empty input");
        np.theta = 0;
        expect_error(mnist, s, 1, &np, "neuron.theta", "theta 0");
        np = stdbp_neuron_defaults();
        np.grad_clip = NAN;
        expect_error(mnist, s, 1, &np, "neuron.grad_clip", "grad_clip NaN");
    }
}

static void test_shapes(void)
{
    const stdbp_layer_spec s[] = {spec_conv(16, 5, 0, 2), spec_pool(2, 0), spec_conv(32, 5, 1, 0),
                                  spec_pool(2, 0),        spec_flatten(),  spec_dense(128),
                                  spec_dense(10)};
    const char *want[] = {
        "conv2d(16,k5,s1,p2)", "pool(k2,s2)", "conv2d(32,k5,s1,p0)", "pool(k2,s2)", "flatten",
        "dense(128)",          "dense(10)"};
    const int sizes[][3] = {{16, 28, 28}, {16, 14, 14}, {32, 10, 10}, {32, 5, 5},
                            {800, 1, 1},  {128, 1, 1},  {10, 1, 1}};
    const size_t counts[] = {25 * 16, 0, 16 * 25 * 32, 0, 0, 800 * 128, 128 * 10};
    stdbp_net *net = build_net((stdbp_shape){1, 28, 28}, s, 7, NULL);
    char buf[64];
    int bad = 0;
    size_t off = 0;
    for (size_t i = 0; i < 7; i++) {
        const stdbp_layer_info L = stdbp_net_layer(net, i);
        bad += strcmp(stdbp_layer_describe(&L, buf, sizeof buf), want[i]) != 0;
        bad += L.out.c != sizes[i][0] || L.out.h != sizes[i][1] || L.out.w != sizes[i][2];
        bad += L.param_count != counts[i] || L.param_offset != off;
        off += L.param_count;
    }
    is_int(0, bad, "CNN 28x28-16C5p2-P2-32C5-P2-800-128-10: shapes, descriptions, offsets");
    ok(stdbp_net_num_params(net) == off && stdbp_net_input_size(net) == 784 &&
           stdbp_net_output_size(net) == 10 && stdbp_net_layer(net, 2).fan_in == 400,
       "parameter count %zu, sizes, fan-in", stdbp_net_num_params(net));
    const double *p = stdbp_net_params_const(net);
    int zero = 1;
    for (size_t k = 0; k < off; k++)
        zero &= p[k] == 0.0;
    ok(zero && stdbp_net_params(net) == p, "parameters start at zero in one buffer");
    stdbp_net_destroy(&net);
    ok(net == NULL, "destroy NULLs the handle");
    stdbp_net_destroy(&net);
    stdbp_net_destroy(NULL);
    ok(1, "destroy accepts NULL");
    const stdbp_neuron_params d = stdbp_neuron_defaults();
    ok(d.theta == 1 && d.t_max == INFINITY && d.grad_clip == 10 && d.silent_time == 3,
       "neuron defaults: theta 1, no window, grad_clip 10, silent_time 3");
}

/* A 2-input, 1-output dense net with the given weights. */
typedef struct tiny {
    stdbp_net *net;
    stdbp_ws *ws;
    int64_t g[2];
    double din[2];
} tiny;

static void tiny_make(tiny *t, double w0, double w1, const stdbp_neuron_params *np)
{
    const stdbp_layer_spec s = spec_dense(1);
    t->net = build_net((stdbp_shape){2, 1, 1}, &s, 1, np);
    t->ws = build_ws(t->net);
    stdbp_net_params(t->net)[0] = w0;
    stdbp_net_params(t->net)[1] = w1;
}

static stdbp_status tiny_run(tiny *t, double t0, double t1, double dl, double *out, stdbp_err *err)
{
    const double in[2] = {t0, t1};
    *out = stdbp_net_forward(t->net, t->ws, in)[0];
    t->g[0] = t->g[1] = 0;
    return stdbp_net_backward(t->net, t->ws, &dl, t->g, t->din, err);
}

static void tiny_free(tiny *t)
{
    stdbp_ws_destroy(&t->ws);
    stdbp_net_destroy(&t->net);
}

static void test_edges(void)
{
    stdbp_neuron_params np = stdbp_neuron_defaults();
    stdbp_err err;
    tiny t;
    double out;
    stdbp_status st;

    np.grad_clip = INFINITY;
    tiny_make(&t, 2.0, 1.0, &np);
    st = tiny_run(&t, INFINITY, INFINITY, 1.0, &out, &err);
    ok(st == STDBP_OK && out == INFINITY && t.g[0] == 0 && t.g[1] == 0 && t.din[0] == 0,
       "all inputs silent: silent output; surrogate has no input to push");
    st = tiny_run(&t, 0.5, INFINITY, 1.0, &out, &err);
    /* t = 0.5 + 1/2; dt/dw0 = (0.5 - 1) / 2; dt/dt0 = 2 / 2 */
    ok(st == STDBP_OK && out == 1.0 && stdbp_grad_from_fixed(t.g[0]) == -0.25 && t.g[1] == 0 &&
           t.din[0] == 1.0,
       "single input: t = t_i + theta/w, dt/dw = (t_i - t)/w, dt/dt_i = 1");
    tiny_free(&t);

    tiny_make(&t, 1.0, 5.0, &np);
    st = tiny_run(&t, 0.0, 1.0, 1.0, &out, &err);
    ok(st == STDBP_OK && out == 1.0 && stdbp_grad_from_fixed(t.g[0]) == -1.0 && t.g[1] == 0 &&
           t.din[1] == 0,
       "threshold reached exactly at an input's time: that input is not causal");
    tiny_free(&t);

    /* Dead neuron: sum of weights <= 0. Not an output asked to fire: no
     * gradient at all. */
    tiny_make(&t, 0.5, -0.5, &np);
    st = tiny_run(&t, 0.1, 0.2, 0.0, &out, &err);
    ok(st == STDBP_OK && out == INFINITY && t.g[0] == 0 && t.g[1] == 0,
       "weights summing to 0: silent, no gradient without dL/dt");
    /* The silent-output surrogate: fires at silent_time = 3, both inputs
     * causal, S = max(0, 0.01 theta); g = dl / S = 100. */
    st = tiny_run(&t, 0.1, 0.2, 1.0, &out, &err);
    ok(st == STDBP_OK && out == INFINITY &&
           fabs(stdbp_grad_from_fixed(t.g[0]) - 100 * (0.1 - 3)) < 1e-6 &&
           fabs(stdbp_grad_from_fixed(t.g[1]) - 100 * (0.2 - 3)) < 1e-6 &&
           fabs(t.din[0] - 50) < 1e-9 && fabs(t.din[1] + 50) < 1e-9,
       "silent output with dL/dt != 0: surrogate at silent_time, S floored at theta/100");
    tiny_free(&t);
    /* An input after silent_time cannot have caused the surrogate spike:
     * only the one at 0.1 (weight -0.5) is causal; S = -0.5 is floored,
     * g = 100, dt/dt_0 = g w_0 = -50. Silent: V ends at -0.5 x 6.9. */
    tiny_make(&t, -0.5, 0.5, &np);
    st = tiny_run(&t, 0.1, 7.0, 1.0, &out, &err);
    ok(st == STDBP_OK && out == INFINITY &&
           fabs(stdbp_grad_from_fixed(t.g[0]) - 100 * (0.1 - 3)) < 1e-6 && t.g[1] == 0 &&
           fabs(t.din[0] + 50) < 1e-9 && t.din[1] == 0,
       "surrogate: an input after silent_time is not causal (no term g (t_i - silent_time))");
    /* Every input after silent_time: nothing to push. */
    st = tiny_run(&t, 4.0, 7.0, 1.0, &out, &err);
    ok(st == STDBP_OK && out == INFINITY && t.g[0] == 0 && t.g[1] == 0 && t.din[0] == 0 &&
           t.din[1] == 0,
       "surrogate: no input before silent_time, no gradient");
    tiny_free(&t);

    /* Tiny positive weight sum: fires very late. With the default clip
     * nothing infinite escapes; without it the overflow is reported. */
    np = stdbp_neuron_defaults();
    tiny_make(&t, 1e-300, 0.0, &np);
    st = tiny_run(&t, 0.0, INFINITY, 1.0, &out, &err);
    ok(st == STDBP_OK && fabs(out / 1e300 - 1) < 1e-12 && t.g[0] == -((int64_t)1 << 51) &&
           isfinite(t.din[0]),
       "S = 1e-300: fires at 1e300, g clipped, dL/dw clamped, nothing infinite");
    tiny_free(&t);
    tiny_make(&t, 1e-310, 0.0, &np);
    st = tiny_run(&t, 0.0, INFINITY, 0.0, &out, &err);
    ok(st == STDBP_OK && out == INFINITY, "S = 1e-310: theta / S overflows: silent, not 'inf'");
    tiny_free(&t);
    np.grad_clip = INFINITY;
    tiny_make(&t, 1e-300, 0.0, &np);
    st = tiny_run(&t, 0.0, INFINITY, 1.0, &out, &err);
    ok(st == STDBP_ENUMERIC && contains(err.msg, "layer 0 (dense(1))", "message names the layer"),
       "S = 1e-300 without grad_clip: dL/dw = -inf -> STDBP_ENUMERIC");
    tiny_free(&t);
    np = stdbp_neuron_defaults();
    tiny_make(&t, 1.0, -1.0 + 1e-12, &np);
    st = tiny_run(&t, 0.0, 0.5, 1.0, &out, &err);
    ok(st == STDBP_OK && isfinite(out) && fabs(stdbp_grad_from_fixed(t.g[0])) <= 524288.0 &&
           fabs(t.din[0]) <= 10.0 + 1e-9 && isfinite(t.din[1]),
       "S = 1e-12: dL/dt / S clipped to 10; gradients finite (t = %g)", out);
    tiny_free(&t);

    np.grad_clip = INFINITY;
    tiny_make(&t, 1.0, -1.0 + 1e-12, &np);
    st = tiny_run(&t, 0.0, 0.5, 1.0, &out, &err);
    ok(st == STDBP_OK, "S = 1e-12 unclipped: large but finite, fixed point clamps");
    ok(t.g[0] == (int64_t)1 << 51 || t.g[0] == -((int64_t)1 << 51),
       "the per-sample clamp is +-STDBP_GRAD_FIXED_LIMIT");
    tiny_free(&t);

    tiny_make(&t, 1.0, 1.0, &np);
    st = tiny_run(&t, 0.0, 0.5, NAN, &out, &err);
    ok(st == STDBP_ENUMERIC && strstr(err.msg, "output neuron 0") != NULL,
       "NaN dL/dt from the loss: STDBP_ENUMERIC (%s)", err.msg);
    tiny_free(&t);
}

static void test_misuse(void)
{
    const stdbp_layer_spec s = spec_dense(2);
    stdbp_net *net = build_net((stdbp_shape){3, 1, 1}, &s, 1, NULL);
    stdbp_ws *ws = build_ws(net);
    stdbp_err err;
    double dl[2] = {1, 1};
    int64_t g[6] = {0};
    ok(stdbp_net_backward(net, ws, dl, g, NULL, &err) == STDBP_EINVAL &&
           strstr(err.msg, "no forward") != NULL,
       "backward before forward: STDBP_EINVAL");
    stdbp_ws_destroy(&ws);
    ok(ws == NULL, "ws destroy NULLs the handle");
    stdbp_ws_destroy(NULL);
    stdbp_net_destroy(&net);
}

/* Layer times are kept per layer; synaptic events sum over layers. */
static void test_layer_times(void)
{
    const stdbp_layer_spec s[] = {spec_dense(4), spec_dense(3)};
    stdbp_net *net = build_net((stdbp_shape){5, 1, 1}, s, 2, NULL);
    stdbp_ws *ws = build_ws(net);
    double *p = stdbp_net_params(net);
    for (size_t k = 0; k < stdbp_net_num_params(net); k++)
        p[k] = 0.4 + 0.01 * (double)k;
    const double in[5] = {0.1, INFINITY, 0.3, 0.2, INFINITY};
    const double *out = stdbp_net_forward(net, ws, in);
    const double *h = stdbp_ws_layer_times(ws, 0);
    size_t fired_h = 0;
    for (int j = 0; j < 4; j++)
        fired_h += h[j] < INFINITY;
    ok(out == stdbp_ws_layer_times(ws, 1) && fired_h == 4 &&
           stdbp_ws_synaptic_events(ws) == 3 * 4 + fired_h * 3,
       "layer times and synaptic events (%llu)", (unsigned long long)stdbp_ws_synaptic_events(ws));
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
}

/* stdbp_ws_profile: forward and backward time each layer while on (both
 * kinds of forward), and nothing is added while off. */
static void test_profile(void)
{
    const stdbp_layer_spec s[] = {spec_dense(64), spec_dense(3)};
    stdbp_net *net = build_net((stdbp_shape){200, 1, 1}, s, 2, NULL);
    stdbp_ws *ws = build_ws(net);
    double *p = stdbp_net_params(net), in[200], dl[3] = {0.5, -0.25, 0.125}, sec[4] = {0};
    int64_t *g = calloc(stdbp_net_num_params(net), sizeof *g);
    stdbp_err err;
    for (size_t k = 0; k < stdbp_net_num_params(net); k++)
        p[k] = 0.01 + 1e-5 * (double)(k % 97);
    for (int i = 0; i < 200; i++)
        in[i] = 0.005 * i;
    int fails = 0;
    stdbp_ws_profile(ws, sec);
    for (int rep = 0; rep < 200; rep++) {
        stdbp_net_forward(net, ws, in);
        fails += stdbp_net_backward(net, ws, dl, g, NULL, &err) != STDBP_OK;
    }
    ok(fails == 0 && sec[0] > 0 && sec[1] > 0 && sec[0] + sec[2] > 0 && sec[1] + sec[3] > 0 &&
           sec[2] >= 0 && sec[3] >= 0,
       "profile on: forward %g + %g s, backward %g + %g s", sec[0], sec[2], sec[1], sec[3]);
    const double before = sec[0];
    const uint32_t ch[3] = {0, 5, 7};
    const double t[3] = {0.1, 0.2, 0.3};
    const stdbp_event_input ev = {3, ch, t};
    const double *out = NULL;
    for (int rep = 0; rep < 200; rep++)
        fails += stdbp_net_forward_events(net, ws, &ev, &out, &err) != STDBP_OK;
    ok(fails == 0 && sec[0] > before, "event input is timed too (%g s more)", sec[0] - before);
    double kept[4];
    memcpy(kept, sec, sizeof kept);
    stdbp_ws_profile(ws, NULL);
    stdbp_net_forward(net, ws, in);
    fails += stdbp_net_backward(net, ws, dl, g, NULL, &err) != STDBP_OK;
    ok(fails == 0 && memcmp(kept, sec, sizeof kept) == 0, "profile off: nothing added");
    free(g);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
}

int main(void)
{
    plan(37);
    test_create_errors();
    test_shapes();
    test_edges();
    test_misuse();
    test_layer_times();
    test_profile();
    return 0;
}
