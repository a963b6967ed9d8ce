# src/dist: all MPI plumbing: the fixed-point reductions, parameter
# slices, broadcasts and agreement on errors (knows no layers).
libstdbp_internal_la_SOURCES += %reldir%/reduce.c %reldir%/slices.c %reldir%/bcast.c
stdbpinclude_HEADERS += include/stdbp/dist.h
