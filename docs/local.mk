# docs: the documents that no single module installs (the others are
# listed in their modules' fragments).
dist_doc_DATA += docs/PERFORMANCE.md docs/RESULTS.md docs/FORMAT.md docs/DATA.md
EXTRA_DIST += docs/img/mnist_mlp.png docs/img/fmnist_mlp.png docs/img/mnist_cnn.png \
	docs/img/fmnist_cnn.png
