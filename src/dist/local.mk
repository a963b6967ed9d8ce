# src/dist: all MPI plumbing: the fixed-point reductions, parameter
# slices, broadcasts, agreement on errors, the data sets shared per node
# and the default threads per rank (knows no layers).
libstdbp_internal_la_SOURCES += %reldir%/reduce.c %reldir%/slices.c %reldir%/bcast.c \
	%reldir%/shared_data.c %reldir%/threads.c
stdbpinclude_HEADERS += include/stdbp/dist.h
