# tests/fuzz: libFuzzer harnesses, with ASan and UBSan (docs/DATA.md, docs/FORMAT.md,
# docs/CONFIG.md). Not part of `make check`; FUZZ_SECONDS sets the time.
FUZZ_SECONDS = 60
EXTRA_DIST += %reldir%/fuzz_idx.c %reldir%/idx.dict %reldir%/seeds \
	%reldir%/fuzz_config.c %reldir%/config.dict \
	%reldir%/fuzz_ckpt.c %reldir%/fuzz_h5ids.h %reldir%/ckpt.dict %reldir%/ckpt_seed.yaml %reldir%/seeds-ckpt \
	%reldir%/fuzz_h5data.c %reldir%/h5data.dict %reldir%/seeds-h5data %reldir%/regress-ckpt \
	%reldir%/regress-h5data %reldir%/hdf5-bugs \
	%reldir%/fuzz_events.c %reldir%/seeds-events %reldir%/regress-events
CLEANFILES += %reldir%/fuzz_idx %reldir%/fuzz_config %reldir%/fuzz_ckpt %reldir%/fuzz_h5data \
	%reldir%/fuzz_ckpt_fast %reldir%/fuzz_h5data_fast %reldir%/fuzz_events \
	%reldir%/fuzz_events_fast
.PHONY: fuzz-idx fuzz-config fuzz-ckpt fuzz-h5data fuzz-events
FUZZ_FLAGS = -g -O1 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(top_srcdir)/include -I$(top_srcdir)/src
FUZZ_FAST_FLAGS = $(subst fuzzer$(comma)address$(comma)undefined,fuzzer$(comma)undefined,$(FUZZ_FLAGS))
comma = ,
FUZZ_RUN_FLAGS = -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix=%reldir%/

# make fuzz-idx: the IDX reader. It needs only zlib (no MPI, no HDF5), so
# clang compiles it here directly, apart from the mpicc-built library.
# New inputs go to tests/fuzz/corpus-idx in the build tree; crashes to
# tests/fuzz/crash-*.
FUZZ_IDX_SRCS = $(top_srcdir)/%reldir%/fuzz_idx.c $(top_srcdir)/src/data/idx.c \
	$(top_srcdir)/src/data/dataset.c $(top_srcdir)/src/util/error.c

# make fuzz-config: the YAML loader, --set, validate and the emit/load
# round trip. The config sources are compiled with clang and the fuzzer's
# sanitizers; the rest (the modules' defaults, internal symbols) comes
# from the built convenience archive .libs/libstdbp_internal.a. Needs a
# build without --enable-sanitizers (two sanitizer runtimes cannot share
# a process).
FUZZ_CONFIG_SRCS = $(top_srcdir)/%reldir%/fuzz_config.c $(top_srcdir)/src/util/yaml_doc.c \
	$(top_srcdir)/src/config/config_schema.c $(top_srcdir)/src/config/config.c \
	$(top_srcdir)/src/config/config_validate.c $(top_srcdir)/src/config/config_emit.c \
	$(top_srcdir)/src/config/config_equal.c $(top_srcdir)/src/config/config_check.c \
	$(top_srcdir)/src/config/config_format.c $(top_srcdir)/src/util/strbuf.c \
	$(top_srcdir)/src/util/yaml_get.c $(top_srcdir)/src/util/yaml_msg.c

# make fuzz-ckpt: the checkpoint and spike-log readers (docs/FORMAT.md,
# "Fuzzing"); make fuzz-h5data: the hdf5:PATH data reader (docs/DATA.md).
# As for fuzz-config, the readers (and h5util.c, which they call for every
# attribute) are compiled with clang and the sanitizers, the rest comes
# from .libs/libstdbp_internal.a; MPI and parallel HDF5 are linked as for
# the library. Seeds: tests/fuzz/seeds-ckpt (checkpoints and spike logs
# of a run of tests/fuzz/ckpt_seed.yaml) and tests/fuzz/seeds-h5data
# (files of tests/tools/gen_dataset, repacked); the regress-* folders
# hold the inputs that found bugs (tests/unit/test_fuzz_replay replays
# all of them in make check).
FUZZ_CKPT_SRCS = $(top_srcdir)/%reldir%/fuzz_ckpt.c $(top_srcdir)/src/ckpt/ckpt_load.c \
	$(top_srcdir)/src/ckpt/ckpt_read.c $(top_srcdir)/src/ckpt/ckpt_util.c \
	$(top_srcdir)/src/ckpt/spikelog.c $(top_srcdir)/src/ckpt/spikelog_recover.c \
	$(top_srcdir)/src/util/h5util.c
FUZZ_H5DATA_SRCS = $(top_srcdir)/%reldir%/fuzz_h5data.c $(top_srcdir)/src/data/h5data.c \
	$(top_srcdir)/src/util/h5util.c
# make fuzz-events: the event data readers (events:PATH, shd:PATH and one
# N-MNIST file; the first byte of an input picks which), as fuzz-h5data.
# Seeds: tests/fuzz/seeds-events (files of tests/tools/gen_events, each
# behind its selector byte).
FUZZ_EVENTS_SRCS = $(top_srcdir)/%reldir%/fuzz_events.c $(top_srcdir)/src/data/evh5.c \
	$(top_srcdir)/src/data/nmnist.c $(top_srcdir)/src/data/events_check.c \
	$(top_srcdir)/src/util/h5util.c
FUZZ_MPI_FLAGS = -I$(top_builddir)/include $(HDF5_CFLAGS) `$(CC) --showme:compile 2>/dev/null`
FUZZ_MPI_LIBS = .libs/libstdbp_internal.a $(HDF5_LIBS) $(YAML_LIBS) $(ZLIB_LIBS) \
	`$(CC) --showme:link 2>/dev/null` -lm

if HAVE_CLANG
%reldir%/fuzz_idx: $(FUZZ_IDX_SRCS) $(top_srcdir)/src/data/idx_impl.h \
		$(top_srcdir)/include/stdbp/data.h
	@$(MKDIR_P) %reldir%
	$(AM_V_CC)$(CLANG) $(FUZZ_FLAGS) $(ZLIB_CFLAGS) $(FUZZ_IDX_SRCS) $(ZLIB_LIBS) -o $@
fuzz-idx: %reldir%/fuzz_idx
	@$(MKDIR_P) %reldir%/corpus-idx
	ASAN_OPTIONS=detect_leaks=1 ./%reldir%/fuzz_idx -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_RUN_FLAGS) -dict=$(top_srcdir)/%reldir%/idx.dict \
		%reldir%/corpus-idx $(top_srcdir)/%reldir%/seeds
if !SANITIZERS
%reldir%/fuzz_config: $(FUZZ_CONFIG_SRCS) $(top_srcdir)/src/util/yaml_doc.h \
		$(top_srcdir)/src/util/yaml_impl.h $(top_srcdir)/src/util/strbuf.h \
		$(top_srcdir)/src/config/config_impl.h $(top_srcdir)/include/stdbp/config.h \
		libstdbp_internal.la
	@$(MKDIR_P) %reldir%
	$(AM_V_CC)$(CLANG) $(FUZZ_FLAGS) $(YAML_CFLAGS) `$(CC) --showme:compile 2>/dev/null` \
		$(FUZZ_CONFIG_SRCS) -o $@ .libs/libstdbp_internal.a \
		$(HDF5_LIBS) $(YAML_LIBS) $(ZLIB_LIBS) `$(CC) --showme:link 2>/dev/null` -lm
fuzz-config: %reldir%/fuzz_config
	@$(MKDIR_P) %reldir%/corpus-config
	cp -f $(top_srcdir)/configs/*.yaml %reldir%/corpus-config/
	ASAN_OPTIONS=detect_leaks=1 ./%reldir%/fuzz_config -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_RUN_FLAGS) -dict=$(top_srcdir)/%reldir%/config.dict %reldir%/corpus-config
%reldir%/fuzz_ckpt %reldir%/fuzz_ckpt_fast: $(FUZZ_CKPT_SRCS) \
		$(top_srcdir)/src/ckpt/ckpt_impl.h $(top_srcdir)/src/util/h5util.h \
		$(top_srcdir)/include/stdbp/ckpt.h $(top_srcdir)/%reldir%/fuzz_h5ids.h libstdbp_internal.la
	@$(MKDIR_P) %reldir%
	$(AM_V_CC)$(CLANG) $(FUZZ_FLAGS) $(FUZZ_MPI_FLAGS) $(FUZZ_CKPT_SRCS) -o %reldir%/fuzz_ckpt \
		$(FUZZ_MPI_LIBS)
	$(AM_V_CC)$(CLANG) $(FUZZ_FAST_FLAGS) $(FUZZ_MPI_FLAGS) $(FUZZ_CKPT_SRCS) \
		-o %reldir%/fuzz_ckpt_fast $(FUZZ_MPI_LIBS)
%reldir%/fuzz_h5data %reldir%/fuzz_h5data_fast: $(FUZZ_H5DATA_SRCS) \
		$(top_srcdir)/src/util/h5util.h $(top_srcdir)/include/stdbp/data.h \
		$(top_srcdir)/%reldir%/fuzz_h5ids.h libstdbp_internal.la
	@$(MKDIR_P) %reldir%
	$(AM_V_CC)$(CLANG) $(FUZZ_FLAGS) $(FUZZ_MPI_FLAGS) $(FUZZ_H5DATA_SRCS) \
		-o %reldir%/fuzz_h5data $(FUZZ_MPI_LIBS)
	$(AM_V_CC)$(CLANG) $(FUZZ_FAST_FLAGS) $(FUZZ_MPI_FLAGS) $(FUZZ_H5DATA_SRCS) \
		-o %reldir%/fuzz_h5data_fast $(FUZZ_MPI_LIBS)
# Fuzzing runs the UBSan-only build (_fast: ASan maps and faults in every
# large allocation, and HDF5 makes several per file opened, which makes
# it 30-50 times slower); then every input of the corpus is replayed
# under ASan and UBSan (-runs=0). allocator_may_return_null: HDF5 asks
# for absurd sizes read from a damaged file and handles the NULL.
FUZZ_H5_RUN = ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
fuzz-ckpt: %reldir%/fuzz_ckpt
	@$(MKDIR_P) %reldir%/corpus-ckpt
	$(FUZZ_H5_RUN) ./%reldir%/fuzz_ckpt_fast -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_RUN_FLAGS) -max_len=65536 -dict=$(top_srcdir)/%reldir%/ckpt.dict \
		%reldir%/corpus-ckpt $(top_srcdir)/%reldir%/seeds-ckpt $(top_srcdir)/%reldir%/regress-ckpt
	$(FUZZ_H5_RUN) ./%reldir%/fuzz_ckpt -runs=0 $(FUZZ_RUN_FLAGS) -max_len=65536 \
		%reldir%/corpus-ckpt
%reldir%/fuzz_events %reldir%/fuzz_events_fast: $(FUZZ_EVENTS_SRCS) \
		$(top_srcdir)/src/data/events_impl.h $(top_srcdir)/src/util/h5util.h \
		$(top_srcdir)/include/stdbp/data.h $(top_srcdir)/%reldir%/fuzz_h5ids.h libstdbp_internal.la
	@$(MKDIR_P) %reldir%
	$(AM_V_CC)$(CLANG) $(FUZZ_FLAGS) $(FUZZ_MPI_FLAGS) $(FUZZ_EVENTS_SRCS) \
		-o %reldir%/fuzz_events $(FUZZ_MPI_LIBS)
	$(AM_V_CC)$(CLANG) $(FUZZ_FAST_FLAGS) $(FUZZ_MPI_FLAGS) $(FUZZ_EVENTS_SRCS) \
		-o %reldir%/fuzz_events_fast $(FUZZ_MPI_LIBS)
fuzz-events: %reldir%/fuzz_events
	@$(MKDIR_P) %reldir%/corpus-events
	$(FUZZ_H5_RUN) ./%reldir%/fuzz_events_fast -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_RUN_FLAGS) -max_len=65536 -dict=$(top_srcdir)/%reldir%/h5data.dict \
		%reldir%/corpus-events $(top_srcdir)/%reldir%/seeds-events \
		$(top_srcdir)/%reldir%/regress-events
	$(FUZZ_H5_RUN) ./%reldir%/fuzz_events -runs=0 $(FUZZ_RUN_FLAGS) -max_len=65536 \
		%reldir%/corpus-events
fuzz-h5data: %reldir%/fuzz_h5data
	@$(MKDIR_P) %reldir%/corpus-h5data
	$(FUZZ_H5_RUN) ./%reldir%/fuzz_h5data_fast -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_RUN_FLAGS) -max_len=65536 -dict=$(top_srcdir)/%reldir%/h5data.dict \
		%reldir%/corpus-h5data $(top_srcdir)/%reldir%/seeds-h5data \
		$(top_srcdir)/%reldir%/regress-h5data
	$(FUZZ_H5_RUN) ./%reldir%/fuzz_h5data -runs=0 $(FUZZ_RUN_FLAGS) -max_len=65536 \
		%reldir%/corpus-h5data
else
fuzz-config fuzz-ckpt fuzz-h5data fuzz-events:
	@echo "make $@ needs a build configured without --enable-sanitizers" >&2; exit 1
endif
else
fuzz-idx fuzz-config fuzz-ckpt fuzz-h5data fuzz-events:
	@echo "make $@ needs clang and its fuzzer runtime:" >&2; \
	echo "  apt-get install clang libclang-rt-14-dev, then run configure again" >&2; \
	exit 1
endif
