# src/config: the run configuration (schema, defaults, load, --set,
# validate, emit, compare) and the key reference generator.
libstdbp_internal_la_SOURCES += %reldir%/config_impl.h %reldir%/config_schema.c %reldir%/config.c \
	%reldir%/config_validate.c %reldir%/config_emit.c %reldir%/config_equal.c \
	%reldir%/config_doc.c
libstdbp_internal_la_SOURCES += %reldir%/config_check.c
libstdbp_internal_la_SOURCES += %reldir%/config_format.c
libstdbp_internal_la_SOURCES += %reldir%/config_diff.c
stdbpinclude_HEADERS += include/stdbp/config.h

# Prints the key reference of docs/CONFIG.md from the schema.
noinst_PROGRAMS += %reldir%/stdbp_config_doc
%canon_reldir%_stdbp_config_doc_SOURCES = %reldir%/config_doc_main.c
%canon_reldir%_stdbp_config_doc_LDADD = libstdbp_internal.la

# make config-doc: regenerate the key reference between the markers of
# docs/CONFIG.md (in the source tree) after changing the schema or a
# module's defaults; tests/unit/test_config_doc fails until then.
.PHONY: config-doc
config-doc: %reldir%/stdbp_config_doc$(EXEEXT)
	$(AM_V_GEN)%reldir%/stdbp_config_doc$(EXEEXT) > config-keys.tmp && \
	$(AWK) 'FNR == NR { keys = keys $$0 "\n"; next } \
		/<!-- BEGIN KEYS/ { print; printf "%s", keys; skip = 1; next } \
		/<!-- END KEYS/ { skip = 0 } !skip' \
		config-keys.tmp $(srcdir)/docs/CONFIG.md > config-doc.tmp && \
	mv config-doc.tmp $(srcdir)/docs/CONFIG.md && rm -f config-keys.tmp
