/* The shipped recipes, configs/local.mk's dist_configs_DATA but the sweep
 * example (a sweep, not a training config): test_config loads and
 * validates each, test_config_roundtrip round-trips each. One list, so a
 * new recipe is added here once. */
#ifndef STDBP_TESTS_SHIPPED_CONFIGS_H
#define STDBP_TESTS_SHIPPED_CONFIGS_H

#include <stddef.h>

static const char *const shipped_configs[] = {
    "mnist_mlp.yaml",      "mnist_cnn.yaml",       "fmnist_mlp.yaml",      "fmnist_cnn.yaml",
    "smoke.yaml",          "mnist_mlp_b1024.yaml", "mnist_mlp_b4096.yaml", "mnist_cnn_b1024.yaml",
    "mnist_mlp_aug.yaml",  "mnist_cnn_aug.yaml",   "fmnist_mlp_aug.yaml",  "emnist_events_mlp.yaml",
    "fmnist_cnn_wide.yaml"};
#define N_SHIPPED_CONFIGS (sizeof shipped_configs / sizeof shipped_configs[0])

#endif
