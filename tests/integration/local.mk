# tests/integration: the programs end to end (shell, TAP): training on
# several rank counts, resume after signals and kills, 64 ranks, NIR
# export and the plots.
INTEGRATION_TESTS = %reldir%/train_ranks.sh %reldir%/resume.sh %reldir%/resume_safety.sh \
	%reldir%/ckpt_faults.sh %reldir%/spikelog_faults.sh %reldir%/ckpt_full_disk.sh \
	%reldir%/train_64.sh %reldir%/export.sh %reldir%/nir_interop.sh %reldir%/plot.sh \
	%reldir%/inputs.sh %reldir%/train_threads.sh %reldir%/signals_load.sh \
	%reldir%/sweep_exit.sh %reldir%/shared_data.sh %reldir%/scaling.sh \
	%reldir%/ranks_config.sh %reldir%/train_layerwise.sh %reldir%/deploy_hw.sh \
	%reldir%/train_events.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS)
# The installed API: the C examples through pkg-config, the Python package.
PY_API_TESTS = %reldir%/examples.sh %reldir%/python.sh
TESTS += $(PY_API_TESTS)
EXTRA_DIST += $(PY_API_TESTS) %reldir%/install_fixture.sh tests/python/tap.py \
	tests/python/test_stdbp.py
