/* Inference on MNIST from a checkpoint, on one process, without MPI.
 *
 *   infer_mnist CHECKPOINT.h5|RUN_DIR [DATA_DIR]
 *
 * Loads the network a checkpoint holds (the newest one of a run
 * directory), opens the test set its stored config names (under DATA_DIR,
 * default the config's data.dir), and runs every test image through the
 * exact event-driven forward: accuracy over data.test_samples images (all
 * when 0), as stdbp_eval computes it, and the spikes of each layer for
 * the first image. Build it against an installed stdbp:
 *
 *   mpicc -o infer_mnist infer_mnist.c $(pkg-config --cflags --libs stdbp)
 *
 * (mpicc because stdbp/ckpt.h includes <mpi.h>; nothing here calls MPI.)
 * docs/API.md walks through it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <stdbp/ckpt.h>
#include <stdbp/config.h>
#include <stdbp/data.h>
#include <stdbp/error.h>
#include <stdbp/loss.h>
#include <stdbp/net.h>

static void print_warning(stdbp_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == STDBP_LOG_WARNING)
        fprintf(stderr, "infer_mnist: warning: %s\n", msg);
}

int main(int argc, char **argv)
{
    stdbp_err err;
    stdbp_status st;
    stdbp_config cfg;
    stdbp_net *net = NULL;
    stdbp_ws *ws = NULL;
    stdbp_dataset test = {0};
    double *in = NULL;
    char used[4096];
    size_t n, correct = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CHECKPOINT.h5|RUN_DIR [DATA_DIR]\n", argv[0]);
        return 2;
    }
    stdbp_set_log_handler(print_warning, NULL);

    /* 1. The network: built from the stored config, weights verified. */
    st = stdbp_ckpt_load_net(argv[1], &net, &cfg, NULL, used, sizeof used, &err);
    /* 2. The test set the run was evaluated on. */
    if (st == STDBP_OK) {
        const char *name = cfg.data.test[0] ? cfg.data.test : cfg.data.train;
        st = stdbp_dataset_open(name, argc == 3 ? argv[2] : cfg.data.dir, "test", &test, &err);
    }
    if (st == STDBP_OK && stdbp_dataset_check_labels(&test, stdbp_net_output_size(net), &err))
        st = err.code;
    /* 3. One workspace per thread; one input buffer. */
    if (st == STDBP_OK)
        st = stdbp_ws_create(net, &ws, &err);
    if (st == STDBP_OK && !(in = malloc(test.dim * sizeof *in)))
        st = stdbp_err_set(&err, STDBP_ENOMEM, "out of memory");
    if (st != STDBP_OK) {
        fprintf(stderr, "infer_mnist: error: %s\n", err.msg);
        stdbp_net_destroy(&net);
        stdbp_dataset_free(&test);
        return 1;
    }

    /* 4. Encode, forward, classify: the earliest output spike wins. */
    n = test.n;
    if (cfg.data.n_test > 0 && (size_t)cfg.data.n_test < n)
        n = (size_t)cfg.data.n_test;
    for (size_t i = 0; i < n; i++) {
        stdbp_encode(&cfg.encoding, &test, i, in);
        const double *out = stdbp_net_forward(net, ws, in);
        if (stdbp_classify(out, stdbp_net_output_size(net)) == test.labels[i])
            correct++;
        if (i == 0) { /* every layer's spike times of the last forward */
            for (size_t l = 0; l < stdbp_net_num_layers(net); l++) {
                stdbp_layer_info info = stdbp_net_layer(net, l);
                size_t size = (size_t)info.out.c * info.out.h * info.out.w, fired = 0;
                const double *t = stdbp_ws_layer_times(ws, l);
                double first = INFINITY;
                char what[64];
                for (size_t k = 0; k < size; k++)
                    if (isfinite(t[k])) {
                        fired++;
                        first = t[k] < first ? t[k] : first;
                    }
                printf("image 0, layer %zu %s: %zu of %zu neurons fired, first at %.4f\n", l,
                       stdbp_layer_describe(&info, what, sizeof what), fired, size, first);
            }
        }
    }
    printf("%s: test accuracy %.2f%% (%zu samples of %s)\n", used,
           n ? 100.0 * (double)correct / (double)n : 0.0, n, test.source);

    free(in);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&test);
    return 0;
}
