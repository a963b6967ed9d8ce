/* stdbp_hw_deploy end to end: accuracy per width, the report files and
 * their contents, widths the profile cannot hold, a model too large. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_hw_util.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *shipped(const char *name)
{
    static char path[4096];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/configs/hw/%s.yaml", top ? top : ".", name);
    return path;
}

static double h5_attr(hid_t f, const char *obj, const char *name)
{
    double v = -1.0;
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
            v = -2.0;
        H5Aclose(a);
    }
    return v;
}

/* The progress notes stdbp_hw_deploy hands to the log handler, one per
 * line, each preceded by its level ("I " or "W "). */
static char notes[16384];

static void capture(stdbp_log_level level, const char *msg, void *user)
{
    size_t used = strlen(notes);
    (void)user;
    snprintf(notes + used, sizeof notes - used, "%s %s\n", level == STDBP_LOG_INFO ? "I" : "W",
             msg);
}

int main(void)
{
    stdbp_err err;
    stdbp_dataset ds;
    stdbp_layer_spec specs[2] = {hwt_dense(60), hwt_dense(10)};
    stdbp_net *net = hwt_net((stdbp_shape){1, 10, 10}, specs, 2, 1.0, INFINITY);
    stdbp_init_params init = stdbp_init_defaults();
    stdbp_encoding enc = stdbp_encoding_defaults();
    stdbp_hw_summary sum[2];
    char dir[4096], path[4200];
    int bits[2] = {8, 16};
    FILE *log = tmpfile();
    plan(35);
    stdbp_net_init(net, &init, 3);
    hwt_dataset(&ds, 120, (stdbp_shape){1, 10, 10}, 10, 0.3, 5);
    snprintf(dir, sizeof dir, "%s/out", test_tmpdir());

    /* loihi_like holds 9-bit weights: 8 is simulated, 16 is not */
    stdbp_set_log_handler(capture, NULL);
    stdbp_status st = stdbp_hw_deploy(net, &ds, &enc, bits, 2, 64, shipped("loihi_like"), 100, dir,
                                      log, sum, &err);
    stdbp_set_log_handler(NULL, NULL);
    is_int(STDBP_OK, st, "deploy on loihi_like succeeds (%s)", st ? err.msg : "ok");
    ok(sum[0].simulated && !sum[1].simulated, "8-bit simulated, 16-bit not");
    is_int(100, (long long)sum[0].n, "100 images");
    is_int(0, (long long)sum[0].spike_mismatches, "hardware spikes == software spikes");
    is_double(sum[0].quant_accuracy, sum[0].hw_accuracy, 1e-12,
              "hardware accuracy == quantised accuracy");
    ok(sum[0].power_mw > 0 && sum[0].latency_ms > 0 && sum[0].energy_uj > 0 &&
           sum[0].throughput > 0,
       "power %.4g mW, latency %.4g ms, energy %.4g uJ, %.4g images/s", sum[0].power_mw,
       sum[0].latency_ms, sum[0].energy_uj, sum[0].throughput);
    is_int(2, sum[0].cores_used, "60 neurons x 100 synapses: 1 core, + 1 for the output");
    ok(sum[1].float_accuracy == sum[0].float_accuracy, "float accuracy reported for each width");

    snprintf(path, sizeof path, "%s/report.json", dir);
    char *json = slurp(path);
    ok(json != NULL, "report.json written");
    if (!json)
        json = calloc(1, 1);
    contains(json, "\"power_mw\": ", "report.json: power");
    contains(json, "\"latency_ms\": ", "report.json: latency");
    contains(json, "\"throughput_images_per_s\"", "report.json: throughput");
    contains(json, "\"energy_uj_per_image\": {\"synaptic\"", "report.json: energy breakdown");
    contains(json, "\"layers\": [", "report.json: per layer");
    contains(json, "\"cores\": [", "report.json: per core");
    contains(json, "\"hops_per_packet\"", "report.json: mesh traffic");
    contains(json, "\"paper\": {\"power_mw\": 0.751, \"latency_ms\": 47.71", "report.json: paper");
    contains(json, "Not a like-for-like comparison", "report.json: the comparison line");
    contains(json, "holds weights of at most 9 bits", "report.json: why 16-bit was skipped");
    free(json);

    snprintf(path, sizeof path, "%s/report.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ok(f >= 0, "report.h5 opens");
    if (f >= 0) {
        is_double(sum[0].power_mw, h5_attr(f, "/bits_8", "power_mw"), 1e-9,
                  "report.h5: /bits_8 power_mw");
        is_double(0.751, h5_attr(f, "/", "paper_power_mw"), 1e-12, "report.h5: paper figure");
        hid_t d = H5Dopen2(f, "/bits_8/images/latency_s", H5P_DEFAULT);
        hsize_t dims[1] = {0};
        if (d >= 0) {
            hid_t sp = H5Dget_space(d);
            H5Sget_simple_extent_dims(sp, dims, NULL);
            H5Sclose(sp);
            H5Dclose(d);
        }
        is_int(100, (long long)dims[0], "report.h5: one latency per image");
        H5Fclose(f);
    } else {
        skip("no report.h5");
        skip("no report.h5");
        skip("no report.h5");
    }

    /* the table went to the log */
    fflush(log);
    rewind(log);
    {
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, log);
        buf[n] = '\0';
        contains(buf, "hardware report: profile loihi_like", "the table is printed");
        contains(buf, "0.751 mW, 47.71 ms", "beside the paper's figures");
        ok(strstr(buf, "hw: ") == NULL, "no progress note in the table's stream");
    }

    /* the progress notes went to the log handler, as information */
    contains(notes, "I hw: float vs quantised accuracy on 100 images of ", "note: accuracy");
    contains(notes, "I hw: 8-bit: 100 images simulated in ", "note: 8-bit simulated");
    contains(notes,
             "I hw: 16-bit: not simulated: profile loihi_like holds weights of at most 9 bits",
             "note: 16-bit not simulated, and why");
    {
        char want[8320];
        snprintf(want, sizeof want, "I hw: report written to %s/report.json and %s/report.h5\n",
                 dir, dir);
        contains(notes, want, "note: where the report went");
    }

    /* the built-in default (event-driven) profile, all images */
    st = stdbp_hw_deploy(net, &ds, &enc, bits, 1, 0, "", 0, dir, NULL, sum, &err);
    ok(st == STDBP_OK && sum[0].n == 120 && sum[0].spike_mismatches == 0,
       "built-in default profile (\"\"): 120 images, no mismatch");

    /* a profile too small for the model */
    snprintf(path, sizeof path, "%s/tiny.yaml", test_tmpdir());
    FILE *y = fopen(path, "w");
    fputs("name: tiny\nmode: event\ncores: 2\nneurons_per_core: 8\n"
          "synapse_memory: {synapses: 1000}\nmesh: {width: 2, height: 1, "
          "hop: {energy_pj: 1, time_ns: 1}}\nops:\n  synapse: {energy_pj: 1, time_ns: 1}\n"
          "  neuron: {energy_pj: 1, time_ns: 1}\n  send: {energy_pj: 1, time_ns: 1}\n"
          "  receive: {energy_pj: 1, time_ns: 1}\nstatic_mw_per_core: 0\n",
          y);
    fclose(y);
    st = stdbp_hw_deploy(net, &ds, &enc, bits, 1, 64, path, 10, dir, NULL, NULL, &err);
    is_int(STDBP_EFIT, st, "a model too large: STDBP_EFIT");
    contains(err.msg, "needs 10 cores, profile tiny has 2: 8 short", "with the shortfall");

    /* bad arguments and profile errors pass through */
    int b1 = 1;
    is_int(
        STDBP_ERANGE,
        stdbp_hw_deploy(net, &ds, &enc, &b1, 1, 64, shipped("default"), 10, dir, NULL, NULL, &err),
        "1-bit refused");
    is_int(STDBP_EIO,
           stdbp_hw_deploy(net, &ds, &enc, bits, 1, 64, "/nonexistent.yaml", 10, dir, NULL, NULL,
                           &err),
           "a missing profile: STDBP_EIO");
    fclose(log);
    hwt_dataset_free(&ds);
    stdbp_net_destroy(&net);
    return 0;
}
