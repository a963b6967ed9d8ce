# bench: benchmark programs (not installed). See docs/PERFORMANCE.md.
noinst_PROGRAMS += bench/bench_core
bench_bench_core_SOURCES = bench/bench_core.c
bench_bench_core_LDADD = $(STDBP_LIBS) $(ZLIB_LIBS) -lm
