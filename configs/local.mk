# configs: the shipped YAML recipes, installed to $(pkgdatadir)/configs.
# (Accelerator profiles, configs/hw/*.yaml, are listed by src/hw.)
configsdir = $(pkgdatadir)/configs
dist_configs_DATA = configs/mnist_mlp.yaml configs/mnist_cnn.yaml \
	configs/fmnist_mlp.yaml configs/fmnist_cnn.yaml configs/smoke.yaml
