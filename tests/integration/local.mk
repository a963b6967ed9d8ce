# tests/integration: the programs end to end (shell, TAP): training on
# several rank counts, resume after signals and kills, 64 ranks, NIR
# export and the plots.
INTEGRATION_TESTS = %reldir%/train_ranks.sh %reldir%/resume.sh %reldir%/resume_safety.sh \
	%reldir%/ckpt_faults.sh %reldir%/spikelog_faults.sh %reldir%/ckpt_full_disk.sh \
	%reldir%/train_64.sh %reldir%/export.sh %reldir%/nir_interop.sh %reldir%/plot.sh \
	%reldir%/inputs.sh %reldir%/train_threads.sh %reldir%/signals_load.sh \
	%reldir%/sweep_exit.sh %reldir%/shared_data.sh %reldir%/scaling.sh \
	%reldir%/ranks_config.sh %reldir%/train_layerwise.sh %reldir%/deploy_hw.sh \
	%reldir%/sweep_run.sh %reldir%/install_deps.sh %reldir%/spack_recipe.sh \
	%reldir%/docs_links.sh \
	%reldir%/programs.sh %reldir%/eval_json.sh %reldir%/progress.sh \
	%reldir%/train_events.sh %reldir%/digest_isa.sh %reldir%/signals_eval.sh \
	%reldir%/script_help.sh %reldir%/best_ckpt.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS)
# The installed API: the C examples through pkg-config, the Python package.
PY_API_TESTS = %reldir%/examples.sh %reldir%/python.sh
TESTS += $(PY_API_TESTS)
EXTRA_DIST += $(PY_API_TESTS) %reldir%/install_fixture.sh tests/python/tap.py \
	tests/python/test_stdbp.py
# make check-nonroot: the non-root build of docs/INSTALL.md from the
# release tarball (make dist), as an unprivileged user, against "existing"
# MPI and HDF5 installations (tests/integration/nonroot_build.sh, TAP).
# Not part of `make check` (it builds everything again: 2-3 minutes);
# .ci/run runs it.
EXTRA_DIST += %reldir%/nonroot_build.sh
check-nonroot: tests/tools/gen_dataset$(EXEEXT)
	$(MAKE) $(AM_MAKEFLAGS) dist-gzip
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  TARBALL='$(abs_top_builddir)/$(distdir).tar.gz' MPIEXEC='$(MPIEXEC)' \
	  $(SHELL) $(abs_top_srcdir)/%reldir%/nonroot_build.sh
.PHONY: check-nonroot
# The Spack recipe that spack_recipe.sh checks (docs/INSTALL.md).
EXTRA_DIST += packaging/spack/repo.yaml packaging/spack/stdbp/package.py
# The outputs: files of an older stdbp (fixtures/old-run), the snippets
# of docs/FORMAT.md.
FORMAT_TESTS = %reldir%/format_compat.sh %reldir%/format_snippets.sh
TESTS += $(FORMAT_TESTS)
EXTRA_DIST += $(FORMAT_TESTS) %reldir%/fixtures
