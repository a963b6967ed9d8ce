# make check-slurm: a real one-node SLURM cluster under a temporary
# directory (scripts/slurm-local-start.sh), train.sbatch, preemption with
# requeue and resume, and a sweep as a job array (tests/slurm/*.sh, TAP).
# Not part of `make check`. Needs root and slurmctld, slurmd, slurm-client
# and munge installed.
SLURM_TESTS = %reldir%/slurm_jobs.sh
EXTRA_DIST += $(SLURM_TESTS)

check-slurm: src/cli/stdbp_train$(EXEEXT) src/cli/stdbp_sweep$(EXEEXT) \
		tests/tools/gen_dataset$(EXEEXT) tests/tools/stdbp_train_hooked$(EXEEXT)
	@fail=0; for t in $(SLURM_TESTS); do \
	  echo "== $$t"; \
	  top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  MPIEXEC='$(MPIEXEC)' $(SHELL) $(abs_top_srcdir)/$$t || fail=1; \
	done; test $$fail = 0
.PHONY: check-slurm
