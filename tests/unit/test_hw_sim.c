/* The accelerator simulator and the mapper on cases small enough to work
 * out by hand: every operation count, hop, latency and energy below is
 * derived in the comments from the model of docs/HARDWARE.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_hw_util.h"

#define NS 1e-9
#define PJ 1e-12

/* Distinct, easy numbers for every operation, so that each one's share
 * shows in the totals:
 *   time:   synapse 2 ns + memory read 1 ns (= 3 ns per synaptic update),
 *           neuron 3 ns, fire 4 ns, send 5 ns, receive 6 ns,
 *           hop x 10 ns, hop y 20 ns, barrier 100 ns;
 *   energy: synapse 1 pJ, read 0.5 pJ, neuron 2 pJ, fire 3 pJ, send 4 pJ,
 *           receive 5 pJ, hop x 6 pJ, hop y 7 pJ; static 1 mW per core. */
static stdbp_hw_profile hand_profile(stdbp_hw_mode mode, int npc, int width)
{
    stdbp_hw_profile p;
    stdbp_hw_profile_defaults(&p);
    snprintf(p.name, sizeof p.name, "hand");
    p.mode = mode;
    p.cores = width;
    p.neurons_per_core = npc;
    p.synapses_per_core = 1000;
    p.mesh_width = width;
    p.mesh_height = 1;
    p.synapse = (stdbp_hw_op){1 * PJ, 2 * NS};
    p.memory_read = (stdbp_hw_op){0.5 * PJ, 1 * NS};
    p.neuron = (stdbp_hw_op){2 * PJ, 3 * NS};
    p.fire = (stdbp_hw_op){3 * PJ, 4 * NS};
    p.send = (stdbp_hw_op){4 * PJ, 5 * NS};
    p.receive = (stdbp_hw_op){5 * PJ, 6 * NS};
    p.hop_x = (stdbp_hw_op){6 * PJ, 10 * NS};
    p.hop_y = (stdbp_hw_op){7 * PJ, 20 * NS};
    p.barrier = 100 * NS;
    p.static_power = 1e-3;
    return p;
}

/* 2 inputs -> dense(2), 4-bit weights W_q[in][out] = [[7, 5], [3, 2]],
 * theta_q = 20, T = 10 (see test_hw_quant: n0 fires at 3, n1 at 4 for
 * inputs at steps 0 and 1). */
static stdbp_net *two_neuron_net(void)
{
    stdbp_layer_spec s = hwt_dense(2);
    stdbp_net *net = hwt_net((stdbp_shape){2, 1, 1}, &s, 1, 20.0 / 70.0, INFINITY);
    double *w = stdbp_net_params(net);
    w[0] = 7.0 / 7;
    w[1] = 5.0 / 7;
    w[2] = 3.0 / 7;
    w[3] = 2.0 / 7;
    return net;
}

typedef struct setup {
    stdbp_qnet *q;
    stdbp_hw_map *m;
    stdbp_hw_sim *sim;
} setup;

static setup build(const stdbp_net *net, const stdbp_hw_profile *p, int bits, int64_t T)
{
    setup s = {NULL, NULL, NULL};
    stdbp_err err;
    stdbp_quant_params qp = stdbp_quant_defaults();
    qp.bits = bits;
    qp.time_steps = T;
    if (stdbp_qnet_create(net, &qp, &s.q, &err) || stdbp_hw_map_create(s.q, p, &s.m, &err) ||
        stdbp_hw_sim_create(s.q, s.m, p, &s.sim, &err))
        bail("%s", err.msg);
    return s;
}

static void teardown(setup *s)
{
    stdbp_hw_sim_destroy(&s->sim);
    stdbp_hw_map_destroy(&s->m);
    stdbp_qnet_destroy(&s->q);
}

static void two_neurons_one_core(void)
{
    stdbp_net *net = two_neuron_net();
    stdbp_hw_profile p = hand_profile(STDBP_HW_STEPPED, 2, 1);
    setup s = build(net, &p, 4, 10);
    stdbp_hw_result r;
    int64_t in[2] = {0, 1};
    is_int(1, stdbp_hw_map_cores_used(s.m), "one core: both neurons on core 0");
    stdbp_hw_sim_run(s.sim, in, &r);
    const int64_t *out = stdbp_hw_sim_layer_steps(s.sim, 0);
    ok(out[0] == 3 && out[1] == 4, "one core: spikes at 3 and 4, as the software model");
    /* Stepped, port and core 0 both at tile (0,0): no hops.
     * step 0 (B=0):   port sends input 0: 0+5 = 5, arrives 5.
     *                 core 0: receive 5+6 = 11, 2 synapses x 3 = 17.
     *                 E = 17; next B = 17 + 100 = 117.
     * step 1 (B=117): core 0 updates n0, n1: 117+3+3 = 123 (V = 7, 5).
     *                 port: 117+5 = 122 -> arrives 122, waits until 123
     *                 (queueing 1 ns); receive 129; 2 synapses: 135.
     *                 E = 135; B = 235.
     * step 2 (B=235): 2 updates: 241 (V = 17, 12). B = 341.
     * step 3 (B=341): n0: 344, V = 27 >= 20: fires, +4 = 348 (output:
     *                 no packet); n1: 351, V = 19. E = 351: decision. */
    is_int(0, r.decision, "decision: neuron 0");
    is_int(3, r.decision_step, "decision step 3");
    is_double(351 * NS, r.latency, 1e-15, "latency 351 ns");
    is_double(351 * NS, r.busy, 1e-15, "the image ends at the decision");
    is_int(4, r.steps, "steps 0..3 processed");
    ok(r.counts.synapse == 4 && r.counts.mem_read == 4, "4 synaptic updates and weight reads");
    is_int(6, (long long)r.counts.neuron, "6 neuron updates (2 in each of steps 1-3)");
    is_int(1, (long long)r.counts.fire, "1 spike before the decision");
    ok(r.counts.send == 2 && r.counts.receive == 2 && r.counts.hops == 0,
       "2 packets from the port, 2 received, 0 hops");
    is_int(2, (long long)r.counts.input_spikes, "2 input spikes");
    /* dynamic: 4 x 1 + 4 x 0.5 + 6 x 2 + 1 x 3 + 2 x 4 + 2 x 5 = 39 pJ;
     * static: 1 mW x 1 core x 351 ns = 351 pJ */
    is_double(39 * PJ, r.energy_dynamic, 1e-20, "dynamic energy 39 pJ");
    is_double(351 * PJ, r.energy_static, 1e-20, "static energy 351 pJ");
    is_double(390 * PJ, r.energy, 1e-20, "energy 390 pJ");
    stdbp_hw_core_stats cs = stdbp_hw_sim_core_stats(s.sim, 0);
    is_double(1 * NS, cs.queue_wait, 1e-15, "core 0 queued a packet for 1 ns");
    /* busy: 4 x 3 + 6 x 3 + 4 + 2 x 6 = 46 ns */
    is_double(46 * NS, cs.busy, 1e-15, "core 0 busy 46 ns");
    teardown(&s);

    /* The same without stopping at the decision: the run goes on to the
     * window (2 x T = 20). step 3 ends at 351; step 4 (B=451): n1 update
     * 454, V = 26: fires 458; steps 5..20 are empty: 100 ns each, from
     * B5 = 558 to B20 = 2058 = E20. Neuron updates 6 + 1 = 7, spikes 2:
     * dynamic 39 + 2 + 3 = 44 pJ; static 1 mW x 2058 ns. */
    p.stop_at_decision = 0;
    s = build(net, &p, 4, 10);
    stdbp_hw_sim_run(s.sim, in, &r);
    is_double(351 * NS, r.latency, 1e-15, "latency still 351 ns");
    is_double(2058 * NS, r.busy, 1e-15, "busy until the window: 2058 ns");
    is_int(21, r.steps, "steps 0..20");
    ok(r.counts.neuron == 7 && r.counts.fire == 2, "7 neuron updates, 2 spikes");
    is_double((44 + 2058) * PJ, r.energy, 1e-20, "energy 44 + 2058 pJ");
    teardown(&s);
    stdbp_net_destroy(&net);
}

static void two_neurons_two_cores(void)
{
    stdbp_net *net = two_neuron_net();
    stdbp_hw_profile p = hand_profile(STDBP_HW_STEPPED, 1, 2);
    setup s = build(net, &p, 4, 10);
    stdbp_hw_result r;
    int64_t in[2] = {0, 1};
    is_int(2, stdbp_hw_map_cores_used(s.m), "two cores: one neuron each");
    stdbp_hw_core_info c1 = stdbp_hw_map_core(s.m, 1);
    ok(c1.x == 1 && c1.y == 0 && c1.first == 1 && c1.count == 1, "core 1 at (1,0) holds n1");
    stdbp_hw_sim_run(s.sim, in, &r);
    const int64_t *out = stdbp_hw_sim_layer_steps(s.sim, 0);
    ok(out[0] == 3 && out[1] == 4, "two cores: the same spikes");
    /* Each input goes to both cores: to core 0 (0 hops) and to core 1 (1
     * x-hop, 10 ns).
     * step 0 (B=0):   port: send to core 0 at 5 (arrives 5), to core 1 at
     *                 10 (arrives 20). core 0: 5+6+3 = 14; core 1:
     *                 20+6+3 = 29. E = 29; B = 129.
     * step 1 (B=129): both cores update: 132. port: 134 -> core 0 arrives
     *                 134: 134+6+3 = 143; 139 -> core 1 arrives 149:
     *                 149+6+3 = 158. E = 158; B = 258.
     * step 2 (B=258): updates: 261. B = 361.
     * step 3 (B=361): core 0: n0 364, fires 368; core 1: n1 364. E =
     *                 368: decision. */
    is_double(368 * NS, r.latency, 1e-15, "latency 368 ns");
    ok(r.counts.send == 4 && r.counts.receive == 4, "4 packets: each input to both cores");
    is_int(2, (long long)r.counts.hops, "2 hops (one per packet to core 1)");
    ok(r.counts.synapse == 4 && r.counts.neuron == 6 && r.counts.fire == 1,
       "4 synaptic updates, 6 neuron updates, 1 spike");
    /* dynamic: 4 + 2 + 12 + 3 + 4 x 4 + 4 x 5 + 2 x 6 = 69 pJ; static:
     * 1 mW x 2 cores x 368 ns = 736 pJ */
    is_double(69 * PJ, r.energy_dynamic, 1e-20, "dynamic energy 69 pJ");
    is_double(805 * PJ, r.energy, 1e-20, "energy 69 + 736 pJ");
    stdbp_hw_core_stats port = stdbp_hw_sim_port_stats(s.sim);
    ok(port.counts.send == 4 && port.counts.hops == 2, "the port sent 4 packets over 2 hops");
    /* port energy: 4 sends x 4 pJ + 2 hops x 6 pJ */
    is_double(28 * PJ, port.energy, 1e-20, "port energy 28 pJ");
    teardown(&s);
    stdbp_net_destroy(&net);
}

/* input -> h -> o: one neuron per layer, so a packet crosses the mesh
 * from h's core (0,0) to o's core (1,0). theta = 1, T = 10 (dt 0.1),
 * 4 bits: w_h = 0.5 -> w_q 7, scale 0.5/7, theta_q = 1 / (0.5/7 x 0.1) =
 * 140; w_o = 2 -> w_q 7, theta_q = 35. h fires at ceil(140/7) = 20 (t =
 * 2.0 = 1 / 0.5), o at 20 + ceil(35/7) = 25 (t = 2.5). */
static void chain(void)
{
    stdbp_layer_spec specs[2] = {hwt_dense(1), hwt_dense(1)};
    stdbp_net *net = hwt_net((stdbp_shape){1, 1, 1}, specs, 2, 1.0, INFINITY);
    stdbp_net_params(net)[0] = 0.5;
    stdbp_net_params(net)[1] = 2.0;
    int64_t in[1] = {0};
    stdbp_hw_result r;

    /* event mode with a minimum step period of 1000 ns
     * step 0 (B=0):      port 5 -> core 0: 5+6+3 = 14; h's update: 17,
     *                    candidate 20. E = 17. next step 20:
     *                    B = max(0 + 20 x 1000, 17 + 100) = 20000.
     * step 20 (B=20000): h fires: 20004; send: 20009, 1 hop: arrives
     *                    20019 at core 1: 20025 + 3 = 20028; o's update:
     *                    20031, candidate ceil((35 + 7 x 20) / 7) = 25.
     *                    B = max(20000 + 5 x 1000, 20131) = 25000.
     * step 25 (B=25000): o fires: 25004 = decision. */
    stdbp_hw_profile p = hand_profile(STDBP_HW_EVENT, 1, 2);
    p.time_step = 1000 * NS;
    setup s = build(net, &p, 4, 10);
    stdbp_hw_sim_run(s.sim, in, &r);
    ok(stdbp_hw_sim_layer_steps(s.sim, 0)[0] == 20 && stdbp_hw_sim_layer_steps(s.sim, 1)[0] == 25,
       "event chain: h at 20, o at 25");
    is_int(3, r.steps, "event mode processes only steps 0, 20 and 25");
    is_double(25004 * NS, r.latency, 1e-15, "event chain latency 25004 ns");
    ok(r.counts.synapse == 2 && r.counts.neuron == 2 && r.counts.fire == 2 && r.counts.send == 2 &&
           r.counts.receive == 2 && r.counts.hops == 1,
       "2 synaptic, 2 neuron updates, 2 spikes, 2 packets, 1 hop");
    /* 2 x 1 + 2 x 0.5 + 2 x 2 + 2 x 3 + 2 x 4 + 2 x 5 + 6 = 37 pJ;
     * static 1 mW x 2 cores x 25004 ns = 50008 pJ */
    is_double(37 * PJ, r.energy_dynamic, 1e-20, "event chain dynamic energy 37 pJ");
    is_double(50045 * PJ, r.energy, 1e-19, "event chain energy 37 + 50008 pJ");
    teardown(&s);

    /* stepped, no minimum period: every step costs its work + 100 ns.
     * step 0: 14, B1 = 114; steps 1..19: h's update (3 ns) + barrier:
     * 103 ns each: B20 = 114 + 19 x 103 = 2071; step 20: h 2074, fires
     * 2078, sends 2083, arrives 2093 at core 1: 2099 + 3 = 2102; B21 =
     * 2202; steps 21..24: o's update: 103 each: B25 = 2614; step 25: o
     * 2617 (V = 5 x 7 = 35 >= 35), fires 2621 = decision. Neuron updates:
     * h 20 (steps 1..20), o 5 (21..25). */
    p = hand_profile(STDBP_HW_STEPPED, 1, 2);
    s = build(net, &p, 4, 10);
    stdbp_hw_sim_run(s.sim, in, &r);
    ok(stdbp_hw_sim_layer_steps(s.sim, 1)[0] == 25, "stepped chain: o at 25");
    is_double(2621 * NS, r.latency, 1e-15, "stepped chain latency 2621 ns");
    is_int(25, (long long)r.counts.neuron, "25 neuron updates");
    /* 2 + 1 + 25 x 2 + 6 + 8 + 10 + 6 = 83 pJ */
    is_double(83 * PJ, r.energy_dynamic, 1e-20, "stepped chain dynamic energy 83 pJ");
    teardown(&s);
    stdbp_net_destroy(&net);
}

/* Mapping: balance, snake order, and models that do not fit. */
static void mapping(void)
{
    stdbp_err err;
    stdbp_layer_spec specs[2] = {hwt_dense(10), hwt_dense(3)};
    stdbp_net *net = hwt_net((stdbp_shape){6, 1, 1}, specs, 2, 1.0, INFINITY);
    stdbp_quant_params qp = stdbp_quant_defaults();
    stdbp_qnet *q = NULL;
    stdbp_hw_map *m = NULL;
    stdbp_hw_profile p = hand_profile(STDBP_HW_STEPPED, 4, 3);
    hwt_randomise(net, 5, 0.1, 0.3);
    p.mesh_height = 2;
    p.cores = 6;
    if (stdbp_qnet_create(net, &qp, &q, &err))
        bail("%s", err.msg);
    if (stdbp_hw_map_create(q, &p, &m, &err))
        bail("%s", err.msg);
    /* 10 neurons at 4 per core: 3 cores, balanced 4 + 3 + 3; the 3 output
     * neurons on core 3, which the snake puts at (2,1) under core 2 */
    is_int(4, stdbp_hw_map_cores_used(m), "3 + 1 cores");
    ok(stdbp_hw_map_core(m, 0).count == 4 && stdbp_hw_map_core(m, 1).count == 3 &&
           stdbp_hw_map_core(m, 2).count == 3,
       "balanced: 4 + 3 + 3 neurons");
    stdbp_hw_core_info c3 = stdbp_hw_map_core(m, 3);
    ok(c3.layer == 1 && c3.x == 2 && c3.y == 1, "core 3 (layer 1) at (2,1): snake order");
    ok(stdbp_hw_map_core(m, 1).synapses == 18 && stdbp_hw_map_core(m, 1).axons == 6,
       "core 1: 3 neurons x 6 synapses, 6 axons");
    ok(stdbp_hw_map_core_of(m, 0, 3) == 0 && stdbp_hw_map_core_of(m, 0, 4) == 1 &&
           stdbp_hw_map_core_of(m, 0, 7) == 2,
       "neurons 0-3 on core 0, 4-6 on core 1, 7-9 on core 2");
    stdbp_hw_map_destroy(&m);

    /* too many cores: 10 neurons at 1 per core + 3 = 13 > 6 */
    p.neurons_per_core = 1;
    is_int(STDBP_EFIT, stdbp_hw_map_create(q, &p, &m, &err), "too large: STDBP_EFIT");
    contains(err.msg, "needs 13 cores, profile hand has 6: 7 short", "the shortfall is given");
    /* synapse memory: 8-bit weights, 20 bytes = 20 synapses per core:
     * three 6-synapse neurons of layer 0 (4 cores, spread 3+3+2+2), two
     * 10-synapse neurons of layer 1 (2 cores): 6 cores */
    p.neurons_per_core = 4;
    p.synapses_per_core = 0;
    p.synapse_bytes = 20;
    if (stdbp_hw_map_create(q, &p, &m, &err))
        bail("%s", err.msg);
    is_int(6, stdbp_hw_map_cores_used(m), "byte capacity: 20 bytes hold 3 + 2 neurons");
    ok(stdbp_hw_map_core(m, 2).count == 2 && stdbp_hw_map_core(m, 2).synapses == 12 &&
           stdbp_hw_map_core(m, 5).count == 1,
       "spread 3+3+2+2 and 2+1");
    stdbp_hw_map_destroy(&m);
    p.synapse_bytes = 5;
    is_int(STDBP_EFIT, stdbp_hw_map_create(q, &p, &m, &err), "a neuron larger than a core");
    contains(err.msg, "a neuron has 6 synapses", "names the neuron's synapses");
    contains(err.msg, "holds 5 synapses (5 bytes / (8-bit weight", "and the core's capacity");
    p.synapse_bytes = 1000;
    p.max_weight_bits = 4;
    is_int(STDBP_EFIT, stdbp_hw_map_create(q, &p, &m, &err), "8-bit weights on a 4-bit profile");
    contains(err.msg, "at most 4 bits", "says which width it holds");
    p.max_weight_bits = 0;
    p.axons_per_core = 5;
    is_int(STDBP_EFIT, stdbp_hw_map_create(q, &p, &m, &err), "6 inputs, 5 axons per core");
    contains(err.msg, "at most 5 axons", "names the axon limit");
    stdbp_qnet_destroy(&q);
    stdbp_net_destroy(&net);

    /* snake order on a 3 x 2 mesh of 2-core tiles */
    int x, y;
    p = hand_profile(STDBP_HW_STEPPED, 1, 3);
    p.mesh_height = 2;
    p.cores_per_tile = 2;
    stdbp_hw_core_xy(&p, 5, &x, &y);
    ok(x == 2 && y == 0, "core 5: tile 2 at (2,0)");
    stdbp_hw_core_xy(&p, 6, &x, &y);
    ok(x == 2 && y == 1, "core 6: tile 3 at (2,1)");
    stdbp_hw_core_xy(&p, 11, &x, &y);
    ok(x == 0 && y == 1, "core 11: tile 5 at (0,1)");
}

int main(void)
{
    plan(62);
    two_neurons_one_core();
    two_neurons_two_cores();
    chain();
    mapping();
    return 0;
}
