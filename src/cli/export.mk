# src/cli/export.mk: interoperability and plots. stdbp_export writes a
# checkpoint as a NIR graph (src/io/nir.c, docs/NIR.md); stdbp_plot draws
# a run's learning curves and a spike raster.
libstdbp_la_SOURCES += src/io/nir.c src/io/nir.h

bin_PROGRAMS += src/cli/stdbp_export
src_cli_stdbp_export_SOURCES = src/cli/stdbp_export.c
src_cli_stdbp_export_LDADD = libcli.la $(STDBP_LIBS) $(HDF5_LIBS)

# stdbp_plot: a python3 script, generated from scripts/stdbp_plot.py with
# the places to look for scripts/spike_raster.py (installed beside it in
# $(pkglibexecdir), or the source tree for an uninstalled build).
bin_SCRIPTS += src/cli/stdbp_plot
pkglibexec_SCRIPTS = scripts/spike_raster.py
CLEANFILES += src/cli/stdbp_plot
EXTRA_DIST += scripts/stdbp_plot.py
src/cli/stdbp_plot: $(srcdir)/scripts/stdbp_plot.py Makefile
	$(AM_V_GEN)$(MKDIR_P) src/cli && \
	sed -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	    -e 's|@abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	    $(srcdir)/scripts/stdbp_plot.py > $@.tmp && \
	chmod +x $@.tmp && mv -f $@.tmp $@

# Tests: export and read back, the NIR graph simulated clock-driven
# against the exact forward (in memory, and from a trained checkpoint),
# and the plots of a tiny run.
check_PROGRAMS += tests/unit/test_nir tests/unit/test_nir_ckpt
tests_unit_test_nir_SOURCES = tests/unit/test_nir.c tests/unit/test_nir_util.c \
	tests/unit/test_nir_util.h
tests_unit_test_nir_LDADD = $(TEST_LIBS)
tests_unit_test_nir_ckpt_SOURCES = tests/unit/test_nir_ckpt.c tests/unit/test_nir_util.c \
	tests/unit/test_nir_util.h
tests_unit_test_nir_ckpt_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
TESTS += tests/unit/test_nir tests/integration/export.sh tests/integration/plot.sh
EXTRA_DIST += tests/integration/export.sh tests/integration/plot.sh
dist_doc_DATA += docs/NIR.md
