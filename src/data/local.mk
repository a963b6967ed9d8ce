# src/data: IDX and HDF5 datasets, latency encoding, splits, per-epoch
# orders, rank slices and augmentation (docs/DATA.md).
libstdbp_internal_la_SOURCES += %reldir%/idx.c %reldir%/idx_impl.h %reldir%/dataset.c \
	%reldir%/h5data.c %reldir%/open.c %reldir%/encode.c %reldir%/shard.c \
	%reldir%/augment.c %reldir%/augment_affine.c %reldir%/events.c %reldir%/events_check.c \
	%reldir%/events_impl.h %reldir%/evh5.c %reldir%/nmnist.c
stdbpinclude_HEADERS += include/stdbp/data.h
