# src/core/optim.mk: random numbers, loss, optimisers, schedules and the
# weight-sum penalty, with their unit tests.
libstdbp_la_SOURCES += src/core/rng.c src/core/loss.c src/core/optim.c \
	src/core/schedule.c src/core/penalty.c

OPTIM_TESTS = tests/unit/test_rng tests/unit/test_loss tests/unit/test_optim \
	tests/unit/test_schedule tests/unit/test_penalty
check_PROGRAMS += $(OPTIM_TESTS)
TESTS += $(OPTIM_TESTS)
tests_unit_test_rng_LDADD = $(TEST_LIBS)
tests_unit_test_loss_LDADD = $(TEST_LIBS)
tests_unit_test_optim_LDADD = $(TEST_LIBS)
tests_unit_test_schedule_LDADD = $(TEST_LIBS)
tests_unit_test_penalty_LDADD = $(TEST_LIBS)
