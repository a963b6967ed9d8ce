# src/core/net.mk: the ReL-PSP neuron, layers, network, workspace, init.
libstdbp_la_SOURCES += src/core/relpsp.c src/core/relpsp.h src/core/sort.c src/core/sort.h \
	src/core/grad_fixed.c src/core/grad_fixed.h src/core/layer.h src/core/net_impl.h \
	src/core/dense.c src/core/conv2d.c src/core/pool.c src/core/flatten.c \
	src/core/net.c src/core/ws.c src/core/net_init.c

# Tests: each also links the private headers' code through the library.
NET_TESTS = tests/unit/test_relpsp tests/unit/test_layers tests/unit/test_net \
	tests/unit/test_net_init tests/unit/test_grad tests/unit/test_grad_fixed
check_PROGRAMS += $(NET_TESTS)
TESTS += $(NET_TESTS)
tests_unit_test_relpsp_LDADD = $(TEST_LIBS)
tests_unit_test_layers_LDADD = $(TEST_LIBS)
tests_unit_test_net_LDADD = $(TEST_LIBS)
tests_unit_test_net_init_LDADD = $(TEST_LIBS)
tests_unit_test_grad_LDADD = $(TEST_LIBS)
tests_unit_test_grad_fixed_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/unit/test_net_util.h
