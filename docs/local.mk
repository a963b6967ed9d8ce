# docs: every document, installed to $(docdir).
dist_doc_DATA += docs/CONFIG.md docs/DATA.md docs/FORMAT.md docs/HARDWARE.md docs/NIR.md \
	docs/PERFORMANCE.md docs/RESULTS.md docs/SCALING.md docs/SLURM.md docs/INSTALL.md
EXTRA_DIST += docs/img/mnist_mlp.png docs/img/fmnist_mlp.png docs/img/mnist_cnn.png \
	docs/img/fmnist_cnn.png docs/img/scaling.png docs/img/emnist_events_mlp.png
