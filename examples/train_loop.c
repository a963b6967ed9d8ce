/* A minimal training loop on one process, without MPI: the core, data,
 * config and loss/optimiser modules need none (only the trainer, the
 * evaluation over ranks and the checkpoint writer are collective).
 *
 *   train_loop CONFIG.yaml [key.path=value]...
 *
 * Trains the network of CONFIG on the first data.train_samples training
 * images (all when 0) for train.epochs epochs with the configured loss,
 * optimiser, schedule and weight-sum penalty (no augmentation, no
 * validation split, no checkpoints: see stdbp_train for those), then
 * prints the test accuracy. Build it against an installed stdbp:
 *
 *   mpicc -o train_loop train_loop.c $(pkg-config --cflags --libs stdbp)
 *
 * docs/API.md walks through it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <stdbp/config.h>
#include <stdbp/data.h>
#include <stdbp/error.h>
#include <stdbp/loss.h>
#include <stdbp/net.h>
#include <stdbp/optim.h>

/* Fraction of the first n samples of ds that net classifies right. */
static double accuracy(const stdbp_net *net, stdbp_ws *ws, const stdbp_dataset *ds, size_t n,
                       const stdbp_encoding *enc, double *in)
{
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        stdbp_encode(enc, ds, i, in);
        const double *out = stdbp_net_forward(net, ws, in);
        correct += stdbp_classify(out, stdbp_net_output_size(net)) == ds->labels[i];
    }
    return n ? (double)correct / (double)n : 0;
}

int main(int argc, char **argv)
{
    stdbp_err err;
    stdbp_status st;
    stdbp_config cfg;
    stdbp_dataset train = {0}, test = {0};
    stdbp_net *net = NULL;
    stdbp_ws *ws = NULL;
    stdbp_optim *opt = NULL;
    double *in = NULL, *dl_dt = NULL, *grad = NULL;
    int64_t *acc = NULL;
    size_t *order = NULL, n_train = 0, n_test = 0, np = 0, n_out = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG.yaml [key.path=value]...\n", argv[0]);
        return 2;
    }
    /* The configuration: file, overrides, then the cross-field checks. */
    st = stdbp_config_load(argv[1], &cfg, &err);
    for (int a = 2; st == STDBP_OK && a < argc; a++)
        st = stdbp_config_set(&cfg, argv[a], &err);
    if (st == STDBP_OK)
        st = stdbp_config_validate(&cfg, &err);
    /* Data, network (initialised from run.seed), optimiser, buffers. */
    if (st == STDBP_OK)
        st = stdbp_dataset_open(cfg.data.train, cfg.data.dir, "train", &train, &err);
    if (st == STDBP_OK)
        st = stdbp_dataset_open(cfg.data.test, cfg.data.dir, "test", &test, &err);
    if (st == STDBP_OK)
        st = stdbp_net_create(train.shape, cfg.network.layers, cfg.network.n_layers,
                              &cfg.network.neuron, &net, &err);
    if (st == STDBP_OK) {
        stdbp_net_init(net, &cfg.network.init, cfg.run.seed);
        np = stdbp_net_num_params(net);
        n_out = stdbp_net_output_size(net);
        st = stdbp_optim_create(&cfg.optim, np, &opt, &err);
    }
    if (st == STDBP_OK)
        st = stdbp_ws_create(net, &ws, &err);
    if (st == STDBP_OK) {
        n_train = cfg.data.n_train > 0 && (size_t)cfg.data.n_train < train.n
                      ? (size_t)cfg.data.n_train
                      : train.n;
        n_test = cfg.data.n_test > 0 && (size_t)cfg.data.n_test < test.n ? (size_t)cfg.data.n_test
                                                                         : test.n;
        in = malloc(train.dim * sizeof *in);
        dl_dt = malloc(n_out * sizeof *dl_dt);
        grad = malloc(np * sizeof *grad);
        acc = calloc(np, sizeof *acc); /* the batch's gradient, fixed point */
        order = malloc(n_train * sizeof *order);
        if (!in || !dl_dt || !grad || !acc || !order)
            st = stdbp_err_set(&err, STDBP_ENOMEM, "out of memory");
    }

    size_t batch = (size_t)cfg.train.batch, n_batches = stdbp_num_batches(n_train, batch);
    for (long epoch = 0; st == STDBP_OK && epoch < cfg.train.epochs; epoch++) {
        double loss_sum = 0;
        stdbp_epoch_order(NULL, n_train, cfg.run.seed, (uint64_t)epoch, order);
        for (size_t b = 0; st == STDBP_OK && b < n_batches; b++) {
            size_t lo = b * batch, hi = lo + batch < n_train ? lo + batch : n_train;
            for (size_t k = lo; st == STDBP_OK && k < hi; k++) {
                size_t i = order[k];
                stdbp_encode(&cfg.encoding, &train, i, in);
                const double *out = stdbp_net_forward(net, ws, in);
                loss_sum += stdbp_loss_softmax_ce(&cfg.loss, out, n_out, train.labels[i], dl_dt);
                st = stdbp_net_backward(net, ws, dl_dt, acc, NULL, &err);
            }
            if (st != STDBP_OK)
                break;
            /* Mean gradient (acc is zeroed for the next batch), the
             * weight-sum penalty, clipping, then one optimiser step at the
             * scheduled learning rate. */
            stdbp_grad_fixed_mean(acc, grad, np, hi - lo);
            stdbp_penalty_weight_sum(net, stdbp_net_params(net), grad, cfg.train.ws_lambda,
                                     cfg.train.ws_margin);
            stdbp_grad_clip_norm(grad, np, cfg.train.clip_norm);
            double lr = stdbp_schedule_lr(&cfg.schedule, cfg.optim.lr,
                                          (double)epoch + (double)b / (double)n_batches);
            stdbp_optim_step(opt, stdbp_net_params(net), grad, lr);
        }
        if (st == STDBP_OK)
            printf("epoch %ld: train loss %.4f, test accuracy %.2f%%\n", epoch + 1,
                   loss_sum / (double)(n_train ? n_train : 1),
                   100 * accuracy(net, ws, &test, n_test, &cfg.encoding, in));
    }
    if (st != STDBP_OK)
        fprintf(stderr, "train_loop: error: %s\n", err.msg);

    free(in);
    free(dl_dt);
    free(grad);
    free(acc);
    free(order);
    stdbp_optim_destroy(&opt);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&train);
    stdbp_dataset_free(&test);
    return st == STDBP_OK ? 0 : 1;
}
