# src/hw: quantisation, core mapping, accelerator simulation, report.
libstdbp_internal_la_SOURCES += %reldir%/hw_impl.h %reldir%/hw_report.h \
	%reldir%/quant.c %reldir%/profile.c %reldir%/map.c %reldir%/sim.c \
	%reldir%/report.c %reldir%/report_h5.c %reldir%/deploy.c \
	%reldir%/spike_err.c %reldir%/sensitivity.c
libstdbp_internal_la_SOURCES += %reldir%/qforward.c
libstdbp_internal_la_SOURCES += %reldir%/hw_sim.h %reldir%/sim_run.c
stdbpinclude_HEADERS += include/stdbp/hw.h
# The default profile is compiled in (deploy.hw empty means it), generated
# from the shipped file so that the two cannot drift apart.
nodist_libstdbp_internal_la_SOURCES = %reldir%/profile_default.c
CLEANFILES += %reldir%/profile_default.c
%reldir%/profile_default.c: $(top_srcdir)/configs/hw/default.yaml $(top_srcdir)/%reldir%/local.mk
	$(AM_V_GEN)$(MKDIR_P) %reldir% && { \
	  echo '/* Generated from configs/hw/default.yaml by src/hw/local.mk. */'; \
	  echo '#include "hw/hw_impl.h"'; \
	  echo 'const char stdbp_hw_default_profile_yaml[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' \
	    $(top_srcdir)/configs/hw/default.yaml; \
	  echo '    ;'; } > $@-t && mv $@-t $@
