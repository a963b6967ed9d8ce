"""The shared library libstdbp through ctypes: finding it, the structs
and prototypes the package uses, and C errors as Python exceptions.

Lookup order: the environment variable STDBP_LIBRARY (a file, or a
directory holding libstdbp.so.1), the libdir recorded when the package
was installed (_paths.LIBDIR), then the dynamic linker's usual search
(ctypes.util.find_library, LD_LIBRARY_PATH, ld.so.cache)."""

import ctypes
import ctypes.util
import os

SONAME = "libstdbp.so.1"


class StdbpError(Exception):
    """An error reported by libstdbp: .code is the stdbp_status value,
    .status its name ("I/O error", ...), .message the C message."""

    def __init__(self, code, status, message):
        super().__init__(message or status)
        self.code = code
        self.status = status
        self.message = message


class Err(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("msg", ctypes.c_char * 1024)]


class Shape(ctypes.Structure):
    _fields_ = [("c", ctypes.c_int), ("h", ctypes.c_int), ("w", ctypes.c_int)]


class LayerInfo(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("in_", Shape), ("out", Shape),
                ("kernel", ctypes.c_int), ("stride", ctypes.c_int), ("padding", ctypes.c_int),
                ("param_offset", ctypes.c_size_t), ("param_count", ctypes.c_size_t),
                ("fan_in", ctypes.c_int)]


class Dataset(ctypes.Structure):
    _fields_ = [("n", ctypes.c_size_t), ("shape", Shape), ("dim", ctypes.c_size_t),
                ("u8", ctypes.POINTER(ctypes.c_uint8)), ("f32", ctypes.POINTER(ctypes.c_float)),
                ("labels", ctypes.POINTER(ctypes.c_int32)), ("n_classes", ctypes.c_int),
                ("ev_off", ctypes.POINTER(ctypes.c_int64)),
                ("ev_t", ctypes.POINTER(ctypes.c_double)),
                ("ev_ch", ctypes.POINTER(ctypes.c_uint32)),
                ("source", ctypes.c_char * 4096)]


class Encoding(ctypes.Structure):
    _fields_ = [("t_max", ctypes.c_double), ("zero_silent", ctypes.c_int),
                ("normalise", ctypes.c_int), ("ev_time_scale", ctypes.c_double),
                ("ev_window", ctypes.c_double), ("ev_first_k", ctypes.c_long),
                ("ev_ttfs", ctypes.c_int)]


class TrainState(ctypes.Structure):
    _fields_ = [("step", ctypes.c_uint64), ("epoch", ctypes.c_uint64),
                ("batch", ctypes.c_uint64), ("seed", ctypes.c_uint64),
                ("rng", ctypes.c_uint64 * 4), ("best_val_acc", ctypes.c_double),
                ("best_epoch", ctypes.c_uint64), ("epoch_loss", ctypes.c_int64),
                ("epoch_correct", ctypes.c_int64), ("epoch_samples", ctypes.c_int64),
                ("wall_seconds", ctypes.c_double)]


class NirSource(ctypes.Structure):
    _fields_ = [("checkpoint", ctypes.c_char_p), ("digest", ctypes.c_char_p),
                ("has_step", ctypes.c_int), ("step", ctypes.c_uint64),
                ("config_yaml", ctypes.c_char_p), ("encoding", ctypes.POINTER(Encoding)),
                ("profile", ctypes.c_int)]  # stdbp_nir_profile

NIR_PROFILES = {"exact": 0, "portable": 1}  # STDBP_NIR_EXACT, STDBP_NIR_PORTABLE


def _candidates():
    env = os.environ.get("STDBP_LIBRARY")
    if env:
        yield os.path.join(env, SONAME) if os.path.isdir(env) else env
        return  # an explicit choice: no fallback to another build
    try:
        from . import _paths
        yield os.path.join(_paths.LIBDIR, SONAME)
    except ImportError:  # a source tree, not installed
        pass
    found = ctypes.util.find_library("stdbp")
    if found:
        yield found
    yield SONAME


def _load():
    tried = []
    for cand in _candidates():
        if os.path.isabs(cand) and not os.path.exists(cand):
            tried.append(cand + " (no such file)")
            continue
        try:
            return ctypes.CDLL(cand), cand
        except OSError as e:
            tried.append("%s (%s)" % (cand, e))
    raise ImportError("stdbp: cannot load the shared library libstdbp; tried: %s. Install stdbp "
                      "(make install) or set STDBP_LIBRARY to the path of %s"
                      % ("; ".join(tried), SONAME))


lib, path = _load()

_P = ctypes.POINTER
_c = ctypes
_status = _c.c_int
_net = _c.c_void_p
_ws = _c.c_void_p
_protos = {
    "stdbp_status_name": (_c.c_char_p, [_c.c_int]),
    "stdbp_err_clear": (None, [_P(Err)]),
    "stdbp_ckpt_load_net": (_status, [_c.c_char_p, _P(_net), _c.c_void_p, _P(TrainState),
                                      _c.c_char_p, _c.c_size_t, _P(Err)]),
    "stdbp_ckpt_read_config": (_status, [_c.c_char_p, _P(_c.c_void_p), _P(Err)]),
    "stdbp_ckpt_read_info": (_status, [_c.c_char_p, _P(Shape), _c.c_char_p, _c.c_size_t,
                                       _P(Err)]),
    "stdbp_net_destroy": (None, [_P(_net)]),
    "stdbp_net_num_layers": (_c.c_size_t, [_net]),
    "stdbp_net_layer": (LayerInfo, [_net, _c.c_size_t]),
    "stdbp_net_input_size": (_c.c_size_t, [_net]),
    "stdbp_net_output_size": (_c.c_size_t, [_net]),
    "stdbp_net_num_params": (_c.c_size_t, [_net]),
    "stdbp_net_params": (_P(_c.c_double), [_net]),
    "stdbp_layer_describe": (_c.c_char_p, [_P(LayerInfo), _c.c_char_p, _c.c_size_t]),
    "stdbp_ws_create": (_status, [_net, _P(_ws), _P(Err)]),
    "stdbp_ws_destroy": (None, [_P(_ws)]),
    "stdbp_net_forward": (_P(_c.c_double), [_net, _ws, _P(_c.c_double)]),
    "stdbp_ws_layer_times": (_P(_c.c_double), [_ws, _c.c_size_t]),
    "stdbp_classify": (_c.c_int, [_P(_c.c_double), _c.c_size_t]),
    "stdbp_encode": (None, [_P(Encoding), _P(Dataset), _c.c_size_t, _P(_c.c_double)]),
    "stdbp_dataset_open": (_status, [_c.c_char_p, _c.c_char_p, _c.c_char_p, _P(Dataset),
                                     _P(Err)]),
    "stdbp_dataset_free": (None, [_P(Dataset)]),
    "stdbp_dataset_check_labels": (_status, [_P(Dataset), _c.c_size_t, _P(Err)]),
    "stdbp_metric_name": (_c.c_char_p, [_c.c_int]),
    "stdbp_nir_write": (_status, [_c.c_char_p, _net, _P(NirSource), _P(Err)]),
}
for _name, (_res, _args) in _protos.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

libc = ctypes.CDLL(None)
libc.free.argtypes = [_c.c_void_p]
libc.free.restype = None


def check(status, err):
    """Raise StdbpError for a failed call (status != 0) with err's message."""
    if status != 0:
        name = lib.stdbp_status_name(status).decode()
        raise StdbpError(status, name, err.msg.decode(errors="replace"))
