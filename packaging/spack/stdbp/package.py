# Spack recipe for stdbp (docs/INSTALL.md): spiking networks trained with
# exact STDBP, data-parallel over MPI, with checkpoints in parallel HDF5.
#
#   spack repo add /path/to/stdbp/packaging/spack
#   spack install stdbp ^openmpi
#
# Written against Spack's package API of the 0.2x releases (spack.package,
# AutotoolsPackage, version/variant/depends_on, configure_args); checked by
# tests/integration/spack_recipe.sh with stand-ins for those names, not run
# through Spack itself.
import os

from spack.package import *  # noqa: F401,F403


def _source_repository():
    """The git repository to build from: $STDBP_GIT (a site's mirror, a
    URL), else the clone that holds this recipe (packaging/spack/stdbp/ in
    it)."""
    url = os.environ.get("STDBP_GIT")
    if url:
        return url
    here = os.path.dirname(os.path.abspath(__file__))
    return "file://" + os.path.normpath(os.path.join(here, "..", "..", ".."))


class Stdbp(AutotoolsPackage):
    """Spiking neural networks of ReL-PSP neurons trained with exact
    spike-timing backpropagation (STDBP), data-parallel over MPI, with
    checkpoints and spike logs in parallel HDF5, an accelerator deployment
    report and NIR export."""

    homepage = _source_repository()
    git = _source_repository()

    # The development branch; a checkout has no configure script, so the
    # autotools below run first (autoreconf).
    version("main", branch="main")

    variant("openmp", default=True, description="threads inside each MPI rank (OpenMP)")
    variant(
        "python",
        default=False,
        description="Python modules for stdbp_plot and the Python package at run time",
    )

    depends_on("mpi")
    depends_on("hdf5+mpi")
    depends_on("libyaml")
    depends_on("zlib-api")
    depends_on("pkgconfig", type="build")
    depends_on("autoconf", type="build", when="@main")
    depends_on("automake", type="build", when="@main")
    depends_on("libtool", type="build", when="@main")
    depends_on("m4", type="build", when="@main")

    depends_on("python@3.7:", type="run", when="+python")
    depends_on("py-numpy", type="run", when="+python")
    depends_on("py-h5py", type="run", when="+python")
    depends_on("py-matplotlib", type="run", when="+python")
    depends_on("py-pyyaml", type="run", when="+python")

    def configure_args(self):
        spec = self.spec
        args = [
            # The spec's HDF5, not whatever pkg-config or h5pcc finds first.
            "--with-hdf5={0}".format(spec["hdf5"].prefix),
            # The MPI compiler wrapper of the spec's MPI.
            "MPICC={0}".format(spec["mpi"].mpicc),
        ]
        args.extend(self.enable_or_disable("openmp"))
        return args
