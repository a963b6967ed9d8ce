# make check-multinode: 2 nodes x 2 ranks across network namespaces on this
# machine (scripts/multinode-local.sh), weights bitwise equal to 1 rank
# (tests/multinode/*.sh, TAP). Not part of `make check`. Needs root and
# iproute2; skipped otherwise.
MULTINODE_TESTS = %reldir%/multinode.sh
EXTRA_DIST += $(MULTINODE_TESTS) scripts/multinode-local.sh scripts/netns-agent

check-multinode: src/cli/stdbp_train$(EXEEXT) tests/tools/gen_dataset$(EXEEXT)
	@fail=0; for t in $(MULTINODE_TESTS); do \
	  echo "== $$t"; \
	  top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  MPIEXEC='$(MPIEXEC)' bash $(abs_top_srcdir)/$$t || fail=1; \
	done; test $$fail = 0
.PHONY: check-multinode
