# src/train: the data-parallel training loop and evaluation.
libstdbp_la_SOURCES += src/train/trainer.c src/train/trainer_impl.h src/train/evaluate.c \
	src/train/signals.c src/train/spikes.c
stdbpinclude_HEADERS += include/stdbp/train.h

# Integration tests of stdbp_train (shell, TAP).
check_PROGRAMS += tests/tools/gen_dataset
tests_tools_gen_dataset_LDADD = $(STDBP_LIBS) $(HDF5_LIBS)
TESTS += tests/integration/train_ranks.sh tests/integration/resume.sh tests/integration/train_64.sh
EXTRA_DIST += tests/integration/train_ranks.sh tests/integration/resume.sh tests/integration/train_64.sh tests/tap/tap.sh
