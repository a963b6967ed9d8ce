# src/util: utilities every module may use (errors, files, SHA-256, the
# HDF5 helper layer, the YAML document tree). Knows no other module.
libstdbp_internal_la_SOURCES += %reldir%/error.c %reldir%/log.c %reldir%/log.h %reldir%/fsutil.c %reldir%/fsutil.h \
	%reldir%/sha256.c %reldir%/sha256.h %reldir%/h5util.c %reldir%/h5util.h \
	%reldir%/yaml_doc.c %reldir%/yaml_doc.h
libstdbp_internal_la_SOURCES += %reldir%/strbuf.c %reldir%/strbuf.h
libstdbp_internal_la_SOURCES += %reldir%/yaml_get.c %reldir%/yaml_msg.c %reldir%/yaml_impl.h
stdbpinclude_HEADERS += include/stdbp/error.h
libstdbp_internal_la_SOURCES += %reldir%/test_hooks.c %reldir%/test_hooks.h
