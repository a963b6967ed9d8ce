# src/dist: all MPI plumbing: the fixed-point reductions, parameter
# slices, broadcasts, agreement on errors, the data sets shared per node,
# the default threads per rank, and the update through each node's shared
# memory (knows no layers).
libstdbp_internal_la_SOURCES += %reldir%/reduce.c %reldir%/slices.c %reldir%/bcast.c \
	%reldir%/shared_data.c %reldir%/threads.c \
	%reldir%/window.c %reldir%/window.h %reldir%/node_update.c
stdbpinclude_HEADERS += include/stdbp/dist.h
