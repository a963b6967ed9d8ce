# src/dist: all MPI plumbing: the fixed-point reductions, parameter
# slices, broadcasts, agreement on errors and the data sets shared per
# node (knows no layers).
libstdbp_internal_la_SOURCES += %reldir%/reduce.c %reldir%/slices.c %reldir%/bcast.c \
	%reldir%/shared_data.c
stdbpinclude_HEADERS += include/stdbp/dist.h
