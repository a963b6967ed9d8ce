/* libFuzzer harness for the configuration loader (make fuzz-config).
 *
 * Each input is tried two ways: as a whole YAML file, and as one
 * "--set key.path=value" argument over the defaults. Whatever loads must
 * validate without crashing, emit, and load back to the same config
 * (stdbp_config_equal); whatever fails must leave a message. Any
 * violation aborts, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const stdbp_config *a, const char *how)
{
    stdbp_config b;
    stdbp_err err;
    char *yaml = NULL, what[128];
    size_t len = 0;
    stdbp_err_clear(&err);
    (void)stdbp_config_validate(a, &err);
    if (stdbp_config_emit(a, &yaml, &len, &err) != STDBP_OK) {
        fprintf(stderr, "%s: emit failed: %s\n", how, err.msg);
        abort();
    }
    if (strlen(yaml) != len) {
        fprintf(stderr, "%s: emit length %zu != strlen %zu\n", how, len, strlen(yaml));
        abort();
    }
    if (stdbp_config_load_string(yaml, len, "emitted", &b, &err) != STDBP_OK) {
        fprintf(stderr, "%s: the emitted config does not load: %s\n%s", how, err.msg, yaml);
        abort();
    }
    if (!stdbp_config_equal(a, &b, what, sizeof what)) {
        fprintf(stderr, "%s: round trip changed %s\n%s", how, what, yaml);
        abort();
    }
    free(yaml);
}

static void check_failure(const stdbp_err *err, const char *how)
{
    if (err->code == STDBP_OK || !memchr(err->msg, '\0', sizeof err->msg) || !err->msg[0]) {
        fprintf(stderr, "%s: failure without a message\n", how);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stdbp_config cfg;
    stdbp_err err;
    char *arg;
    if (size > 65536)
        return 0;
    stdbp_err_clear(&err);
    if (stdbp_config_load_string((const char *)data, size, "fuzz.yaml", &cfg, &err) == STDBP_OK)
        round_trip(&cfg, "file");
    else
        check_failure(&err, "file");

    arg = malloc(size + 1);
    if (!arg)
        return 0;
    memcpy(arg, data, size);
    arg[size] = '\0';
    stdbp_config_defaults(&cfg);
    stdbp_err_clear(&err);
    if (stdbp_config_set(&cfg, arg, &err) == STDBP_OK)
        round_trip(&cfg, "--set");
    else
        check_failure(&err, "--set");
    free(arg);
    return 0;
}
