# src/ckpt: checkpoints and spike logs in parallel HDF5 (docs/FORMAT.md).
libstdbp_internal_la_SOURCES += %reldir%/ckpt.c %reldir%/ckpt_read.c %reldir%/ckpt_util.c \
	%reldir%/ckpt_impl.h %reldir%/spikelog.c
stdbpinclude_HEADERS += include/stdbp/ckpt.h
libstdbp_internal_la_SOURCES += %reldir%/ckpt_load.c
libstdbp_internal_la_SOURCES += %reldir%/ckpt_layout.c %reldir%/ckpt_write.h
libstdbp_internal_la_SOURCES += %reldir%/spikelog_recover.c
libstdbp_internal_la_SOURCES += %reldir%/ckpt_net.c
libstdbp_internal_la_SOURCES += %reldir%/ckpt_best.c
