# python/: the package stdbp, ctypes over the installed libstdbp (no
# compiled extension). Installed into $(pythondir)/stdbp by Automake's
# Python support when configure found Python 3 (AM_PATH_PYTHON; set
# PYTHON=/path/to/python3 to choose it). _paths.py records $(libdir), where
# the package looks for the library after $STDBP_LIBRARY.
STDBP_PY_SOURCES = %reldir%/stdbp/__init__.py %reldir%/stdbp/_lib.py
EXTRA_DIST += $(STDBP_PY_SOURCES) %reldir%/stdbp/_paths.py.in
if HAVE_PYTHON
stdbp_pydir = $(pythondir)/stdbp
stdbp_py_PYTHON = $(STDBP_PY_SOURCES)
nodist_stdbp_py_PYTHON = %reldir%/stdbp/_paths.py
endif
%reldir%/stdbp/_paths.py: $(srcdir)/%reldir%/stdbp/_paths.py.in Makefile
	$(AM_V_GEN)$(MKDIR_P) %reldir%/stdbp && \
	sed -e 's|@libdir[@]|$(libdir)|g' -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	  $(srcdir)/%reldir%/stdbp/_paths.py.in > $@.tmp && mv $@.tmp $@
CLEANFILES += %reldir%/stdbp/_paths.py
# Built with `make`, so that the installed package always has it.
noinst_DATA = %reldir%/stdbp/_paths.py
