# scripts/: set-up, data fetch and tools. stdbp_plot.py becomes the
# installed stdbp_plot (src/cli/local.mk); spike_raster.py is installed
# beside it; the others are distributed, not installed.
dist_pkglibexec_SCRIPTS = scripts/spike_raster.py
EXTRA_DIST += scripts/install-deps.sh scripts/test.sh scripts/quickstart.sh scripts/ablate.sh \
	scripts/stdbp_plot.py scripts/fetch-data.sh scripts/slurm-local-start.sh \
	scripts/slurm-local-stop.sh scripts/scaling_model.py scripts/mnist_to_events.py \
	scripts/surrogate_stats.py scripts/stdbp_to_sanafe.py
