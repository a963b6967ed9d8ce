# src/io/ckpt.mk: checkpoints, spike logs, their tests and benchmark.
libstdbp_la_SOURCES += src/io/ckpt.c src/io/ckpt_read.c src/io/ckpt_util.c \
	src/io/ckpt_impl.h src/io/spikelog.c src/io/digest.c src/io/digest.h \
	src/io/h5util.c src/io/h5util.h
stdbpinclude_HEADERS += include/stdbp/ckpt.h

# Serial tests. Those that open HDF5 files themselves (to damage them
# or compare them) also link HDF5.
check_PROGRAMS += tests/unit/test_ckpt_digest tests/unit/test_ckpt
tests_unit_test_ckpt_digest_LDADD = $(TEST_LIBS)
tests_unit_test_ckpt_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
TESTS += tests/unit/test_ckpt_digest tests/unit/test_ckpt

# MPI tests: one program each, run on several rank counts by wrappers.
check_PROGRAMS += tests/mpi/test_ckpt_mpi tests/mpi/test_spikelog
tests_mpi_test_ckpt_mpi_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
tests_mpi_test_spikelog_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
CKPT_MPI_TESTS = tests/mpi/ckpt_np1.sh tests/mpi/ckpt_np2.sh tests/mpi/ckpt_np4.sh \
	tests/mpi/spikelog_np1.sh tests/mpi/spikelog_np4.sh \
	tests/mpi/ckpt_h5py_np2.sh tests/mpi/spike_raster_np2.sh
TESTS += $(CKPT_MPI_TESTS)
EXTRA_DIST += $(CKPT_MPI_TESTS) scripts/spike_raster.py docs/FORMAT.md

# Benchmark: checkpoint write/read time and size (not installed).
noinst_PROGRAMS += bench/bench_ckpt
bench_bench_ckpt_LDADD = $(STDBP_LIBS)
