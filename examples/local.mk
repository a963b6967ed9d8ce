# examples/: two programs on the public C API (docs/API.md): inference
# from a checkpoint and a training loop, neither calling MPI. `make`
# builds them against the build tree's library; the test
# tests/integration/examples.sh builds them again against a scratch
# install through `pkg-config stdbp`, as a user would, and runs them.
noinst_PROGRAMS += %reldir%/infer_mnist %reldir%/train_loop
%canon_reldir%_infer_mnist_LDADD = $(STDBP_LIBS)
%canon_reldir%_train_loop_LDADD = $(STDBP_LIBS)
.PHONY: examples
examples: %reldir%/infer_mnist$(EXEEXT) %reldir%/train_loop$(EXEEXT)
dist_doc_DATA += docs/API.md
