# src/core: the ReL-PSP neuron, layers, network, workspace, initialisation,
# loss, optimisers, schedules, the weight-sum penalty and random numbers.
libstdbp_internal_la_SOURCES += %reldir%/relpsp.c %reldir%/relpsp.h %reldir%/relpsp_fwd.c %reldir%/relpsp_bwd.c \
	%reldir%/relpsp_isa.c %reldir%/relpsp_isa.h %reldir%/chunks.h %reldir%/sort.c %reldir%/sort.h \
	%reldir%/grad_fixed.c %reldir%/grad_fixed.h %reldir%/layer.h %reldir%/net_impl.h \
	%reldir%/dense.c %reldir%/conv2d.c %reldir%/pool.c %reldir%/flatten.c \
	%reldir%/net.c %reldir%/ws.c %reldir%/net_init.c \
	%reldir%/rng.c %reldir%/loss.c %reldir%/optim.c %reldir%/optim_impl.h \
	%reldir%/optim_layerwise.c %reldir%/schedule.c %reldir%/penalty.c
stdbpinclude_HEADERS += include/stdbp/stdbp.h include/stdbp/rng.h include/stdbp/neuron.h \
	include/stdbp/net.h include/stdbp/loss.h include/stdbp/optim.h
