# tests/tools: helpers the shell tests run (a synthetic dataset writer).
check_PROGRAMS += %reldir%/gen_dataset
%canon_reldir%_gen_dataset_LDADD = $(STDBP_LIBS) $(HDF5_LIBS)
