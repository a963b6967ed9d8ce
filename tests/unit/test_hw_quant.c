/* Quantisation: the integer semantics of include/stdbp/hw.h on hand-
 * computed cases, the closed form against brute-force stepping of the
 * potential on random nets (dense, conv, pool), and 16-bit quantisation
 * against the float net. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_hw_util.h"

/* 2 inputs -> dense(2) with integer-friendly weights: at 4 bits
 * (w_max = 7) and scale 1/7 the weights quantise exactly to
 *   W_q[in][out] = [[7, 5], [3, 2]]. */
static stdbp_net *two_neuron_net(double theta)
{
    stdbp_layer_spec s = hwt_dense(2);
    stdbp_net *net = hwt_net((stdbp_shape){2, 1, 1}, &s, 1, theta, INFINITY);
    double *w = stdbp_net_params(net);
    w[0] = 7.0 / 7;
    w[1] = 5.0 / 7;
    w[2] = 3.0 / 7;
    w[3] = 2.0 / 7;
    return net;
}

static void hand_cases(void)
{
    stdbp_err err;
    stdbp_qnet *q = NULL;
    stdbp_qws *ws = NULL;
    stdbp_quant_params p = stdbp_quant_defaults();
    /* theta_q = round(theta / (scale * dt)) = 20 with scale 1/7, dt 0.1:
     * theta = 20 / 7 / 10 */
    stdbp_net *net = two_neuron_net(20.0 / 70.0);
    p.bits = 4;
    p.time_steps = 10;
    p.t_max = 1.0;
    if (stdbp_qnet_create(net, &p, &q, &err) || stdbp_qws_create(q, &ws, &err))
        bail("%s", err.msg);
    stdbp_qlayer_info li = stdbp_qnet_layer(q, 0);
    is_double(1.0 / 7, li.scale, 1e-15, "scale = max|w| / (2^(4-1) - 1)");
    is_int(7, li.w_max, "w_max at 4 bits");
    is_int(20, li.theta, "theta_q = round(theta / (scale * dt))");
    is_int(20, stdbp_qnet_params(q).window, "window: no float window -> (1 layer + 1) * T");
    is_double(0.1, stdbp_qnet_step(q), 1e-15, "dt = t_max / T");
    ok(li.w_err_max < 1e-12, "exact weights quantise exactly");
    /* accumulator: fan-in 2 x 7 x window 20 + 20 = 300 < 2^9: 9 + sign */
    is_int(10, li.acc_bits, "accumulator bits for fan-in 2, w_max 7, window 20");

    /* inputs: t = 0 -> step 0, t = 0.1 -> step 1, t = 0.149 -> 1, t =
     * 0.15 -> 2 (half up), inf -> silent, negative -> 0 */
    double times[2] = {0.0, 0.1};
    int64_t steps[2];
    stdbp_qnet_quantise_input(q, times, steps);
    ok(steps[0] == 0 && steps[1] == 1, "input quantisation: 0 -> 0, 0.1 -> 1");
    times[0] = 0.149;
    times[1] = 0.15;
    stdbp_qnet_quantise_input(q, times, steps);
    ok(steps[0] == 1 && steps[1] == 2, "round half up: 0.149 -> 1, 0.15 -> 2");
    times[0] = INFINITY;
    times[1] = -0.3;
    stdbp_qnet_quantise_input(q, times, steps);
    ok(steps[0] == STDBP_QT_SILENT && steps[1] == 0, "silent stays silent, negative -> 0");

    /* n0: group 0: S=7, R=0, c=ceil(20/7)=3 > next step 1; group 1:
     * S=10, R=3, c=ceil(23/10)=3 -> fires at 3.
     * n1: group 0: S=5, c=4 > 1; group 1: S=7, R=2, c=ceil(22/7)=4. */
    int64_t in[2] = {0, 1};
    const int64_t *out = stdbp_qnet_forward(q, ws, in);
    ok(out[0] == 3 && out[1] == 4, "closed form: n0 at 3, n1 at 4 (got %lld, %lld)",
       (long long)out[0], (long long)out[1]);
    is_int(0, stdbp_decide_steps(out, 2), "decision: earliest output");
    /* a candidate equal to the next input step fires before that input:
     * input 1 at step 3 -> n0: group 0 gives c = 3 <= 3: fires at 3;
     * n1: c = 4 > 3, then S=7, R=6, c=ceil(26/7)=4 */
    in[1] = 3;
    out = stdbp_qnet_forward(q, ws, in);
    ok(out[0] == 3 && out[1] == 4, "c == next step fires first (got %lld, %lld)", (long long)out[0],
       (long long)out[1]);
    /* input 0 alone at step 17: n0 c = 17 + 3 = 20 <= window; n1 c = 21 >
     * window 20: silent */
    in[0] = 17;
    in[1] = STDBP_QT_SILENT;
    out = stdbp_qnet_forward(q, ws, in);
    ok(out[0] == 20 && out[1] == STDBP_QT_SILENT, "window: 20 fires, 21 is silent");
    /* an input beyond the window is ignored */
    in[0] = 21;
    out = stdbp_qnet_forward(q, ws, in);
    ok(out[0] == STDBP_QT_SILENT && out[1] == STDBP_QT_SILENT, "inputs after the window ignored");
    is_int(-1, stdbp_decide_steps(out, 2), "all silent: no decision");
    int64_t tie[3] = {5, 4, 4};
    is_int(1, stdbp_decide_steps(tie, 3), "ties go to the lowest index");
    double tt[3] = {INFINITY, 0.5, 0.5};
    is_int(1, stdbp_decide_times(tt, 3), "float ties go to the lowest index");
    stdbp_qws_destroy(&ws);
    stdbp_qnet_destroy(&q);

    /* a finite float window maps to floor(t_max / dt) */
    stdbp_net_destroy(&net);
    stdbp_layer_spec s = hwt_dense(2);
    net = hwt_net((stdbp_shape){2, 1, 1}, &s, 1, 1.0, 2.55);
    hwt_randomise(net, 1, 0.0, 1.0);
    if (stdbp_qnet_create(net, &p, &q, &err))
        bail("%s", err.msg);
    is_int(25, stdbp_qnet_params(q).window, "window = floor(2.55 / 0.1) = 25");
    stdbp_qnet_destroy(&q);

    /* errors */
    p.bits = 1;
    is_int(STDBP_ERANGE, stdbp_qnet_create(net, &p, &q, &err), "1-bit weights refused");
    contains(err.msg, "[2, 16]", "the message gives the range");
    p.bits = 17;
    is_int(STDBP_ERANGE, stdbp_qnet_create(net, &p, &q, &err), "17-bit weights refused");
    p.bits = 8;
    p.time_steps = 0;
    is_int(STDBP_ERANGE, stdbp_qnet_create(net, &p, &q, &err), "T = 0 refused");
    p.time_steps = 256;
    p.window = STDBP_QWINDOW_MAX + 1;
    is_int(STDBP_ERANGE, stdbp_qnet_create(net, &p, &q, &err), "a window too long refused");
    p.window = 0;
    ok(q == NULL, "no object on failure");
    stdbp_net_destroy(&net);
}

/* The closed form (stdbp_qnet_forward) against stepping the potential
 * (hwt_reference), on random nets and inputs. */
static void random_nets(void)
{
    stdbp_err err;
    stdbp_rng rng;
    struct {
        stdbp_shape in;
        stdbp_layer_spec specs[6];
        size_t n;
        const char *name;
    } cases[3];
    cases[0].in = (stdbp_shape){12, 1, 1};
    cases[0].specs[0] = hwt_dense(9);
    cases[0].specs[1] = hwt_dense(4);
    cases[0].n = 2;
    cases[0].name = "dense 12-9-4";
    cases[1].in = (stdbp_shape){2, 6, 6};
    cases[1].specs[0] = hwt_conv(3, 3, 1, 1);
    cases[1].specs[1] = hwt_pool(2);
    cases[1].specs[2] = hwt_flatten();
    cases[1].specs[3] = hwt_dense(3);
    cases[1].n = 4;
    cases[1].name = "conv(3,k3,p1)-pool2-flatten-dense(3)";
    cases[2].in = (stdbp_shape){1, 7, 7};
    cases[2].specs[0] = hwt_conv(2, 3, 2, 0);
    cases[2].specs[1] = hwt_flatten();
    cases[2].specs[2] = hwt_dense(5);
    cases[2].n = 3;
    cases[2].name = "conv(2,k3,s2)-flatten-dense(5)";
    stdbp_rng_seed(&rng, 42);
    for (int c = 0; c < 3; c++) {
        stdbp_net *net = hwt_net(cases[c].in, cases[c].specs, cases[c].n, 1.0, INFINITY);
        size_t fails = 0, total = 0, fired = 0;
        for (int trial = 0; trial < 4; trial++) {
            stdbp_quant_params p = stdbp_quant_defaults();
            stdbp_qnet *q = NULL;
            stdbp_qws *ws = NULL;
            hwt_randomise(net, 100 + (uint64_t)trial, 0.15, 0.5);
            p.bits = 3 + 4 * trial;
            p.time_steps = 8 + 8 * trial;
            if (stdbp_qnet_create(net, &p, &q, &err) || stdbp_qws_create(q, &ws, &err))
                bail("%s", err.msg);
            size_t nl = stdbp_qnet_num_layers(q), nin = stdbp_qnet_input_size(q);
            int64_t *ref[8], *in = malloc(nin * sizeof *in);
            for (size_t l = 0; l < nl; l++)
                ref[l] = malloc(stdbp_qnet_layer(q, l).n_out * sizeof **ref);
            for (int k = 0; k < 60; k++) {
                for (size_t i = 0; i < nin; i++)
                    in[i] = stdbp_rng_uniform(&rng) < 0.6
                                ? (int64_t)stdbp_rng_below(&rng, (uint64_t)p.time_steps + 1)
                                : STDBP_QT_SILENT;
                stdbp_qnet_forward(q, ws, in);
                hwt_reference(net, q, in, ref);
                for (size_t l = 0; l < nl; l++) {
                    size_t n = stdbp_qnet_layer(q, l).n_out;
                    const int64_t *got = stdbp_qws_layer_steps(ws, l);
                    for (size_t j = 0; j < n; j++) {
                        total++;
                        fired += got[j] != STDBP_QT_SILENT;
                        if (got[j] != ref[l][j] && fails++ < 3)
                            diag("%s: layer %zu neuron %zu: closed form %lld, stepping %lld",
                                 cases[c].name, l, j, (long long)got[j], (long long)ref[l][j]);
                    }
                }
            }
            for (size_t l = 0; l < nl; l++)
                free(ref[l]);
            free(in);
            stdbp_qws_destroy(&ws);
            stdbp_qnet_destroy(&q);
        }
        is_int(0, (long long)fails, "%s: closed form == stepping on %zu neuron-samples",
               cases[c].name, total);
        ok(fired > total / 10 && fired < total, "%s: a mix of firing (%zu) and silent neurons",
           cases[c].name, fired);
        stdbp_net_destroy(&net);
    }
}

/* 16-bit weights and a fine time grid agree with the float net. */
static void sixteen_bits(void)
{
    stdbp_err err;
    stdbp_dataset ds;
    stdbp_layer_spec specs[2] = {hwt_dense(40), hwt_dense(10)};
    stdbp_net *net = hwt_net((stdbp_shape){64, 1, 1}, specs, 2, 1.0, INFINITY);
    stdbp_init_params init = stdbp_init_defaults();
    stdbp_encoding enc = stdbp_encoding_defaults();
    stdbp_quant_acc acc[3];
    int bits[3] = {16, 8, 3};
    stdbp_net_init(net, &init, 7);
    hwt_dataset(&ds, 400, (stdbp_shape){64, 1, 1}, 10, 0.4, 3);
    if (stdbp_quant_accuracy(net, &ds, &enc, bits, 3, 4096, 0, acc, &err))
        bail("%s", err.msg);
    is_int(400, (long long)acc[0].n, "accuracy over every sample");
    ok(acc[0].float_silent < 200, "the float net decides most samples (%zu silent)",
       acc[0].float_silent);
    ok(acc[0].agree >= 390, "16 bits, T = 4096: %zu / 400 decisions equal the float net's",
       acc[0].agree);
    ok(acc[1].agree >= 300, "8 bits: %zu / 400 agree", acc[1].agree);
    diag("agreement with the float net: 16-bit %zu, 8-bit %zu, 3-bit %zu of 400", acc[0].agree,
         acc[1].agree, acc[2].agree);
    is_int((long long)acc[0].float_correct, (long long)acc[2].float_correct,
           "float accuracy is the same in every entry");
    hwt_dataset_free(&ds);
    stdbp_net_destroy(&net);
}

int main(void)
{
    plan(36);
    hand_cases();
    random_nets();
    sixteen_bits();
    return 0;
}
