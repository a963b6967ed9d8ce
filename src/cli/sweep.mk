# src/cli/sweep.mk: stdbp_sweep (hyperparameter sweeps), its unit test and
# the SLURM integration target `make check-slurm` (not part of `make check`).
noinst_LTLIBRARIES += libsweep.la
libsweep_la_SOURCES = src/cli/sweep.c src/cli/sweep.h src/cli/sweep_flow.c \
	src/cli/sweep_summary.c src/cli/sweep_summary.h

bin_PROGRAMS += src/cli/stdbp_sweep
src_cli_stdbp_sweep_SOURCES = src/cli/stdbp_sweep.c
src_cli_stdbp_sweep_LDADD = libsweep.la libcli.la $(STDBP_LIBS)

check_PROGRAMS += tests/unit/test_sweep
tests_unit_test_sweep_LDADD = libsweep.la $(TEST_LIBS)
TESTS += tests/unit/test_sweep

# make check-slurm: a real one-node SLURM cluster under a temporary
# directory (scripts/slurm-local-start.sh), train.sbatch, preemption with
# requeue and resume, and a sweep as a job array (tests/slurm/*.sh, TAP).
# Needs root and slurmctld, slurmd, slurm-client and munge installed.
SLURM_TESTS = tests/slurm/slurm_jobs.sh
EXTRA_DIST += $(SLURM_TESTS) \
	scripts/slurm-local-start.sh scripts/slurm-local-stop.sh

check-slurm: src/cli/stdbp_train$(EXEEXT) src/cli/stdbp_sweep$(EXEEXT) \
		tests/tools/gen_dataset$(EXEEXT)
	@fail=0; for t in $(SLURM_TESTS); do \
	  echo "== $$t"; \
	  top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  MPIEXEC='$(MPIEXEC)' $(SHELL) $(abs_top_srcdir)/$$t || fail=1; \
	done; test $$fail = 0
.PHONY: check-slurm
