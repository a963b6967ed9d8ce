# src/cli: the stdbp_* programs and what they share (config loading with
# a broadcast, the fatal-error path, the deploy phase at the end of a run).
noinst_LTLIBRARIES += libcli.la
libcli_la_SOURCES = %reldir%/cli_common.c %reldir%/cli_common.h \
	%reldir%/deploy_phase.c %reldir%/deploy_phase.h
libcli_la_SOURCES += %reldir%/cli_options.c %reldir%/cli_options.h
libcli_la_LIBADD = $(HDF5_LIBS)
# Where --hw NAME looks (cli_common.c): the installed profiles, and the
# source tree's configs/hw for a program run from the build tree.
libcli_la_CPPFLAGS = $(AM_CPPFLAGS) -DSTDBP_PKGDATADIR='"$(pkgdatadir)"' \
	-DSTDBP_BINDIR='"$(bindir)"' -DSTDBP_SRCDIR='"$(abs_top_srcdir)"'

CLI_PROGS = %reldir%/stdbp_train %reldir%/stdbp_eval %reldir%/stdbp_deploy \
	%reldir%/stdbp_export %reldir%/stdbp_sweep %reldir%/stdbp_import
bin_PROGRAMS += $(CLI_PROGS)
%canon_reldir%_stdbp_train_LDADD = libcli.la $(STDBP_LIBS)
%canon_reldir%_stdbp_eval_LDADD = libcli.la $(STDBP_LIBS)
%canon_reldir%_stdbp_deploy_LDADD = libcli.la $(STDBP_LIBS)
%canon_reldir%_stdbp_export_LDADD = libcli.la $(STDBP_LIBS) $(HDF5_LIBS)
%canon_reldir%_stdbp_sweep_SOURCES = %reldir%/stdbp_sweep.c %reldir%/sweep_local.c \
	%reldir%/sweep_local.h
%canon_reldir%_stdbp_sweep_LDADD = libcli.la $(STDBP_LIBS)
%canon_reldir%_stdbp_import_LDADD = libcli.la $(STDBP_LIBS) $(HDF5_LIBS)

# stdbp_plot: a python3 script, generated from scripts/stdbp_plot.py with
# the places to look for scripts/spike_raster.py (installed beside it in
# $(pkglibexecdir), or the source tree for an uninstalled build).
bin_SCRIPTS += %reldir%/stdbp_plot
CLEANFILES += %reldir%/stdbp_plot
%reldir%/stdbp_plot: $(srcdir)/scripts/stdbp_plot.py Makefile
	$(AM_V_GEN)$(MKDIR_P) %reldir% && \
	sed -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	    -e 's|@abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	    $(srcdir)/scripts/stdbp_plot.py > $@.tmp && \
	chmod +x $@.tmp && mv -f $@.tmp $@
