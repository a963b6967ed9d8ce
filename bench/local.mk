# bench: benchmark programs (not installed). See docs/PERFORMANCE.md.
noinst_PROGRAMS += bench/bench_core bench/bench_reduce bench/bench_ckpt bench/bench_comm \
	bench/bench_peak
bench_bench_core_LDADD = $(STDBP_LIBS) $(ZLIB_LIBS) -lm
# bench_peak: the vector adds and multiplies one core does per second, the
# floor that docs/PERFORMANCE.md puts the kernels against.
# Reduction cost: fixed point against a plain double allreduce.
bench_bench_reduce_LDADD = $(STDBP_LIBS)
# Checkpoint write/read time and size.
bench_bench_ckpt_LDADD = $(STDBP_LIBS)
# The collectives of a training step, per message size, and the scripts
# that measure them and the training steps (docs/SCALING.md).
bench_bench_comm_LDADD = $(STDBP_LIBS)
EXTRA_DIST += bench/comm_measure.sh bench/comm_netns.sh bench/coll_algorithms.sh

# make bench: one table of the core and end-to-end rates (bench/bench.sh;
# BENCH_QUICK=1 for a shorter run).
EXTRA_DIST += bench/bench.sh
# Resident memory per rank while training (docs/PERFORMANCE.md).
EXTRA_DIST += bench/rss_per_rank.sh
.PHONY: bench
bench: bench/bench_core$(EXEEXT) src/cli/stdbp_train$(EXEEXT)
	srcdir='$(abs_top_srcdir)' builddir='$(abs_top_builddir)' MPIEXEC='$(MPIEXEC)' \
	  $(SHELL) $(srcdir)/bench/bench.sh
