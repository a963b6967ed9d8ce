# src/cli: the stdbp_* programs.
noinst_LTLIBRARIES += libcli.la
libcli_la_SOURCES = src/cli/cli_common.c src/cli/cli_common.h \
	src/cli/deploy_phase.c src/cli/deploy_phase.h
libcli_la_LIBADD = $(HDF5_LIBS)

bin_PROGRAMS += src/cli/stdbp_train
src_cli_stdbp_train_SOURCES = src/cli/stdbp_train.c
src_cli_stdbp_train_LDADD = libcli.la $(STDBP_LIBS)

bin_PROGRAMS += src/cli/stdbp_eval
src_cli_stdbp_eval_SOURCES = src/cli/stdbp_eval.c
src_cli_stdbp_eval_LDADD = libcli.la $(STDBP_LIBS)

bin_PROGRAMS += src/cli/stdbp_deploy
src_cli_stdbp_deploy_SOURCES = src/cli/stdbp_deploy.c
src_cli_stdbp_deploy_LDADD = libcli.la $(STDBP_LIBS)
