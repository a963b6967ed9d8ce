# src/dist: MPI reductions and error agreement (knows no layers).
libstdbp_la_SOURCES += src/dist/reduce.c src/dist/slices.c
stdbpinclude_HEADERS += include/stdbp/dist.h

check_PROGRAMS += tests/mpi/test_dist
tests_mpi_test_dist_LDADD = $(TEST_LIBS)
TESTS += tests/mpi/dist_np2.sh tests/mpi/dist_np3.sh tests/mpi/dist_np4.sh
EXTRA_DIST += tests/mpi/dist_np2.sh tests/mpi/dist_np3.sh tests/mpi/dist_np4.sh

# Reduction cost: fixed point against a plain double allreduce.
noinst_PROGRAMS += bench/bench_reduce
bench_bench_reduce_LDADD = $(STDBP_LIBS)
