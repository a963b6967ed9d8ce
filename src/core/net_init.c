/* Weight initialisation.
 *
 * STDBP_INIT_FIRE (default): for each spiking layer with fan-in N,
 *
 *     w ~ Normal(mu, sigma),  mu = theta / (N a),
 *                             sigma = gain * theta * sqrt(2 / N),
 *
 * a = active_fraction, the expected fraction of the layer's inputs that
 * fire. Why: with no leak, V(t) = S t - R after the last input, so a
 * neuron whose fired weights sum to S > 0 always fires; the question is
 * how many have S > 0, and how soon. About K = N a inputs fire; their sum
 * has mean K mu = theta and standard deviation sqrt(K) sigma =
 * gain * theta * sqrt(2 a), so P(S > 0) = Phi(1 / (gain sqrt(2 a))):
 * 94% at a = 0.2, gain 1, for any N and theta. With S close to theta the
 * neuron fires about theta / S = 1 time unit after the mean of its
 * inputs' times: layers fire in sequence, within a few units (the
 * default silent_time is 3). The mean is a push above zero, the spread is
 * He et al.'s, scaled by theta so that the rule does not depend on the
 * threshold's units (scaling theta and w together leaves every time the
 * same). If fewer inputs fire than a says, S shrinks and firing comes
 * later (at half of a, 87% still have S > 0).
 *
 * STDBP_INIT_KAIMING: w ~ Normal(0, gain * sqrt(2 / N)) (He et al.); with
 * zero mean about half the neurons never fire at first.
 *
 * Layer l draws from stdbp_rng_stream(seed, l, 0), in buffer order: the
 * same seed gives the same weights on every rank and every run. */
#include <math.h>

#include "core/net_impl.h"
#include "stdbp/rng.h"

stdbp_init_params stdbp_init_defaults(void)
{
    stdbp_init_params p = {STDBP_INIT_FIRE, 1.0, 0.2};
    return p;
}

void stdbp_net_init(stdbp_net *net, const stdbp_init_params *init, uint64_t seed)
{
    const stdbp_init_params p = init ? *init : stdbp_init_defaults();
    const double theta = net->neuron.theta;
    /* a outside (0, 1] would mean nothing or more than everything fires. */
    const double a = p.active_fraction > 1.0    ? 1.0
                     : p.active_fraction > 1e-3 ? p.active_fraction
                                                : 1e-3;
    for (size_t l = 0; l < net->n_layers; l++) {
        const stdbp_layer_info *L = &net->layers[l].info;
        if (!L->param_count)
            continue;
        const double n = (double)L->fan_in;
        double mu = 0.0, sigma = p.gain * sqrt(2.0 / n);
        if (p.kind == STDBP_INIT_FIRE) {
            mu = theta / (n * a);
            sigma *= theta;
        }
        stdbp_rng rng;
        stdbp_rng_stream(&rng, seed, (uint64_t)l, 0);
        double *w = net->params + L->param_offset;
        for (size_t k = 0; k < L->param_count; k++)
            w[k] = mu + sigma * stdbp_rng_normal(&rng);
    }
}
