# The TAP library and the test harness. Serial tests are programs run
# directly; MPI tests are tiny scripts (tests/mpi/*.sh) that run a program
# through tests/mpirun.sh on N ranks. Both speak TAP to tap-driver.sh.
# The tests themselves are listed by the fragments of tests/*/.
check_LTLIBRARIES += libtap.la
libtap_la_SOURCES = tests/tap/basic.c tests/tap/basic.h \
	tests/tap/tap_mpi.c tests/tap/tap_mpi.h
libtap_la_SOURCES += tests/tap/ckpt_fixture.c tests/tap/ckpt_fixture.h

TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)

# Every test sees where the sources and the build are, and the MPI launcher.
# Open MPI refuses root unless told (CI runs as root). Leak checking is off
# under MPI: Open MPI's own start-up allocations are reported otherwise.
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	MPIEXEC='$(MPIEXEC)'; export MPIEXEC; \
	STDBP_SANITIZERS='$(enable_sanitizers)'; export STDBP_SANITIZERS; \
	STDBP_OPENMP='$(stdbp_openmp)'; export STDBP_OPENMP; \
	OMP_NUM_THREADS=1; export OMP_NUM_THREADS; \
	OMPI_ALLOW_RUN_AS_ROOT=1; export OMPI_ALLOW_RUN_AS_ROOT; \
	OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM; \
	OMPI_MCA_btl_vader_single_copy_mechanism=none; export OMPI_MCA_btl_vader_single_copy_mechanism; \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=0; export ASAN_OPTIONS; \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; export UBSAN_OPTIONS;

EXTRA_DIST += tests/mpirun.sh tests/tap/tap.sh tests/data

# The build itself: the generated version header, the shared library's
# exported symbols against the public headers, and the layering and
# formatting checks (scripts/check-includes.sh, scripts/format-check.sh)
# failing on planted violations.
check_PROGRAMS += tests/unit/test_version
tests_unit_test_version_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSTDBP_TEST_PACKAGE_VERSION='"$(PACKAGE_VERSION)"'
tests_unit_test_version_LDADD = libtap.la
BUILD_TESTS = tests/unit/test_exports.sh tests/integration/layering.sh \
	tests/integration/format.sh
TESTS += tests/unit/test_version $(BUILD_TESTS)
EXTRA_DIST += $(BUILD_TESTS)

include tests/unit/local.mk
include tests/mpi/local.mk
include tests/integration/local.mk
include tests/tools/local.mk
include tests/fuzz/local.mk
include tests/slurm/local.mk
