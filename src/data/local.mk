# src/data: IDX and HDF5 datasets, latency encoding, splits, per-epoch
# orders and rank slices (docs/DATA.md), plus the IDX fuzz harness.
libstdbp_la_SOURCES += src/data/idx.c src/data/idx_impl.h src/data/dataset.c \
	src/data/h5data.c src/data/open.c src/data/encode.c src/data/shard.c \
	src/data/augment.c

# Tests. Those that write their own IDX (gzip) and HDF5 fixtures link
# zlib and HDF5 themselves.
check_PROGRAMS += tests/unit/test_idx tests/unit/test_h5data tests/unit/test_encode \
	tests/unit/test_shard tests/unit/test_dataset tests/mpi/test_shard_mpi \
	tests/unit/test_augment
tests_unit_test_idx_LDADD = $(TEST_LIBS) $(ZLIB_LIBS)
tests_unit_test_h5data_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
tests_unit_test_encode_LDADD = $(TEST_LIBS)
tests_unit_test_shard_LDADD = $(TEST_LIBS)
tests_unit_test_augment_LDADD = $(TEST_LIBS)
tests_unit_test_dataset_LDADD = $(TEST_LIBS) $(ZLIB_LIBS) $(HDF5_LIBS)
tests_mpi_test_shard_mpi_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_idx tests/unit/test_h5data tests/unit/test_encode tests/unit/test_augment \
	tests/unit/test_shard tests/unit/test_dataset tests/unit/test_dataset_fetch.sh \
	tests/mpi/shard_np2.sh tests/mpi/shard_np3.sh
EXTRA_DIST += tests/mpi/shard_np2.sh tests/mpi/shard_np3.sh tests/unit/test_dataset_fetch.sh \
	scripts/fetch-data.sh docs/DATA.md \
	tests/fuzz/fuzz_idx.c tests/fuzz/idx.dict tests/fuzz/seeds

# `make fuzz-idx [FUZZ_SECONDS=60]`: libFuzzer on the IDX reader, with
# ASan and UBSan. The reader needs only zlib (no MPI, no HDF5), so clang
# compiles it here directly, apart from the mpicc-built library. New
# inputs go to tests/fuzz/corpus-idx in the build tree; crashes to
# tests/fuzz/crash-*. See docs/DATA.md for longer runs.
FUZZ_SECONDS = 60
FUZZ_IDX_FLAGS = -g -O1 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(top_srcdir)/include -I$(top_srcdir)/src $(ZLIB_CFLAGS)
FUZZ_IDX_SRCS = $(top_srcdir)/tests/fuzz/fuzz_idx.c $(top_srcdir)/src/data/idx.c \
	$(top_srcdir)/src/data/dataset.c $(top_srcdir)/src/core/error.c
CLEANFILES += tests/fuzz/fuzz_idx
.PHONY: fuzz-idx
if HAVE_CLANG
tests/fuzz/fuzz_idx: $(FUZZ_IDX_SRCS) $(top_srcdir)/src/data/idx_impl.h \
		$(top_srcdir)/include/stdbp/data.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_IDX_FLAGS) $(FUZZ_IDX_SRCS) $(ZLIB_LIBS) -o $@
fuzz-idx: tests/fuzz/fuzz_idx
	@$(MKDIR_P) tests/fuzz/corpus-idx
	ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_idx -max_total_time=$(FUZZ_SECONDS) \
		-max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=tests/fuzz/ -dict=$(top_srcdir)/tests/fuzz/idx.dict \
		tests/fuzz/corpus-idx $(top_srcdir)/tests/fuzz/seeds
else
fuzz-idx:
	@echo "make fuzz-idx needs clang and its fuzzer runtime:" >&2; \
	echo "  apt-get install clang libclang-rt-14-dev, then run configure again" >&2; \
	exit 1
endif
