# bench: benchmark programs (not installed). See docs/PERFORMANCE.md.
noinst_PROGRAMS += bench/bench_core bench/bench_reduce bench/bench_ckpt
bench_bench_core_LDADD = $(STDBP_LIBS) $(ZLIB_LIBS) -lm
# Reduction cost: fixed point against a plain double allreduce.
bench_bench_reduce_LDADD = $(STDBP_LIBS)
# Checkpoint write/read time and size.
bench_bench_ckpt_LDADD = $(STDBP_LIBS)

# make bench: one table of the core and end-to-end rates (bench/bench.sh;
# BENCH_QUICK=1 for a shorter run).
EXTRA_DIST += bench/bench.sh
# Resident memory per rank while training (docs/PERFORMANCE.md).
EXTRA_DIST += bench/rss_per_rank.sh
.PHONY: bench
bench: bench/bench_core$(EXEEXT) src/cli/stdbp_train$(EXEEXT)
	srcdir='$(abs_top_srcdir)' builddir='$(abs_top_builddir)' MPIEXEC='$(MPIEXEC)' \
	  $(SHELL) $(srcdir)/bench/bench.sh
