#!/bin/sh
# packaging/spack (docs/INSTALL.md, "Spack"): the recipe compiles, and loaded
# with stand-ins for Spack's package API (spack.package: AutotoolsPackage and
# the directives version, variant, depends_on, which record their calls) it
# defines class Stdbp(AutotoolsPackage) with a git source, the main version,
# the variants openmp (on) and python, the dependencies mpi, hdf5+mpi,
# libyaml, zlib-api, the autotools for git builds, and configure_args that
# pass the spec's HDF5 prefix, MPI compiler and OpenMP choice. Spack itself
# is not run.
. "$top_srcdir/tests/tap/tap.sh"
py=
for p in python3 /usr/bin/python3; do
  if command -v "$p" > /dev/null 2>&1; then py=$p; break; fi
done
[ -n "$py" ] || skip_all "no python3"
plan 3
recipe=$top_srcdir/packaging/spack/stdbp/package.py
tap_tmpdir; tmp=$tap_tmp

"$py" -c "import sys, py_compile; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)" \
  "$recipe" "$tmp/package.pyc"
ok $? "package.py compiles"
grep -q "^  subdirectory: ''$" "$top_srcdir/packaging/spack/repo.yaml" &&
  grep -q "^  namespace: stdbp$" "$top_srcdir/packaging/spack/repo.yaml"
ok $? "repo.yaml: namespace stdbp, flat layout (stdbp/package.py beside it)"

mkdir -p "$tmp/spack"
: > "$tmp/spack/__init__.py"
cat > "$tmp/spack/package.py" <<'PY'
# Stand-ins for the part of Spack's package API the recipe uses.
calls = []


def _directive(name):
    def record(*args, **kwargs):
        calls.append((name, args, kwargs))
    return record


version = _directive("version")
variant = _directive("variant")
depends_on = _directive("depends_on")
__all__ = ["AutotoolsPackage", "version", "variant", "depends_on"]


class AutotoolsPackage:
    def enable_or_disable(self, name):
        on = self.spec.satisfies("+" + name)
        return ["--{0}-{1}".format("enable" if on else "disable", name)]
PY
cat > "$tmp/check.py" <<'PY'
import importlib.util
import sys

import spack.package as sp

spec_ = importlib.util.spec_from_file_location("stdbp_recipe", sys.argv[1])
mod = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(mod)
bad = []
cls = getattr(mod, "Stdbp", None)
if cls is None or not issubclass(cls, sp.AutotoolsPackage):
    sys.exit("no class Stdbp(AutotoolsPackage)")
if not str(getattr(cls, "git", "")).strip():
    bad.append("no git source")
vers = {a[0]: k for n, a, k in sp.calls if n == "version"}
if vers.get("main", {}).get("branch") != "main":
    bad.append("no version main from the branch main: %r" % vers)
variants = {a[0]: k for n, a, k in sp.calls if n == "variant"}
if variants.get("openmp", {}).get("default") is not True:
    bad.append("variant openmp, default on: %r" % variants.get("openmp"))
if "python" not in variants or not variants["python"].get("description"):
    bad.append("variant python with a description")
deps = [(a[0], k.get("type"), k.get("when")) for n, a, k in sp.calls if n == "depends_on"]
names = [d[0] for d in deps]
for want in ("mpi", "hdf5+mpi", "libyaml", "zlib-api", "pkgconfig"):
    if want not in names:
        bad.append("depends_on(%r) missing" % want)
for tool in ("autoconf", "automake", "libtool", "m4"):
    if (tool, "build", "@main") not in deps:
        bad.append("depends_on(%r, type='build', when='@main') missing" % tool)
for py in ("py-numpy", "py-h5py", "py-matplotlib", "py-pyyaml"):
    if (py, "run", "+python") not in deps:
        bad.append("depends_on(%r, type='run', when='+python') missing" % py)


class Dep:
    def __init__(self, prefix, mpicc=None):
        self.prefix = prefix
        self.mpicc = mpicc


class Spec:
    def __init__(self, variants):
        self.variants = variants

    def __getitem__(self, name):
        return {"hdf5": Dep("/opt/hdf5"), "mpi": Dep("/opt/ompi", "/opt/ompi/bin/mpicc")}[name]

    def satisfies(self, s):
        return s in self.variants


for variants, omp in (("+openmp", "--enable-openmp"), ("~openmp", "--disable-openmp")):
    pkg = cls.__new__(cls)
    pkg.spec = Spec(variants)
    args = pkg.configure_args()
    want = ["--with-hdf5=/opt/hdf5", "MPICC=/opt/ompi/bin/mpicc", omp]
    if sorted(args) != sorted(want):
        bad.append("configure_args for %s: %r, want %r" % (variants, args, want))
if bad:
    sys.exit("; ".join(bad))
PY
PYTHONPATH="$tmp" "$py" "$tmp/check.py" "$recipe" 2> "$tmp/err"; s=$?
ok $s "with stand-ins for spack.package: class Stdbp(AutotoolsPackage), versions, variants, dependencies, configure_args"
[ $s -eq 0 ] || sed 's/^/#   /' "$tmp/err" >&2
tap_done
