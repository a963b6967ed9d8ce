# jobs: SLURM batch scripts, installed to $(pkgdatadir)/jobs (docs/SLURM.md).
jobsdir = $(pkgdatadir)/jobs
dist_jobs_SCRIPTS = jobs/train.sbatch jobs/sweep.sbatch
