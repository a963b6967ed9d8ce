# src/export: a trained network as a NIR graph, and its reader
# (docs/NIR.md).
libstdbp_internal_la_SOURCES += %reldir%/nir_write.c
libstdbp_internal_la_SOURCES += %reldir%/nir_read.c
libstdbp_internal_la_SOURCES += %reldir%/nir_graph.c
stdbpinclude_HEADERS += include/stdbp/nir.h
