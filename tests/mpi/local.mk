# tests/mpi: TAP programs that run on several ranks; each tiny script
# (NAME_npN.sh) runs one of them through tests/mpirun.sh on N ranks.
MPI_TEST_PROGS = %reldir%/test_harness %reldir%/test_dist %reldir%/test_shard_mpi \
	%reldir%/test_config_bcast %reldir%/test_ckpt_mpi %reldir%/test_spikelog \
	%reldir%/test_shared_data %reldir%/test_node_update
check_PROGRAMS += $(MPI_TEST_PROGS)
%canon_reldir%_test_harness_LDADD = $(TEST_LIBS)
%canon_reldir%_test_dist_LDADD = $(TEST_LIBS)
%canon_reldir%_test_shard_mpi_LDADD = $(TEST_LIBS)
%canon_reldir%_test_config_bcast_LDADD = $(TEST_LIBS)
%canon_reldir%_test_ckpt_mpi_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_spikelog_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_shared_data_CPPFLAGS = $(AM_CPPFLAGS) -DSTDBP_TEST_HOOKS
%canon_reldir%_test_shared_data_LDADD = $(TEST_LIBS)
%canon_reldir%_test_node_update_CPPFLAGS = $(AM_CPPFLAGS) -DSTDBP_TEST_HOOKS
%canon_reldir%_test_node_update_LDADD = $(TEST_LIBS)

MPI_TESTS = %reldir%/harness_np2.sh %reldir%/harness_np4.sh \
	%reldir%/dist_np2.sh %reldir%/dist_np3.sh %reldir%/dist_np4.sh \
	%reldir%/shard_np2.sh %reldir%/shard_np3.sh %reldir%/config_bcast_np2.sh \
	%reldir%/ckpt_np1.sh %reldir%/ckpt_np2.sh %reldir%/ckpt_np4.sh \
	%reldir%/spikelog_np1.sh %reldir%/spikelog_np4.sh \
	%reldir%/ckpt_h5py_np2.sh %reldir%/spike_raster_np2.sh \
	%reldir%/shared_data_np1.sh %reldir%/shared_data_np3.sh %reldir%/shared_events_np3.sh \
	%reldir%/node_update_np1.sh %reldir%/node_update_np3.sh
TESTS += $(MPI_TESTS)
EXTRA_DIST += $(MPI_TESTS)
