"""stdbp from Python: the C library libstdbp through ctypes.

    import stdbp
    net = stdbp.load("runs/mnist_mlp")      # a run directory or a checkpoint
    times = net.forward(images)             # per layer: [n, size] spike times, inf = silent
    labels = net.predict(images)            # the earliest output spike, -1 if none fired
    acc = net.evaluate()                    # the test set of the run, as stdbp_eval
    m = stdbp.metrics("runs/mnist_mlp")     # metrics.h5 / metrics.csv
    s = stdbp.spikes("runs/mnist_mlp")      # spikes.h5, one moment
    r = stdbp.report("runs/mnist_mlp")      # report.json of the deploy phase
    stdbp.to_nir("runs/mnist_mlp", "mlp.nir")

Every computation (loading and verifying checkpoints, encoding, the exact
forward, classification, the NIR export) runs in the C library: one
implementation. Errors from C are raised as stdbp.StdbpError with the C
message. Needs numpy; the readers need h5py; reading a checkpoint's
stored config needs PyYAML (Debian: python3-numpy python3-h5py
python3-yaml). docs/API.md describes the package and the C API below it.
"""

import csv
import ctypes
import json
import math
import os

import numpy as np

from . import _lib
from ._lib import StdbpError

__all__ = ["load", "Net", "StdbpError", "metrics", "spikes", "report", "to_nir", "library_path"]

#: The shared library in use (see _lib for how it is found).
library_path = _lib.path

_KINDS = ("dense", "conv2d", "pool", "flatten")
_EIO = 3  # STDBP_EIO


def _b(s):
    return os.fsencode(s) if s is not None else None


def _err():
    e = _lib.Err()
    _lib.lib.stdbp_err_clear(ctypes.byref(e))
    return e


def _yaml_load(text):
    try:
        import yaml
    except ImportError as e:
        raise ImportError("stdbp: reading a checkpoint's config needs PyYAML "
                          "(Debian: apt-get install python3-yaml)") from e
    return yaml.safe_load(text) or {}


class _CDataset:
    """A stdbp_dataset: loaded by the C library, or wrapping numpy pixels."""

    def __init__(self, ds, keep=None, owned=True):
        self.ds, self._keep, self._owned = ds, keep, owned

    @classmethod
    def open(cls, name, data_dir, split):
        ds, e = _lib.Dataset(), _err()
        _lib.check(_lib.lib.stdbp_dataset_open(_b(name), _b(data_dir), _b(split),
                                               ctypes.byref(ds), ctypes.byref(e)), e)
        return cls(ds)

    @classmethod
    def wrap(cls, images, dim):
        x = np.asarray(images)
        if x.size == 0 or x.size % dim:
            raise ValueError("stdbp: images must have %d values each (got shape %s)"
                             % (dim, x.shape))
        x = x.reshape(-1, dim)
        ds = _lib.Dataset()
        ds.n, ds.dim = x.shape[0], dim
        ds.shape = _lib.Shape(dim, 1, 1)
        if x.dtype == np.uint8:
            x = np.ascontiguousarray(x)
            ds.u8 = x.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
        else:
            x = np.ascontiguousarray(x, dtype=np.float32)
            if x.size and not (np.all(x >= 0) and np.all(x <= 1)):
                raise ValueError("stdbp: float images must lie in [0, 1] (uint8 is scaled by "
                                 "1/255)")
            ds.f32 = x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        return cls(ds, keep=x, owned=False)

    @property
    def n(self):
        return self.ds.n

    def labels(self):
        return np.ctypeslib.as_array(self.ds.labels, (self.ds.n,)).copy()

    def images(self):
        s = self.ds.shape
        shape = (self.ds.n, s.c, s.h, s.w)
        if self.ds.u8:
            return np.ctypeslib.as_array(self.ds.u8, (self.ds.n * self.ds.dim,)).reshape(shape).copy()
        return np.ctypeslib.as_array(self.ds.f32, (self.ds.n * self.ds.dim,)).reshape(shape).copy()

    def __del__(self):
        if self._owned and self.ds is not None:
            _lib.lib.stdbp_dataset_free(ctypes.byref(self.ds))
            self.ds = None


class Net:
    """A trained network from a checkpoint (stdbp.load). Read-only."""

    def __init__(self, path):
        net, e = ctypes.c_void_p(), _err()
        st = _lib.TrainState()
        used = ctypes.create_string_buffer(4096)
        _lib.check(_lib.lib.stdbp_ckpt_load_net(_b(os.fspath(path)), ctypes.byref(net), None,
                                                ctypes.byref(st), used, len(used),
                                                ctypes.byref(e)), e)
        self._net = net
        self._ws = None
        #: the checkpoint file read (the newest good one of a run directory)
        self.path = os.fsdecode(used.value)
        self.step = int(st.step)
        self.epoch = int(st.epoch)
        text = ctypes.c_void_p()
        _lib.check(_lib.lib.stdbp_ckpt_read_config(_b(self.path), ctypes.byref(text),
                                                   ctypes.byref(e)), e)
        try:
            #: the stored config, YAML text and as a dict
            self.config_yaml = ctypes.string_at(text).decode()
        finally:
            _lib.libc.free(text)
        self.config = _yaml_load(self.config_yaml)
        enc = self.config.get("encoding", {})
        self._enc = _lib.Encoding(float(enc.get("t_max", 1.0)), int(bool(enc.get("zero_silent", 1))),
                                  int(bool(enc.get("normalise", 0))), 1.0, float("inf"), 0, 0)
        ws, e = ctypes.c_void_p(), _err()
        _lib.check(_lib.lib.stdbp_ws_create(self._net, ctypes.byref(ws), ctypes.byref(e)), e)
        self._ws = ws
        self.n_layers = _lib.lib.stdbp_net_num_layers(self._net)
        self.input_size = _lib.lib.stdbp_net_input_size(self._net)
        self.output_size = _lib.lib.stdbp_net_output_size(self._net)
        self._infos = [_lib.lib.stdbp_net_layer(self._net, i) for i in range(self.n_layers)]

    def close(self):
        """Free the C network now (else when the object is collected)."""
        if getattr(self, "_ws", None):
            _lib.lib.stdbp_ws_destroy(ctypes.byref(self._ws))
            self._ws = None
        if getattr(self, "_net", None):
            _lib.lib.stdbp_net_destroy(ctypes.byref(self._net))
            self._net = None

    __del__ = close

    def _live(self):
        if not self._net:
            raise ValueError("stdbp: the network was closed")

    @property
    def layers(self):
        """One dict per layer: kind, in/out shape (c, h, w), description."""
        out = []
        for info in self._infos:
            buf = ctypes.create_string_buffer(128)
            _lib.lib.stdbp_layer_describe(ctypes.byref(info), buf, len(buf))
            out.append({"kind": _KINDS[info.kind], "name": buf.value.decode(),
                        "in": (info.in_.c, info.in_.h, info.in_.w),
                        "out": (info.out.c, info.out.h, info.out.w),
                        "params": int(info.param_count)})
        return out

    @property
    def input_shape(self):
        i = self._infos[0].in_
        return (i.c, i.h, i.w)

    def weights(self):
        """Each layer's weights, a copy, in the checkpoint's layout (dense
        [in][out], conv2d [c_in][k_y][k_x][c_out]); None for pool and
        flatten."""
        self._live()
        n = _lib.lib.stdbp_net_num_params(self._net)
        p = np.ctypeslib.as_array(_lib.lib.stdbp_net_params(self._net), (n,)) if n else None
        out = []
        for info in self._infos:
            if info.param_count == 0:
                out.append(None)
                continue
            w = p[info.param_offset:info.param_offset + info.param_count].copy()
            if info.kind == 0:
                w = w.reshape(info.in_.c * info.in_.h * info.in_.w, -1)
            else:
                w = w.reshape(info.in_.c, info.kernel, info.kernel, info.out.c)
            out.append(w)
        return out

    def _run(self, ds, n, want_layers, want_input=False):
        """Encode and forward samples 0..n-1 of ds (a _CDataset)."""
        self._live()
        lib = _lib.lib
        sizes = [i.out.c * i.out.h * i.out.w for i in self._infos]
        layers = [np.empty((n, sizes[l])) for l in want_layers]
        inputs = np.empty((n, self.input_size)) if want_input else None
        pred = np.empty(n, dtype=np.int64)
        buf = np.empty(self.input_size)
        bptr = buf.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        enc, dsp = ctypes.byref(self._enc), ctypes.byref(ds.ds)
        for i in range(n):
            lib.stdbp_encode(enc, dsp, i, bptr)
            out = lib.stdbp_net_forward(self._net, self._ws, bptr)
            pred[i] = lib.stdbp_classify(out, self.output_size)
            if want_input:
                inputs[i] = buf
            for k, l in enumerate(want_layers):
                t = lib.stdbp_ws_layer_times(self._ws, l)
                layers[k][i] = np.ctypeslib.as_array(t, (sizes[l],))
        return pred, layers, inputs

    def _wrap(self, images):
        return _CDataset.wrap(images, self.input_size)

    def encode(self, images):
        """The input spike times of images ([n, input size]; inf = silent),
        by the run's latency encoding (stdbp_encode)."""
        ds = self._wrap(images)
        return self._run(ds, ds.n, [], want_input=True)[2]

    def forward(self, images):
        """Run images (uint8, scaled by 1/255, or floats in [0, 1]; [n, ...]
        with input-size values each, or one image) through the exact
        forward. Returns one array per layer, [n, size of its output]
        (channel-major), of spike times: inf where a neuron did not fire,
        as spikes.h5 stores them (its /<moment>/layerNN)."""
        ds = self._wrap(images)
        return self._run(ds, ds.n, list(range(self.n_layers)))[1]

    def predict(self, images):
        """The class of each image: the earliest output spike (ties to the
        lowest index), -1 when no output fired."""
        ds = self._wrap(images)
        return self._run(ds, ds.n, [])[0]

    def test_set(self, data_dir=None, split="test"):
        """(images [n, c, h, w], labels) of the data set the run's config
        names (data.test for split "test", data.train for "train"),
        loaded by the C library (data_dir: default the config's data.dir)."""
        ds = self._open(data_dir, split)
        return ds.images(), ds.labels()

    def _open(self, data_dir, split):
        data = self.config.get("data", {})
        name = data.get("test") if split == "test" else data.get("train")
        name = name or data.get("train", "mnist")
        ds = _CDataset.open(name, data_dir if data_dir is not None else data.get("dir", ""), split)
        e = _err()
        _lib.check(_lib.lib.stdbp_dataset_check_labels(ctypes.byref(ds.ds), self.output_size,
                                                       ctypes.byref(e)), e)
        return ds

    def evaluate(self, data_dir=None, n=None):
        """Accuracy on the run's test set (the first data.test_samples
        images, all when 0; or the first n), computed as stdbp_eval does."""
        ds = self._open(data_dir, "test")
        if n is None:
            n = int(self.config.get("data", {}).get("test_samples", 0) or 0)
        n = ds.n if n <= 0 or n > ds.n else n
        pred = self._run(ds, n, [])[0]
        return float(np.count_nonzero(pred == ds.labels()[:n])) / n if n else 0.0

    def to_nir(self, out_path, profile="exact"):
        """Export as a NIR graph (stdbp_nir_write; docs/NIR.md). profile:
        "exact" (Affine/Conv2d -> I -> IF) or "portable" (CubaLIF, for
        the nirtorch-based importers)."""
        self._live()
        if profile not in _lib.NIR_PROFILES:
            raise ValueError("profile must be one of %s (got %r)"
                             % (", ".join(sorted(_lib.NIR_PROFILES)), profile))
        e, shape = _err(), _lib.Shape()
        digest = ctypes.create_string_buffer(128)
        _lib.check(_lib.lib.stdbp_ckpt_read_info(_b(self.path), ctypes.byref(shape), digest,
                                                 len(digest), ctypes.byref(e)), e)
        src = _lib.NirSource(_b(self.path), digest.value, 1, self.step,
                             self.config_yaml.encode(), ctypes.pointer(self._enc),
                             _lib.NIR_PROFILES[profile])
        _lib.check(_lib.lib.stdbp_nir_write(_b(os.fspath(out_path)), self._net,
                                            ctypes.byref(src), ctypes.byref(e)), e)
        return os.fspath(out_path)

    def __repr__(self):
        return "<stdbp.Net %s, step %d: %s>" % (
            self.path, self.step, " ".join(l["name"] for l in self.layers))


def load(path):
    """The network of a checkpoint file, or of the newest good checkpoint
    of a run directory. StdbpError (with the C message) when it cannot."""
    return Net(path)


def to_nir(path, out_path, profile="exact"):
    """Export the checkpoint (or run directory) path as a NIR file."""
    net = load(path)
    try:
        return net.to_nir(out_path, profile)
    finally:
        net.close()


def _run_file(run_dir, name):
    p = os.fspath(run_dir)
    return os.path.join(p, name) if os.path.isdir(p) else p


def _need(path):
    if not os.path.exists(path):
        raise StdbpError(_EIO, _lib.lib.stdbp_status_name(_EIO).decode(),
                         "%s: no such file" % path)


def metrics(run_dir, as_frame=None):
    """The per-epoch metrics of a run: metrics.h5 (or metrics.csv) as a
    dict of numpy arrays in file order (epoch, step, lr, train_loss, ...),
    or a pandas DataFrame when pandas is installed (as_frame=None) or
    asked for (as_frame=True). Epochs count from 1, also for a file of an
    older stdbp (which counted them from 0; docs/FORMAT.md)."""
    cols, i = [], 0
    while True:
        name = _lib.lib.stdbp_metric_name(i)
        if not name:
            break
        cols.append(name.decode())
        i += 1
    h5 = csvp = _run_file(run_dir, "metrics.h5")
    if os.path.isdir(os.fspath(run_dir)):
        csvp = _run_file(run_dir, "metrics.csv")
    elif not h5.endswith(".h5"):
        h5 = None
    if h5 is None or not os.path.exists(h5):
        _need(csvp)
        with open(csvp, newline="") as f:
            rows = list(csv.reader(f))
        head, body = rows[0], rows[1:]
        out = {c: np.array([float(r[k]) for r in body]) for k, c in enumerate(head)}
        if "epoch" in out and "silent_outputs" not in out:  # older: from 0
            out["epoch"] = out["epoch"] + 1
    else:
        import h5py
        _need(h5)
        with h5py.File(h5, "r") as f:
            names = [c for c in cols if c in f] + sorted(k for k in f if k not in cols)
            out = {c: f[c][...] for c in names}
            if "epoch" in out and "format_version" not in f.attrs:  # version 1: from 0
                out["epoch"] = out["epoch"] + 1
    if as_frame is not False:
        try:
            import pandas
            return pandas.DataFrame(out)
        except ImportError:
            if as_frame:
                raise
    return out


def spikes(run_dir, moment="end"):
    """A spike log (run_dir/spikes.h5, or the file itself): for moment
    ("end", "epoch-0003", ...), a dict {"input": [n, size], "layer00": ...,
    "labels": [n]} in the file's layer order, exactly as stored (inf =
    silent). moment=None: {moment: that dict} for every moment."""
    import h5py
    p = _run_file(run_dir, "spikes.h5")
    _need(p)
    with h5py.File(p, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f.attrs["layer_names"]]

        def one(g):
            d = {n: g[n][...] for n in names if n in g}
            if "labels" in g:
                d["labels"] = g["labels"][...]
            return d
        if moment is None:
            return {m: one(f[m]) for m in f}
        if moment not in f:
            raise KeyError("stdbp: %s has no moment %r (it has: %s)"
                           % (p, moment, ", ".join(f.keys())))
        return one(f[moment])


def _h5_dict(g):
    d = {"attrs": {k: v for k, v in g.attrs.items()}}
    for k, v in g.items():
        d[k] = _h5_dict(v) if hasattr(v, "keys") else v[()]
    return d


def report(run_dir, h5=False):
    """The deploy report of a run (stdbp_deploy, or the deploy phase of
    stdbp_train): report.json as a dict, or with h5=True report.h5 as a
    nested dict ({"attrs": {...}, "bits_8": {...}}, datasets as numpy
    arrays), exactly as stored."""
    if h5:
        import h5py
        p = _run_file(run_dir, "report.h5")
        _need(p)
        with h5py.File(p, "r") as f:
            return _h5_dict(f)
    p = _run_file(run_dir, "report.json")
    _need(p)
    with open(p) as f:
        return json.load(f, parse_constant=lambda c: {"NaN": math.nan, "Infinity": math.inf,
                                                       "-Infinity": -math.inf}[c])
