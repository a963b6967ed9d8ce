# src/hw: quantisation, core mapping, accelerator simulation, report.
libstdbp_la_SOURCES += src/hw/hw_impl.h src/hw/hw_report.h \
	src/hw/quant.c src/hw/profile.c src/hw/map.c src/hw/sim.c \
	src/hw/report.c src/hw/report_h5.c src/hw/deploy.c
stdbpinclude_HEADERS += include/stdbp/hw.h
# The default profile is compiled in (deploy.hw empty means it), generated
# from the shipped file so that the two cannot drift apart.
nodist_libstdbp_la_SOURCES = src/hw/profile_default.c
CLEANFILES += src/hw/profile_default.c
src/hw/profile_default.c: $(top_srcdir)/configs/hw/default.yaml
	$(AM_V_GEN)$(MKDIR_P) src/hw && { \
	  echo '/* Generated from configs/hw/default.yaml by src/hw/local.mk. */'; \
	  echo '#include "hw/hw_impl.h"'; \
	  echo 'const char hw_default_profile_yaml[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' \
	    $(top_srcdir)/configs/hw/default.yaml; \
	  echo '    ;'; } > $@-t && mv $@-t $@
# Accelerator profiles, installed beside the recipes; the model's manual.
hwconfigsdir = $(pkgdatadir)/configs/hw
dist_hwconfigs_DATA = configs/hw/default.yaml configs/hw/loihi_like.yaml \
	configs/hw/truenorth_like.yaml
dist_doc_DATA += docs/HARDWARE.md

# Tests: hand-computed cases, software model against the simulator,
# profiles and their errors, the whole deployment.
check_PROGRAMS += tests/unit/test_hw_quant tests/unit/test_hw_profile \
	tests/unit/test_hw_sim tests/unit/test_hw_equiv tests/unit/test_hw_deploy
tests_unit_test_hw_quant_LDADD = $(TEST_LIBS)
tests_unit_test_hw_profile_LDADD = $(TEST_LIBS)
tests_unit_test_hw_sim_LDADD = $(TEST_LIBS)
tests_unit_test_hw_equiv_LDADD = $(TEST_LIBS)
tests_unit_test_hw_deploy_LDADD = $(TEST_LIBS) $(HDF5_LIBS)
tests_unit_test_hw_quant_SOURCES = tests/unit/test_hw_quant.c tests/unit/test_hw_util.h
tests_unit_test_hw_profile_SOURCES = tests/unit/test_hw_profile.c tests/unit/test_hw_util.h
tests_unit_test_hw_sim_SOURCES = tests/unit/test_hw_sim.c tests/unit/test_hw_util.h
tests_unit_test_hw_equiv_SOURCES = tests/unit/test_hw_equiv.c tests/unit/test_hw_util.h
tests_unit_test_hw_deploy_SOURCES = tests/unit/test_hw_deploy.c tests/unit/test_hw_util.h
TESTS += tests/unit/test_hw_quant tests/unit/test_hw_profile \
	tests/unit/test_hw_sim tests/unit/test_hw_equiv tests/unit/test_hw_deploy
