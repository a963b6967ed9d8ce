# src/core: the neuron solver, layers, network, loss, optimisers, rng.
libstdbp_la_SOURCES += src/core/error.c
stdbpinclude_HEADERS += include/stdbp/stdbp.h include/stdbp/error.h \
	include/stdbp/rng.h include/stdbp/neuron.h include/stdbp/net.h \
	include/stdbp/loss.h include/stdbp/optim.h include/stdbp/data.h \
	include/stdbp/config.h
