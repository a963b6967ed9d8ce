# src/sweep: hyperparameter sweep files, their points and the summary of
# a sweep's runs (docs/SLURM.md).
libstdbp_internal_la_SOURCES += %reldir%/sweep.c %reldir%/sweep_flow.c \
	%reldir%/sweep_summary.c %reldir%/sweep_impl.h
libstdbp_internal_la_SOURCES += %reldir%/sweep_point.c
libstdbp_internal_la_SOURCES += %reldir%/sweep_check.c
stdbpinclude_HEADERS += include/stdbp/sweep.h
