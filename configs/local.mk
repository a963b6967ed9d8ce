# configs: the shipped YAML recipes and the example sweep, installed to
# $(pkgdatadir)/configs; accelerator profiles to $(pkgdatadir)/hw, where
# --hw NAME finds them (src/cli/cli_common.c).
configsdir = $(pkgdatadir)/configs
dist_configs_DATA = configs/mnist_mlp.yaml configs/mnist_mlp_aug.yaml configs/mnist_cnn.yaml \
	configs/fmnist_mlp.yaml configs/fmnist_cnn.yaml configs/smoke.yaml \
	configs/sweep_example.yaml configs/mnist_mlp_b1024.yaml configs/mnist_mlp_b4096.yaml \
	configs/mnist_cnn_b1024.yaml configs/emnist_events_mlp.yaml \
	configs/mnist_cnn_aug.yaml configs/fmnist_mlp_aug.yaml configs/fmnist_cnn_wide.yaml
hwconfigsdir = $(pkgdatadir)/hw
dist_hwconfigs_DATA = configs/hw/default.yaml configs/hw/loihi_like.yaml \
	configs/hw/truenorth_like.yaml
