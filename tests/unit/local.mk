# tests/unit: one serial TAP program per topic. Tests that write or
# damage HDF5 or gzip fixtures themselves also link HDF5 or zlib.
UNIT_TESTS = \
	%reldir%/test_error \
	%reldir%/test_relpsp %reldir%/test_relpsp_isa %reldir%/test_layers %reldir%/test_net %reldir%/test_net_init \
	%reldir%/test_grad %reldir%/test_grad_fixed %reldir%/test_events \
	%reldir%/test_rng %reldir%/test_loss %reldir%/test_optim %reldir%/test_optim_layerwise %reldir%/test_schedule \
	%reldir%/test_penalty \
	%reldir%/test_idx %reldir%/test_h5data %reldir%/test_encode %reldir%/test_shard \
	%reldir%/test_dataset %reldir%/test_augment %reldir%/test_events_data \
	%reldir%/test_yaml_doc %reldir%/test_config %reldir%/test_config_errors \
	%reldir%/test_config_roundtrip %reldir%/test_config_doc \
	%reldir%/test_ckpt_digest %reldir%/test_ckpt %reldir%/test_fuzz_replay \
	%reldir%/test_hw_quant %reldir%/test_hw_profile %reldir%/test_hw_sim \
	%reldir%/test_hw_equiv %reldir%/test_hw_deploy \
	%reldir%/test_nir \
	%reldir%/test_sweep \
	%reldir%/test_strbuf %reldir%/test_inputs %reldir%/test_data_stop \
	%reldir%/test_paths %reldir%/test_progress
# test_nir_ckpt checks a NIR file written from a trained checkpoint; the
# export integration test runs it on the files it makes.
check_PROGRAMS += $(UNIT_TESTS) %reldir%/test_nir_ckpt
TESTS += $(UNIT_TESTS) %reldir%/test_dataset_fetch.sh
EXTRA_DIST += %reldir%/test_dataset_fetch.sh %reldir%/test_net_util.h \
	%reldir%/shipped_configs.h

# Every unit test links the TAP library and stdbp; these need more.
%canon_reldir%_test_error_LDADD = $(TEST_LIBS)
%canon_reldir%_test_relpsp_LDADD = $(TEST_LIBS)
%canon_reldir%_test_relpsp_isa_LDADD = $(TEST_LIBS)
%canon_reldir%_test_layers_LDADD = $(TEST_LIBS)
%canon_reldir%_test_net_LDADD = $(TEST_LIBS)
%canon_reldir%_test_net_init_LDADD = $(TEST_LIBS)
%canon_reldir%_test_grad_LDADD = $(TEST_LIBS)
%canon_reldir%_test_grad_fixed_LDADD = $(TEST_LIBS)
%canon_reldir%_test_events_LDADD = $(TEST_LIBS)
%canon_reldir%_test_rng_LDADD = $(TEST_LIBS)
%canon_reldir%_test_loss_LDADD = $(TEST_LIBS)
%canon_reldir%_test_optim_LDADD = $(TEST_LIBS)
%canon_reldir%_test_optim_layerwise_LDADD = $(TEST_LIBS)
%canon_reldir%_test_schedule_LDADD = $(TEST_LIBS)
%canon_reldir%_test_penalty_LDADD = $(TEST_LIBS)
%canon_reldir%_test_idx_LDADD = $(TEST_LIBS) $(ZLIB_LIBS)
%canon_reldir%_test_h5data_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_events_data_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_encode_LDADD = $(TEST_LIBS)
%canon_reldir%_test_shard_LDADD = $(TEST_LIBS)
%canon_reldir%_test_dataset_LDADD = $(TEST_LIBS) $(ZLIB_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_augment_LDADD = $(TEST_LIBS)
%canon_reldir%_test_yaml_doc_LDADD = $(TEST_LIBS)
%canon_reldir%_test_config_LDADD = $(TEST_LIBS)
%canon_reldir%_test_config_errors_LDADD = $(TEST_LIBS)
%canon_reldir%_test_config_roundtrip_LDADD = $(TEST_LIBS)
%canon_reldir%_test_config_doc_LDADD = $(TEST_LIBS)
%canon_reldir%_test_ckpt_digest_LDADD = $(TEST_LIBS)
%canon_reldir%_test_ckpt_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
# stdbp_ckpt_load_net (no MPI), for examples/ and python/
UNIT_TESTS += %reldir%/test_ckpt_net
%canon_reldir%_test_ckpt_net_LDADD = $(TEST_LIBS)
# best.h5 (stdbp_ckpt_mark_best): links, copies, pruning, listing
UNIT_TESTS += %reldir%/test_ckpt_best
%canon_reldir%_test_ckpt_best_LDADD = $(TEST_LIBS)
# replays tests/fuzz/seeds-* and regress-* (the fuzzers' finds)
%canon_reldir%_test_fuzz_replay_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_hw_quant_SOURCES = %reldir%/test_hw_quant.c %reldir%/test_hw_util.h
%canon_reldir%_test_hw_quant_LDADD = $(TEST_LIBS)
%canon_reldir%_test_hw_profile_SOURCES = %reldir%/test_hw_profile.c %reldir%/test_hw_util.h
%canon_reldir%_test_hw_profile_LDADD = $(TEST_LIBS)
%canon_reldir%_test_hw_sim_SOURCES = %reldir%/test_hw_sim.c %reldir%/test_hw_util.h
%canon_reldir%_test_hw_sim_LDADD = $(TEST_LIBS)
%canon_reldir%_test_hw_equiv_SOURCES = %reldir%/test_hw_equiv.c %reldir%/test_hw_util.h
%canon_reldir%_test_hw_equiv_LDADD = $(TEST_LIBS)
%canon_reldir%_test_hw_deploy_SOURCES = %reldir%/test_hw_deploy.c %reldir%/test_hw_util.h
%canon_reldir%_test_hw_deploy_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_nir_SOURCES = %reldir%/test_nir.c %reldir%/test_nir_util.c \
	%reldir%/test_nir_util.h
%canon_reldir%_test_nir_LDADD = $(TEST_LIBS)
%canon_reldir%_test_nir_ckpt_SOURCES = %reldir%/test_nir_ckpt.c %reldir%/test_nir_util.c \
	%reldir%/test_nir_util.h
%canon_reldir%_test_nir_ckpt_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_sweep_LDADD = $(TEST_LIBS)
%canon_reldir%_test_strbuf_LDADD = $(TEST_LIBS)
%canon_reldir%_test_inputs_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
%canon_reldir%_test_data_stop_LDADD = $(TEST_LIBS) $(HDF5_LIBS) $(ZLIB_LIBS)
%canon_reldir%_test_paths_LDADD = $(TEST_LIBS)
%canon_reldir%_test_progress_LDADD = $(TEST_LIBS)
