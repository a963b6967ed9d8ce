/* The simulator's spikes against the quantised software model: they must
 * be identical, in every layer, for every input, in both modes, on any
 * mapping. Also 784-800-10 on synthetic images through the shipped
 * profiles, with the simulation speed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_hw_util.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A small profile that spreads a net over many cores. */
static stdbp_hw_profile small_profile(stdbp_hw_mode mode, int npc)
{
    stdbp_hw_profile p;
    stdbp_hw_profile_defaults(&p);
    snprintf(p.name, sizeof p.name, "small");
    p.mode = mode;
    p.cores = 144;
    p.neurons_per_core = npc;
    p.synapses_per_core = 4096;
    p.mesh_width = 6;
    p.mesh_height = 6;
    p.cores_per_tile = 4;
    p.input_x = 1;
    p.input_y = 2;
    p.hop_x = (stdbp_hw_op){1e-12, 1e-9};
    p.hop_y = (stdbp_hw_op){2e-12, 2e-9};
    p.synapse = (stdbp_hw_op){1e-12, 1e-9};
    p.neuron = (stdbp_hw_op){1e-12, 1e-9};
    p.send = (stdbp_hw_op){1e-12, 1e-9};
    p.receive = (stdbp_hw_op){1e-12, 1e-9};
    p.barrier = 5e-9;
    p.static_power = 1e-5;
    return p;
}

/* n random inputs through net at (bits, T) on profile p; returns the
 * number of images whose spikes differ in any layer. */
static size_t compare(const stdbp_net *net, const stdbp_hw_profile *p, int bits, int64_t T,
                      size_t n, uint64_t seed, size_t *fired, size_t *decided)
{
    stdbp_err err;
    stdbp_rng rng;
    stdbp_quant_params qp = stdbp_quant_defaults();
    stdbp_qnet *q = NULL;
    stdbp_qws *ws = NULL;
    stdbp_hw_map *m = NULL;
    stdbp_hw_sim *sim = NULL;
    size_t bad = 0;
    qp.bits = bits;
    qp.time_steps = T;
    if (stdbp_qnet_create(net, &qp, &q, &err) || stdbp_qws_create(q, &ws, &err) ||
        stdbp_hw_map_create(q, p, &m, &err) || stdbp_hw_sim_create(q, m, p, &sim, &err))
        bail("%s", err.msg);
    size_t nin = stdbp_qnet_input_size(q), nl = stdbp_qnet_num_layers(q);
    int64_t *in = malloc(nin * sizeof *in);
    stdbp_rng_seed(&rng, seed);
    *fired = *decided = 0;
    for (size_t k = 0; k < n; k++) {
        stdbp_hw_result r;
        for (size_t i = 0; i < nin; i++)
            in[i] = stdbp_rng_uniform(&rng) < 0.5 ? (int64_t)stdbp_rng_below(&rng, (uint64_t)T + 1)
                                                  : STDBP_QT_SILENT;
        const int64_t *out = stdbp_qnet_forward(q, ws, in);
        stdbp_hw_sim_run(sim, in, &r);
        int diff = 0;
        for (size_t l = 0; l < nl; l++) {
            size_t no = stdbp_qnet_layer(q, l).n_out;
            const int64_t *a = stdbp_qws_layer_steps(ws, l), *b = stdbp_hw_sim_layer_steps(sim, l);
            for (size_t j = 0; j < no; j++) {
                *fired += a[j] != STDBP_QT_SILENT;
                if (a[j] != b[j] && !diff++ && bad < 3)
                    diag("image %zu layer %zu neuron %zu: software %lld, hardware %lld", k, l, j,
                         (long long)a[j], (long long)b[j]);
            }
        }
        int dec = stdbp_decide_steps(out, stdbp_qnet_output_size(q));
        if (dec != r.decision)
            diff++;
        if (dec >= 0) {
            (*decided)++;
            int64_t first = out[dec];
            if (r.decision_step != first)
                diff++;
            if (!(r.latency > 0 && r.energy > 0 && r.busy >= r.latency - 1e-15))
                diff++;
        }
        bad += diff > 0;
    }
    free(in);
    stdbp_hw_sim_destroy(&sim);
    stdbp_hw_map_destroy(&m);
    stdbp_qws_destroy(&ws);
    stdbp_qnet_destroy(&q);
    return bad;
}

static void random_nets(void)
{
    struct {
        stdbp_shape in;
        stdbp_layer_spec specs[6];
        size_t n;
        const char *name;
    } cases[2];
    cases[0].in = (stdbp_shape){30, 1, 1};
    cases[0].specs[0] = hwt_dense(25);
    cases[0].specs[1] = hwt_dense(12);
    cases[0].specs[2] = hwt_dense(6);
    cases[0].n = 3;
    cases[0].name = "dense 30-25-12-6";
    cases[1].in = (stdbp_shape){2, 8, 8};
    cases[1].specs[0] = hwt_conv(4, 3, 1, 1);
    cases[1].specs[1] = hwt_pool(2);
    cases[1].specs[2] = hwt_conv(3, 3, 1, 0);
    cases[1].specs[3] = hwt_flatten();
    cases[1].specs[4] = hwt_dense(5);
    cases[1].n = 5;
    cases[1].name = "conv-pool-conv-flatten-dense";
    for (int c = 0; c < 2; c++) {
        stdbp_net *net = hwt_net(cases[c].in, cases[c].specs, cases[c].n, 1.0, INFINITY);
        hwt_randomise(net, 11 + (uint64_t)c, 0.12, 0.4);
        for (int mode = 0; mode < 2; mode++) {
            for (int stop = 0; stop < 2; stop++) {
                stdbp_hw_profile p =
                    small_profile(mode ? STDBP_HW_EVENT : STDBP_HW_STEPPED, 5 + 3 * stop);
                size_t fired, decided;
                p.stop_at_decision = stop;
                size_t bad = compare(net, &p, 4 + 4 * stop, 16 + 16 * mode, 150,
                                     (uint64_t)(100 * c + 10 * mode + stop), &fired, &decided);
                is_int(0, (long long)bad,
                       "%s, %s, stop_at_decision %d: 150 images, hardware == software "
                       "(%zu spikes, %zu decided)",
                       cases[c].name, mode ? "event" : "stepped", stop, fired, decided);
                ok(decided > 15, "%s: enough decisions to mean something (%zu)", cases[c].name,
                   decided);
            }
        }
        stdbp_net_destroy(&net);
    }
}

/* 784-800-10 on synthetic images: equality and speed. */
static void mnist_size(void)
{
    stdbp_err err;
    stdbp_dataset ds;
    stdbp_layer_spec specs[2] = {hwt_dense(800), hwt_dense(10)};
    stdbp_net *net = hwt_net((stdbp_shape){1, 28, 28}, specs, 2, 1.0, INFINITY);
    stdbp_init_params init = stdbp_init_defaults();
    stdbp_encoding enc = stdbp_encoding_defaults();
    const char *names[2] = {"loihi_like", "default"};
    const char *top = getenv("top_srcdir");
    size_t n = 200;
    char path[4096];
    stdbp_net_init(net, &init, 1);
    hwt_dataset(&ds, n, (stdbp_shape){1, 28, 28}, 10, 0.19, 9);
    for (int k = 0; k < 2; k++) {
        stdbp_hw_profile p;
        stdbp_quant_params qp = stdbp_quant_defaults();
        stdbp_qnet *q = NULL;
        stdbp_qws *ws = NULL;
        stdbp_hw_map *m = NULL;
        stdbp_hw_sim *sim = NULL;
        snprintf(path, sizeof path, "%s/configs/hw/%s.yaml", top ? top : ".", names[k]);
        if (stdbp_hw_profile_load(path, &p, &err))
            bail("%s", err.msg);
        if (stdbp_qnet_create(net, &qp, &q, &err) || stdbp_qws_create(q, &ws, &err) ||
            stdbp_hw_map_create(q, &p, &m, &err) || stdbp_hw_sim_create(q, m, &p, &sim, &err))
            bail("%s", err.msg);
        double *times = malloc(ds.dim * sizeof *times);
        int64_t *steps = malloc(ds.dim * sizeof *steps);
        size_t bad = 0, hidden = 0;
        double t_sw = 0, t_hw = 0, lat = 0, energy = 0, busy = 0;
        for (size_t i = 0; i < n; i++) {
            stdbp_hw_result r;
            stdbp_encode(&enc, &ds, i, times);
            stdbp_qnet_quantise_input(q, times, steps);
            double t0 = now();
            stdbp_qnet_forward(q, ws, steps);
            double t1 = now();
            stdbp_hw_sim_run(sim, steps, &r);
            double t2 = now();
            t_sw += t1 - t0;
            t_hw += t2 - t1;
            lat += r.latency;
            energy += r.energy;
            busy += r.busy;
            for (size_t l = 0; l < 2; l++)
                bad += memcmp(stdbp_qws_layer_steps(ws, l), stdbp_hw_sim_layer_steps(sim, l),
                              stdbp_qnet_layer(q, l).n_out * sizeof(int64_t)) != 0;
            for (size_t j = 0; j < 800; j++)
                hidden += stdbp_qws_layer_steps(ws, 0)[j] != STDBP_QT_SILENT;
        }
        is_int(0, (long long)bad, "784-800-10 on %s: %zu synthetic images, hardware == software",
               names[k], n);
        ok(hidden > n * 20, "hidden neurons fire (%.1f per image)", (double)hidden / n);
        diag("%s: %d cores, %.0f images/s simulated (software model %.0f images/s); "
             "%.4g ms, %.4g uJ, %.4g mW per image (random weights, synthetic images)",
             names[k], stdbp_hw_map_cores_used(m), n / t_hw, n / t_sw, 1e3 * lat / n,
             1e6 * energy / n, busy > 0 ? 1e3 * energy / busy : 0.0);
        /* Speed is a benchmark figure (docs/PERFORMANCE.md), not a check:
         * this machine is shared. */
        free(times);
        free(steps);
        stdbp_hw_sim_destroy(&sim);
        stdbp_hw_map_destroy(&m);
        stdbp_qws_destroy(&ws);
        stdbp_qnet_destroy(&q);
    }
    hwt_dataset_free(&ds);
    stdbp_net_destroy(&net);
}

int main(void)
{
    plan(20);
    random_nets();
    mnist_size();
    return 0;
}
