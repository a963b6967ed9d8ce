/* stdbp_ckpt_load_net: a checkpoint file or run directory as a ready
 * network, without MPI. The checkpoints are written collectively (MPI on
 * one rank); MPI is then finalised, so every call of stdbp_ckpt_load_net
 * below runs where any MPI call would abort the test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stdbp/stdbp.h"
#include "tap/basic.h"
#include "tap/ckpt_fixture.h"

static const char config_text[] = "run: {name: net, seed: 5}\n"
                                  "network:\n"
                                  "  theta: 1.5\n"
                                  "  layers:\n"
                                  "    - {type: dense, out: 6}\n"
                                  "    - {type: dense, out: 3}\n"
                                  "loss: {beta: 12}\n"
                                  "encoding: {t_max: 2}\n";

static int warnings;
static char last_warning[1024];
static void on_log(stdbp_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == STDBP_LOG_WARNING) {
        warnings++;
        snprintf(last_warning, sizeof last_warning, "%s", msg);
    }
}

/* The net the config builds on a 1x4x4 input, weights from seed. */
static stdbp_net *make_net(uint64_t seed)
{
    stdbp_config cfg;
    stdbp_err err;
    stdbp_net *net = NULL;
    if (stdbp_config_load_string(config_text, strlen(config_text), "test", &cfg, &err) != STDBP_OK)
        bail("config: %s", err.msg);
    if (stdbp_net_create((stdbp_shape){1, 4, 4}, cfg.network.layers, cfg.network.n_layers,
                         &cfg.network.neuron, &net, &err) != STDBP_OK)
        bail("net: %s", err.msg);
    fixture_fill_normal(stdbp_net_params(net), stdbp_net_num_params(net), seed);
    return net;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        sysbail("cannot write %s", path);
}

/* Forward a fixed input through both nets: bitwise the same outputs? */
static int same_forward(const stdbp_net *a, const stdbp_net *b)
{
    stdbp_ws *wa = NULL, *wb = NULL;
    stdbp_err err;
    double in[16];
    int same = 1;
    if (stdbp_ws_create(a, &wa, &err) != STDBP_OK || stdbp_ws_create(b, &wb, &err) != STDBP_OK)
        bail("ws: %s", err.msg);
    for (int k = 0; k < 16; k++)
        in[k] = k % 5 == 0 ? INFINITY : 0.1 * k;
    const double *ta = stdbp_net_forward(a, wa, in), *tb = stdbp_net_forward(b, wb, in);
    same = memcmp(ta, tb, stdbp_net_output_size(a) * sizeof(double)) == 0;
    stdbp_ws_destroy(&wa);
    stdbp_ws_destroy(&wb);
    return same;
}

int main(int argc, char **argv)
{
    char dir[4096], empty[4096], p5[4096], p9[4096], p12[4096], used[4096], junk[4096];
    stdbp_err err;
    stdbp_status s;
    stdbp_net *n5, *n9, *got = NULL;
    stdbp_config cfg;
    stdbp_train_state st;

    MPI_Init(&argc, &argv);
    plan(24);
    stdbp_set_log_handler(on_log, NULL);
    fixture_run_dir(MPI_COMM_WORLD, NULL, "run", dir, sizeof dir);
    fixture_run_dir(MPI_COMM_WORLD, NULL, "empty", empty, sizeof empty);
    if (mkdir(empty, 0700) != 0)
        sysbail("mkdir %s", empty);
    n5 = make_net(1);
    n9 = make_net(2);
    memset(&st, 0, sizeof st);
    st.step = 5;
    s = stdbp_ckpt_write(MPI_COMM_WORLD, dir, n5, NULL, &st, config_text, 0, p5, sizeof p5, &err);
    if (s != STDBP_OK)
        bail("write: %s", err.msg);
    st.step = 9;
    s = stdbp_ckpt_write(MPI_COMM_WORLD, dir, n9, NULL, &st, config_text, 0, p9, sizeof p9, &err);
    if (s != STDBP_OK)
        bail("write: %s", err.msg);
    MPI_Finalize(); /* from here on, an MPI call would abort */

    /* A checkpoint file. */
    memset(&cfg, 0, sizeof cfg);
    memset(&st, 0, sizeof st);
    s = stdbp_ckpt_load_net(p5, &got, &cfg, &st, used, sizeof used, &err);
    is_int(STDBP_OK, s, "a checkpoint file loads without MPI (%s)", s ? err.msg : "ok");
    ok(got != NULL, "a net is returned");
    if (!got)
        bail("no net");
    is_int(2, (long long)stdbp_net_num_layers(got), "two layers, as the stored config says");
    is_int(16, (long long)stdbp_net_input_size(got), "input 1x4x4, as the checkpoint stores it");
    is_int(3, (long long)stdbp_net_output_size(got), "3 outputs");
    ok(stdbp_net_num_params(got) == stdbp_net_num_params(n5) &&
           memcmp(stdbp_net_params(got), stdbp_net_params(n5),
                  stdbp_net_num_params(n5) * sizeof(double)) == 0,
       "the weights are the checkpoint's, bit for bit");
    is_double(1.5, stdbp_net_neuron(got)->theta, 0, "theta from the stored config");
    is_double(12, cfg.loss.beta, 0, "cfg: loss.beta from the stored config");
    is_double(2, cfg.encoding.t_max, 0, "cfg: encoding.t_max from the stored config");
    is_string(p5, used, "used: the file read");
    is_int(5, (long long)st.step, "st: the stored training state (step 5)");
    ok(same_forward(got, n5), "forward gives the original net's output times");
    stdbp_net_destroy(&got);

    /* A run directory: its newest checkpoint that verifies. */
    PATHF(p12, "%s/checkpoints/ckpt-0000000012.h5", dir);
    write_file(p12, "not an HDF5 file\n");
    warnings = 0;
    s = stdbp_ckpt_load_net(dir, &got, NULL, NULL, used, sizeof used, &err);
    is_int(STDBP_OK, s, "a run directory loads (%s)", s ? err.msg : "ok");
    is_string(p9, used, "its newest readable checkpoint (step 9) is used");
    ok(got && memcmp(stdbp_net_params(got), stdbp_net_params(n9),
                     stdbp_net_num_params(n9) * sizeof(double)) == 0,
       "with step 9's weights");
    is_int(1, warnings, "the damaged newer file is skipped with one warning");
    contains(last_warning, "ckpt-0000000012.h5", "the warning names it");
    stdbp_net_destroy(&got);

    /* Errors. */
    PATHF(junk, "%s/missing.h5", dir);
    s = stdbp_ckpt_load_net(junk, &got, NULL, NULL, NULL, 0, &err);
    ok(s != STDBP_OK && got == NULL, "a missing file fails, no net");
    contains(err.msg, "missing.h5", "the message names the file");
    s = stdbp_ckpt_load_net(p12, &got, NULL, NULL, NULL, 0, &err);
    is_int(STDBP_EFORMAT, s, "a file that is not a checkpoint: STDBP_EFORMAT");
    contains(err.msg, "ckpt-0000000012.h5", "naming it (%s)", err.msg);
    s = stdbp_ckpt_load_net(empty, &got, NULL, NULL, NULL, 0, &err);
    is_int(STDBP_EIO, s, "a directory without checkpoints: STDBP_EIO");
    contains(err.msg, "no readable checkpoint", "saying so (%s)", err.msg);
    s = stdbp_ckpt_load_net(p5, NULL, NULL, NULL, NULL, 0, &err);
    is_int(STDBP_EINVAL, s, "no out pointer: STDBP_EINVAL");

    stdbp_net_destroy(&n5);
    stdbp_net_destroy(&n9);
    return tap_failures() ? 1 : 0;
}
