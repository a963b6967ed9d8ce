# src/train: the data-parallel training loop, evaluation, signals, spike
# logging during training, per-epoch metrics and progress output.
libstdbp_internal_la_SOURCES += %reldir%/trainer.c %reldir%/trainer_impl.h %reldir%/evaluate.c \
	%reldir%/evaluate.h %reldir%/signals.c %reldir%/spikes.c %reldir%/metrics.c \
	%reldir%/metrics.h %reldir%/progress.c %reldir%/progress.h
stdbpinclude_HEADERS += include/stdbp/train.h
libstdbp_internal_la_SOURCES += %reldir%/trainer_setup.c
libstdbp_internal_la_SOURCES += %reldir%/trainer_step.c
libstdbp_internal_la_SOURCES += %reldir%/trainer_run.c
libstdbp_internal_la_SOURCES += %reldir%/run_lock.c
libstdbp_internal_la_SOURCES += %reldir%/diagnostics.c
