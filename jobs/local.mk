# jobs: SLURM batch scripts, installed to $(pkgdatadir)/jobs (docs/SLURM.md).
jobsdir = $(pkgdatadir)/jobs
dist_jobs_SCRIPTS = jobs/train.sbatch jobs/sweep.sbatch
# The example sweep sits with the configs; its guide with the docs.
dist_configs_DATA += configs/sweep_example.yaml
dist_doc_DATA += docs/SLURM.md
