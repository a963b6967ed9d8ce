# src/io: metrics and progress (config and checkpoints have their own
# fragments: config.mk, ckpt.mk).
libstdbp_la_SOURCES += src/io/metrics.c src/io/metrics.h src/io/progress.c src/io/progress.h \
	src/io/fsutil.c src/io/fsutil.h
