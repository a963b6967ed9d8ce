# tests/tools: helpers the shell tests run (a synthetic dataset writer).
check_PROGRAMS += %reldir%/gen_dataset %reldir%/gen_events
%canon_reldir%_gen_events_SOURCES = %reldir%/gen_events.c %reldir%/gen_events.h
%canon_reldir%_gen_events_LDADD = $(HDF5_LIBS)
%canon_reldir%_gen_dataset_LDADD = $(STDBP_LIBS) $(HDF5_LIBS)

# stdbp_train with the test hooks (src/util/test_hooks.h) set from the
# environment, for the integration tests that inject faults; the installed
# stdbp_train has none of this.
check_PROGRAMS += %reldir%/stdbp_train_hooked
%canon_reldir%_stdbp_train_hooked_SOURCES = src/cli/stdbp_train.c %reldir%/train_hooks.c \
	%reldir%/train_hooks.h
%canon_reldir%_stdbp_train_hooked_CPPFLAGS = $(AM_CPPFLAGS) -DSTDBP_TEST_HOOKS
%canon_reldir%_stdbp_train_hooked_LDADD = libcli.la libstdbp_internal.la
