# tests/fuzz: libFuzzer harnesses, with ASan and UBSan (docs/DATA.md,
# docs/CONFIG.md). Not part of `make check`; FUZZ_SECONDS sets the time.
FUZZ_SECONDS = 60
EXTRA_DIST += %reldir%/fuzz_idx.c %reldir%/idx.dict %reldir%/seeds \
	%reldir%/fuzz_config.c %reldir%/config.dict
CLEANFILES += %reldir%/fuzz_idx %reldir%/fuzz_config
.PHONY: fuzz-idx fuzz-config
FUZZ_FLAGS = -g -O1 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(top_srcdir)/include -I$(top_srcdir)/src
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
else
fuzz-config:
	@echo "make fuzz-config needs a build configured without --enable-sanitizers" >&2; exit 1
endif
else
fuzz-idx fuzz-config:
	@echo "make $@ needs clang and its fuzzer runtime:" >&2; \
	echo "  apt-get install clang libclang-rt-14-dev, then run configure again" >&2; \
	exit 1
endif
