# src/io/config.mk: the run configuration (schema, defaults, load, --set,
# validate, emit, bcast), the YAML document tree it is built on, the key
# reference generator, their tests and the config fuzzer.
libstdbp_la_SOURCES += src/io/yaml_doc.c src/io/yaml_doc.h src/io/config_impl.h \
	src/io/config_schema.c src/io/config.c src/io/config_validate.c \
	src/io/config_emit.c src/io/config_equal.c src/io/config_bcast.c \
	src/io/config_doc.c

# Prints the key reference of docs/CONFIG.md from the schema.
noinst_PROGRAMS += src/io/stdbp_config_doc
src_io_stdbp_config_doc_SOURCES = src/io/config_doc_main.c
src_io_stdbp_config_doc_LDADD = $(STDBP_LIBS)

check_PROGRAMS += tests/unit/test_yaml_doc tests/unit/test_config \
	tests/unit/test_config_errors tests/unit/test_config_roundtrip \
	tests/unit/test_config_doc tests/mpi/test_config_bcast
tests_unit_test_yaml_doc_LDADD = $(TEST_LIBS)
tests_unit_test_config_LDADD = $(TEST_LIBS)
tests_unit_test_config_errors_LDADD = $(TEST_LIBS)
tests_unit_test_config_roundtrip_LDADD = $(TEST_LIBS)
tests_unit_test_config_doc_LDADD = $(TEST_LIBS)
tests_mpi_test_config_bcast_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_yaml_doc tests/unit/test_config \
	tests/unit/test_config_errors tests/unit/test_config_roundtrip \
	tests/unit/test_config_doc tests/mpi/config_bcast_np2.sh
EXTRA_DIST += tests/mpi/config_bcast_np2.sh tests/fuzz/fuzz_config.c \
	tests/fuzz/config.dict
dist_doc_DATA += docs/CONFIG.md

# make config-doc: regenerate the key reference between the markers of
# docs/CONFIG.md (in the source tree) after changing the schema or a
# module's defaults; tests/unit/test_config_doc fails until then.
.PHONY: config-doc
config-doc: src/io/stdbp_config_doc$(EXEEXT)
	$(AM_V_GEN)src/io/stdbp_config_doc$(EXEEXT) > config-keys.tmp && \
	$(AWK) 'FNR == NR { keys = keys $$0 "\n"; next } \
		/<!-- BEGIN KEYS/ { print; printf "%s", keys; skip = 1; next } \
		/<!-- END KEYS/ { skip = 0 } !skip' \
		config-keys.tmp $(srcdir)/docs/CONFIG.md > config-doc.tmp && \
	mv config-doc.tmp $(srcdir)/docs/CONFIG.md && rm -f config-keys.tmp

# make fuzz-config [FUZZ_SECONDS=60]: libFuzzer on the YAML loader, --set,
# validate and the emit/load round trip. The config sources are compiled
# with clang and the fuzzer's sanitizers; the rest (the modules' defaults)
# comes from the built libstdbp.so. Needs a build without
# --enable-sanitizers (two sanitizer runtimes cannot share a process).
FUZZ_CONFIG_SRCS = $(top_srcdir)/tests/fuzz/fuzz_config.c $(top_srcdir)/src/io/yaml_doc.c \
	$(top_srcdir)/src/io/config_schema.c $(top_srcdir)/src/io/config.c \
	$(top_srcdir)/src/io/config_validate.c $(top_srcdir)/src/io/config_emit.c \
	$(top_srcdir)/src/io/config_equal.c
FUZZ_CONFIG_FLAGS = -g -O1 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(top_srcdir)/include -I$(top_srcdir)/src $(YAML_CFLAGS)
CLEANFILES += tests/fuzz/fuzz_config
.PHONY: fuzz-config
if HAVE_CLANG
if !SANITIZERS
tests/fuzz/fuzz_config: $(FUZZ_CONFIG_SRCS) $(top_srcdir)/src/io/yaml_doc.h \
		$(top_srcdir)/src/io/config_impl.h $(top_srcdir)/include/stdbp/config.h libstdbp.la
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CONFIG_FLAGS) `$(CC) --showme:compile 2>/dev/null` \
		$(FUZZ_CONFIG_SRCS) -o $@ -L.libs -lstdbp -Wl,-rpath,$(abs_top_builddir)/.libs \
		$(YAML_LIBS) -lm
fuzz-config: tests/fuzz/fuzz_config
	@$(MKDIR_P) tests/fuzz/corpus-config
	cp -f $(top_srcdir)/configs/*.yaml tests/fuzz/corpus-config/
	ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_config \
		-max_total_time=$(or $(FUZZ_SECONDS),60) -max_len=4096 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=tests/fuzz/ \
		-dict=$(top_srcdir)/tests/fuzz/config.dict tests/fuzz/corpus-config
else
fuzz-config:
	@echo "make fuzz-config needs a build configured without --enable-sanitizers" >&2; exit 1
endif
else
fuzz-config:
	@echo "make fuzz-config needs clang and its fuzzer runtime:" >&2; \
	echo "  apt-get install clang libclang-rt-14-dev, then run configure again" >&2; \
	exit 1
endif
