/* bench_core: forward and forward+backward throughput of the core on one
 * thread, for the MLP 784-800-10 and the CNN
 * 28x28-16C5p2-P2-32C5-P2-800-128-10, on MNIST images when they are found
 * under $STDBP_DATA/mnist, otherwise on synthetic MNIST-like images.
 * Not an MPI program. See docs/PERFORMANCE.md. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "stdbp/loss.h"
#include "stdbp/net.h"
#include "stdbp/optim.h"
#include "stdbp/rng.h"

#define SIDE 28
#define PIX (SIDE * SIDE)

static const char usage[] =
    "usage: bench_core [--model mlp|cnn|wide|all] [--samples N] [--images N] [--seed S]\n"
    "                  [--batch B] [--isa best|avx512|avx2|generic] [--layers]\n"
    "\n"
    "Measures, on one thread, forward and forward+backward samples per second\n"
    "(backward = exact STDBP with fixed-point gradient accumulation; the loss is\n"
    "softmax cross-entropy), the whole training step (forward+backward of a\n"
    "batch of B samples, default 128, then the mean gradient, the weight-sum\n"
    "penalty and the Adam update, as one rank of stdbp_train does it) and\n"
    "synaptic events per sample.\n"
    "Networks, initialised with STDBP_INIT_FIRE (seed S):\n"
    "  mlp  784-800-10\n"
    "  cnn  28x28-16C5(pad 2)-P2-32C5-P2-800-128-10\n"
    "  wide 28x28-32C5(pad 2)-P2-64C5-P2-1600-256-10 (the wide Fashion-MNIST\n"
    "       network; only when named: all is mlp and cnn)\n"
    "Inputs: the first --images images (default 1000) of\n"
    "$STDBP_DATA/mnist/train-images-idx3-ubyte[.gz] when it exists, otherwise\n"
    "synthetic MNIST-like images (random strokes, ~19% of pixels lit); the\n"
    "output says which. Latency code t = 1 - x, x = 0 silent.\n"
    "  --samples N  samples per measurement (default 2000 mlp, 200 cnn, 100 wide)\n"
    "  --layers     also time each layer's forward and backward (thread CPU time\n"
    "               per sample, over one more forward+backward pass)\n"
    "  --isa NAME   the kernels' build (default best: what the CPU runs fastest);\n"
    "               every build gives the same digest\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* robust to a shared machine */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Minimal IDX reader (gzopen reads plain files too). Returns images read. */
static size_t load_mnist(const char *path, unsigned char *px, size_t want)
{
    unsigned char h[16];
    gzFile f = gzopen(path, "rb");
    size_t n = 0;
    if (!f)
        return 0;
    if (gzread(f, h, 16) == 16 && be32(h) == 0x803 && be32(h + 8) == SIDE && be32(h + 12) == SIDE) {
        n = be32(h + 4) < want ? be32(h + 4) : want;
        if (gzread(f, px, (unsigned)(n * PIX)) != (int)(n * PIX))
            n = 0;
    }
    gzclose(f);
    return n;
}

/* Random thick strokes, like handwriting in coverage and intensity. */
static void synth(stdbp_rng *r, unsigned char *px)
{
    memset(px, 0, PIX);
    const int strokes = 3 + (int)stdbp_rng_below(r, 3);
    for (int s = 0; s < strokes; s++) {
        double x = 6 + 16 * stdbp_rng_uniform(r), y = 4 + 20 * stdbp_rng_uniform(r);
        const double a = 6.2832 * stdbp_rng_uniform(r), len = 6 + 8 * stdbp_rng_uniform(r);
        for (double u = 0; u < len; u += 0.5) {
            const double cx = x + u * cos(a), cy = y + u * sin(a);
            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++) {
                    const int ix = (int)cx + dx, iy = (int)cy + dy;
                    if (ix < 0 || ix >= SIDE || iy < 0 || iy >= SIDE)
                        continue;
                    const double d = hypot(ix - cx, iy - cy);
                    const int v = d < 1.0 ? 255 : d < 1.8 ? (int)(255 * (1.8 - d) / 0.8) : 0;
                    if (v > px[iy * SIDE + ix])
                        px[iy * SIDE + ix] = (unsigned char)v;
                }
        }
    }
}

typedef struct result {
    double fwd_rate, train_rate, step_rate, update_share, events, hidden_fired;
} result;

/* FNV-1a over the accumulated gradient: equal on every machine and build
 * (SSE2 or AVX2 kernels, any compiler flags without -ffast-math). */
static uint64_t digest(const int64_t *a, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 64; b += 8) {
            h ^= (uint64_t)((uint64_t)a[i] >> b) & 0xff;
            h *= 0x100000001b3u;
        }
    return h;
}

/* The same over the weights' bits (after the training steps). */
static uint64_t digest_f64(const double *w, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        uint64_t b;
        memcpy(&b, &w[i], sizeof b);
        for (int k = 0; k < 64; k += 8) {
            h ^= (b >> k) & 0xff;
            h *= 0x100000001b3u;
        }
    }
    return h;
}

/* Forward, softmax cross-entropy and backward of samples [first, first +
 * n) (image k % n_img, label k % 10), the gradient summed into acc. */
static void train_samples(const char *name, const stdbp_net *net, stdbp_ws *ws, const double *times,
                          size_t n_img, size_t first, size_t n, int64_t *acc)
{
    const size_t n_out = stdbp_net_output_size(net);
    const stdbp_loss_params lp = stdbp_loss_defaults();
    double dl[16];
    stdbp_err err;
    for (size_t k = first; k < first + n; k++) {
        const double *out = stdbp_net_forward(net, ws, times + (k % n_img) * PIX);
        stdbp_loss_softmax_ce(&lp, out, n_out, (int)(k % 10), dl);
        if (stdbp_net_backward(net, ws, dl, acc, NULL, &err) != STDBP_OK) {
            fprintf(stderr, "bench_core: %s: %s\n", name, err.msg);
            break;
        }
    }
}

static void print_layers(const char *name, const stdbp_net *net, const double *sec,
                         size_t n_samples)
{
    const size_t nl = stdbp_net_num_layers(net);
    double total = 0;
    char desc[96];
    for (size_t i = 0; i < 2 * nl; i++)
        total += sec[i];
    printf("  layers of %s: us per sample (thread CPU time, one more forward+backward pass\n"
           "  of %zu samples)\n",
           name, n_samples);
    printf("  %-28s %10s %10s %8s\n", "layer", "forward", "backward", "share");
    for (size_t i = 0; i < nl; i++) {
        const stdbp_layer_info L = stdbp_net_layer(net, i);
        printf("  %-28s %10.1f %10.1f %7.1f%%\n", stdbp_layer_describe(&L, desc, sizeof desc),
               1e6 * sec[2 * i] / (double)n_samples, 1e6 * sec[2 * i + 1] / (double)n_samples,
               100 * (sec[2 * i] + sec[2 * i + 1]) / total);
    }
    printf("  %-28s %21.1f\n", "total", 1e6 * total / (double)n_samples);
}

static int run(const char *name, const stdbp_layer_spec *specs, size_t n_layers,
               const double *times, size_t n_img, size_t n_samples, size_t batch, uint64_t seed,
               int layers, result *res)
{
    stdbp_net *net = NULL;
    stdbp_ws *ws = NULL;
    stdbp_err err;
    if (stdbp_net_create((stdbp_shape){1, SIDE, SIDE}, specs, n_layers, NULL, &net, &err) ||
        stdbp_ws_create(net, &ws, &err)) {
        fprintf(stderr, "bench_core: %s: %s\n", name, err.msg);
        stdbp_net_destroy(&net);
        return 1;
    }
    const stdbp_init_params ip = stdbp_init_defaults();
    stdbp_net_init(net, &ip, seed);
    const size_t n_p = stdbp_net_num_params(net);
    int64_t *acc = calloc(n_p, sizeof *acc);
    double *sec = calloc(2 * n_layers, sizeof *sec); /* --layers */
    double ev = 0, fired = 0, t0, t1;
    size_t hidden = 0;
    if (!acc || !sec) {
        fprintf(stderr, "bench_core: out of memory\n");
        free(acc);
        free(sec);
        stdbp_ws_destroy(&ws);
        stdbp_net_destroy(&net);
        return 1;
    }
    for (size_t k = 0; k < 20; k++) /* warm caches */
        stdbp_net_forward(net, ws, times + (k % n_img) * PIX);

    t0 = now();
    for (size_t k = 0; k < n_samples; k++) {
        stdbp_net_forward(net, ws, times + (k % n_img) * PIX);
        ev += (double)stdbp_ws_synaptic_events(ws);
        /* activity of the first hidden spiking layer after the input's */
        const size_t l = n_layers - 2;
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        const double *h = stdbp_ws_layer_times(ws, l);
        hidden = (size_t)L.out.c * L.out.h * L.out.w;
        for (size_t j = 0; j < hidden; j++)
            fired += h[j] < INFINITY;
    }
    t1 = now();
    res->fwd_rate = (double)n_samples / (t1 - t0);
    res->events = ev / (double)n_samples;
    res->hidden_fired = fired / ((double)n_samples * (double)hidden);

    t0 = now();
    train_samples(name, net, ws, times, n_img, 0, n_samples, acc);
    t1 = now();
    res->train_rate = (double)n_samples / (t1 - t0);
    const uint64_t dig = digest(acc, n_p);
    if (layers) { /* one more pass, timed per layer, before the steps change the weights */
        stdbp_ws_profile(ws, sec);
        train_samples(name, net, ws, times, n_img, 0, n_samples, acc);
        stdbp_ws_profile(ws, NULL);
    }

    /* The whole step: batches of `batch` samples, each followed by the
     * update of stdbp_train on one rank (configs/mnist_mlp.yaml's Adam at
     * lr 5e-4 and weight-sum penalty 1e-4). The weights change, so the
     * activity drifts a little from the measurements above. */
    stdbp_optim_params op = stdbp_optim_defaults();
    op.kind = STDBP_OPTIM_ADAM;
    op.lr = 5e-4;
    stdbp_optim *opt = NULL;
    double *grad = calloc(n_p, sizeof *grad), t_update = 0;
    if (!grad || stdbp_optim_create(&op, n_p, &opt, &err) != STDBP_OK) {
        fprintf(stderr, "bench_core: %s: cannot create the optimiser\n", name);
        free(grad);
        free(sec);
        free(acc);
        return 1;
    }
    memset(acc, 0, n_p * sizeof *acc);
    /* Fault the optimiser's pages in now: calloc maps them lazily, and a
     * training of thousands of steps pays that once, not in every step of
     * a short benchmark. */
    memset(grad, 0, n_p * sizeof *grad);
    memset(stdbp_optim_state(opt), 0, stdbp_optim_state_size(opt) * sizeof(double));
    double *params = stdbp_net_params(net);
    size_t done = 0;
    t0 = now();
    while (done < n_samples) {
        size_t b = n_samples - done < batch ? n_samples - done : batch;
        train_samples(name, net, ws, times, n_img, done, b, acc);
        double tu = now();
        stdbp_grad_fixed_mean(acc, grad, n_p, b);
        stdbp_penalty_weight_sum(net, params, grad, 1e-4, 1.0);
        stdbp_optim_step(opt, params, grad, op.lr);
        t_update += now() - tu;
        done += b;
    }
    t1 = now();
    res->step_rate = (double)n_samples / (t1 - t0);
    res->update_share = t_update / (t1 - t0);
    stdbp_optim_destroy(&opt);
    free(grad);
    printf("%-4s %9zu %14.0f %14.0f %12.1f %14.0f %7.1f%% %10.0f %7.1f%%  %016llx  %016llx\n", name,
           n_p, res->fwd_rate, res->train_rate, 1e6 / res->train_rate, res->step_rate,
           100 * res->update_share, res->events, 100 * res->hidden_fired, (unsigned long long)dig,
           (unsigned long long)digest_f64(params, n_p));
    if (layers)
        print_layers(name, net, sec, n_samples);
    free(sec);
    free(acc);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = "all";
    size_t n_samples = 0, n_img = 1000, batch = 128;
    int layers = 0;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(argv[i], "--layers")) {
            layers = 1;
        } else if (!strcmp(argv[i], "--samples") && i + 1 < argc) {
            n_samples = strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--images") && i + 1 < argc) {
            n_img = strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            batch = strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            stdbp_err e;
            if (stdbp_kernels_select(argv[++i], &e) != STDBP_OK) {
                fprintf(stderr, "bench_core: --isa: %s\n", e.msg);
                return 2;
            }
        } else {
            fprintf(stderr, "bench_core: unknown argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
#ifdef _OPENMP
    /* One thread, whatever OMP_NUM_THREADS says: the update's loops are
     * threaded, and a second thread would also spin between steps. */
    omp_set_num_threads(1);
#endif
    if (strcmp(model, "mlp") && strcmp(model, "cnn") && strcmp(model, "wide") &&
        strcmp(model, "all")) {
        fprintf(stderr, "bench_core: --model must be mlp, cnn, wide or all (got '%s')\n", model);
        return 2;
    }
    if (n_img == 0)
        n_img = 1;
    if (batch == 0)
        batch = 1;

    unsigned char *px = malloc(n_img * PIX);
    double *times = malloc(n_img * PIX * sizeof *times);
    char path[4096] = "";
    size_t got = 0;
    if (!px || !times) {
        fprintf(stderr, "bench_core: out of memory\n");
        return 1;
    }
    const char *dir = getenv("STDBP_DATA");
    if (dir && *dir) {
        snprintf(path, sizeof path, "%s/mnist/train-images-idx3-ubyte", dir);
        if (!(got = load_mnist(path, px, n_img))) {
            strncat(path, ".gz", sizeof path - strlen(path) - 1);
            got = load_mnist(path, px, n_img);
        }
    }
    double lit = 0;
    if (got) {
        n_img = got;
        printf("inputs: %zu MNIST training images from %s\n", n_img, path);
    } else {
        stdbp_rng r;
        stdbp_rng_seed(&r, seed);
        for (size_t k = 0; k < n_img; k++)
            synth(&r, px + k * PIX);
        printf("inputs: %zu synthetic MNIST-like images (no $STDBP_DATA/mnist IDX file)\n", n_img);
    }
    for (size_t q = 0; q < n_img * PIX; q++) {
        times[q] = px[q] ? 1.0 - px[q] / 255.0 : INFINITY;
        lit += px[q] != 0;
    }
    printf("%.1f%% of pixels lit; one thread; seed %llu; kernels %s\n",
           100 * lit / (double)(n_img * PIX), (unsigned long long)seed, stdbp_kernels_isa());
    printf("%-4s %9s %14s %14s %12s %14s %8s %10s %8s  %-16s  %s\n", "net", "params",
           "fwd samples/s", "f+b samples/s", "f+b us/smpl", "step samples/s", "update",
           "syn ev/smpl", "hidden", "gradient digest", "weights digest");

    const stdbp_layer_spec mlp[] = {{STDBP_LAYER_DENSE, 800, 0, 0, 0},
                                    {STDBP_LAYER_DENSE, 10, 0, 0, 0}};
    const stdbp_layer_spec cnn[] = {
        {STDBP_LAYER_CONV2D, 16, 5, 1, 2}, {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_CONV2D, 32, 5, 1, 0}, {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_FLATTEN, 0, 0, 0, 0}, {STDBP_LAYER_DENSE, 128, 0, 0, 0},
        {STDBP_LAYER_DENSE, 10, 0, 0, 0}};
    const stdbp_layer_spec wide[] = {
        {STDBP_LAYER_CONV2D, 32, 5, 1, 2}, {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_CONV2D, 64, 5, 1, 0}, {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_FLATTEN, 0, 0, 0, 0}, {STDBP_LAYER_DENSE, 256, 0, 0, 0},
        {STDBP_LAYER_DENSE, 10, 0, 0, 0}};
    result res;
    int rc = 0;
    const int all = !strcmp(model, "all");
    if (all || !strcmp(model, "mlp"))
        rc |= run("mlp", mlp, 2, times, n_img, n_samples ? n_samples : 2000, batch, seed, layers,
                  &res);
    if (all || !strcmp(model, "cnn"))
        rc |= run("cnn", cnn, 7, times, n_img, n_samples ? n_samples : 200, batch, seed, layers,
                  &res);
    if (!strcmp(model, "wide"))
        rc |= run("wide", wide, 7, times, n_img, n_samples ? n_samples : 100, batch, seed, layers,
                  &res);
    printf("(step: forward+backward of batches of %zu, then mean gradient, penalty and\n"
           " Adam; update: its share of the step; hidden: fraction of the last hidden\n"
           " layer's neurons that fire; the digest of the summed gradient (of the f+b\n"
           " pass) and that of the weights after the steps are the same on every\n"
           " machine and build)\n",
           batch);
    free(px);
    free(times);
    return rc;
}
