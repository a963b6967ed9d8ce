"""The Python package stdbp, installed into a scratch prefix, against a
run trained by stdbp_train (tests/integration/python.sh sets it up and
passes the paths in the environment): the same accuracy as stdbp_eval,
spike times equal to the spike log's bit for bit, readers that return
what the files hold, clear exceptions for bad paths."""

import json
import math
import os
import sys

import h5py
import numpy as np

import tap

E = os.environ
RUN, CKPT, DATA = E["STDBP_TEST_RUN"], E["STDBP_TEST_CKPT"], E["STDBP_TEST_DATA"]
TMP, LIBDIR, PYDIR = E["STDBP_TEST_TMP"], E["STDBP_TEST_LIBDIR"], E["STDBP_TEST_PYDIR"]
EVAL_ACC, EVAL_N = E["STDBP_TEST_EVAL"].split()  # "87.50%" "128"

import stdbp  # noqa: E402  (after the environment is read)

net = None


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_import():
    """import stdbp: the installed package and the installed library"""
    assert os.path.dirname(os.path.dirname(stdbp.__file__)) == PYDIR, stdbp.__file__
    assert os.path.realpath(stdbp.library_path).startswith(os.path.realpath(LIBDIR)), \
        stdbp.library_path


def test_load():
    """stdbp.load(run_dir): the newest checkpoint, its layers and step"""
    global net
    net = stdbp.load(RUN)
    assert net.path == CKPT, (net.path, CKPT)
    with h5py.File(CKPT, "r") as f:
        step = int(f["train"].attrs["step"])
        nw = len(f["weights"])
    assert net.step == step, (net.step, step)
    assert net.n_layers == len(net.layers) and net.n_layers >= 2
    assert sum(w is not None for w in net.weights()) == nw
    assert "dense" in repr(net)
    again = stdbp.load(CKPT)
    assert again.path == CKPT and again.step == net.step
    again.close()


def test_weights():
    """Net.weights() equals the checkpoint's /weights datasets"""
    with h5py.File(CKPT, "r") as f:
        stored = [f["weights"][k][...] for k in sorted(f["weights"])]
    mine = [w for w in net.weights() if w is not None]
    assert len(stored) == len(mine)
    for a, b in zip(stored, mine):
        assert same_bits(a, b), (a.shape, b.shape)


def test_accuracy():
    """Net.evaluate() gives stdbp_eval's accuracy on the same samples"""
    acc = net.evaluate(data_dir=DATA)
    n = int(net.config["data"]["test_samples"]) or len(net.test_set(DATA)[1])
    got = "%.2f%%" % (100 * acc)
    assert (got, str(n)) == (EVAL_ACC, EVAL_N), ((got, n), (EVAL_ACC, EVAL_N))
    images, labels = net.test_set(DATA)
    pred = net.predict(images[:n])
    assert pred.dtype.kind == "i" and pred.shape == (n,)
    assert abs(np.mean(pred == labels[:n]) - acc) < 1e-12


def test_spikes_bitwise():
    """Net.forward/encode on the logged samples equal spikes.h5 bit for bit"""
    log = stdbp.spikes(RUN, "end")
    labels = log["labels"]
    n = len(labels)
    images, all_labels = net.test_set(DATA)
    assert np.array_equal(all_labels[:n], labels)
    assert same_bits(net.encode(images[:n]), log["input"])
    times = net.forward(images[:n])
    assert len(times) == net.n_layers
    for l, t in enumerate(times):
        assert same_bits(t, log["layer%02d" % l]), "layer %d differs" % l
    assert np.isinf(times[0]).any() or np.isfinite(times[0]).all()
    # One image alone, in its stored shape, gives the same row.
    one = net.forward(images[0])
    assert all(same_bits(a[0:1], b) for a, b in zip(times, one))


def test_predict_is_earliest():
    """predict is the earliest output spike, -1 when none fired"""
    images, _ = net.test_set(DATA)
    out = net.forward(images[:32])[-1]
    pred = net.predict(images[:32])
    for row, p in zip(out, pred):
        if np.isinf(row).all():
            assert p == -1
        else:
            assert p == int(np.argmin(row))


def test_spikes_reader():
    """stdbp.spikes(run, None) returns every moment as stored"""
    got = stdbp.spikes(RUN, None)
    with h5py.File(os.path.join(RUN, "spikes.h5"), "r") as f:
        assert sorted(got) == sorted(f.keys())
        for m, g in f.items():
            assert sorted(got[m]) == sorted(g.keys())
            for k in g:
                assert same_bits(got[m][k], g[k][...]), (m, k)
    try:
        stdbp.spikes(RUN, "no-such-moment")
    except KeyError as e:
        assert "no-such-moment" in str(e)
    else:
        raise AssertionError("no KeyError for a missing moment")


def test_metrics_reader():
    """stdbp.metrics returns metrics.h5's columns, in file order"""
    m = stdbp.metrics(RUN, as_frame=False)
    with h5py.File(os.path.join(RUN, "metrics.h5"), "r") as f:
        assert set(m) == set(f.keys())
        for k in f:
            assert same_bits(m[k], f[k][...]), k
    assert list(m)[:3] == ["epoch", "step", "lr"], list(m)
    assert len(m["epoch"]) >= 1
    c = stdbp.metrics(os.path.join(RUN, "metrics.csv"), as_frame=False)
    assert set(c) >= {"epoch", "test_acc"} and len(c["epoch"]) == len(m["epoch"])
    assert np.allclose(c["test_acc"], m["test_acc"], equal_nan=True)


def test_metrics_older_files():
    """stdbp.metrics numbers an older stdbp's epochs from 1 too"""
    old = os.path.join(E["top_srcdir"], "tests", "integration", "fixtures", "old-run")
    for path in (old, os.path.join(old, "metrics.csv")):
        m = stdbp.metrics(path, as_frame=False)
        assert list(m["epoch"]) == [1], (path, m["epoch"])
        assert list(m["step"]) == [1], (path, m["step"])


def test_report_reader():
    """stdbp.report returns report.json and report.h5 as stored"""
    if not os.path.exists(os.path.join(RUN, "report.json")):
        raise tap.Skip("the run wrote no deploy report")
    with open(os.path.join(RUN, "report.json")) as f:
        want = json.load(f)
    got = stdbp.report(RUN)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    h = stdbp.report(RUN, h5=True)
    with h5py.File(os.path.join(RUN, "report.h5"), "r") as f:
        assert set(h) - {"attrs"} == set(f.keys())
        assert set(h["attrs"]) == set(f.attrs.keys())

        def walk(g, d):
            for k, v in g.items():
                if hasattr(v, "keys"):
                    walk(v, d[k])
                else:
                    assert same_bits(d[k], v[()]), k
        walk(f, h)


def test_to_nir():
    """stdbp.to_nir writes the exporter's NIR graph of the checkpoint"""
    out = os.path.join(TMP, "py.nir")
    assert stdbp.to_nir(RUN, out) == out
    with h5py.File(out, "r") as f:
        assert f["node/type"][()] == b"NIRGraph"
        meta = f["node/metadata"]
        assert int(meta["source_step"][()]) == net.step
        dense = [w for w in net.weights() if w is not None]
        affine = sorted(k for k in f["node/nodes"] if k.endswith("_affine"))
        assert len(affine) == len(dense)
        for k, w in zip(affine, dense):
            assert np.array_equal(f["node/nodes"][k]["weight"][...], w.T.astype(np.float32))
        assert meta["profile"][()] == b"exact"
    port = os.path.join(TMP, "py_portable.nir")
    assert stdbp.to_nir(RUN, port, profile="portable") == port
    with h5py.File(port, "r") as f:
        assert f["node/metadata"]["profile"][()] == b"portable"
        types = {f["node/nodes"][k]["type"][()] for k in f["node/nodes"]}
        assert b"CubaLIF" in types, types
    try:
        stdbp.to_nir(RUN, port, profile="fast")
    except ValueError as e:
        assert "exact" in str(e) and "portable" in str(e), str(e)
    else:
        raise AssertionError("profile 'fast' accepted")


def expect_error(fn, *words):
    try:
        fn()
    except stdbp.StdbpError as e:
        for w in words:
            assert w in str(e), (w, str(e))
        assert e.message == str(e) and e.code != 0 and e.status
        return e
    raise AssertionError("no StdbpError")


def test_bad_paths():
    """bad paths raise stdbp.StdbpError with the C library's message"""
    missing = os.path.join(TMP, "no-such-run")
    e = expect_error(lambda: stdbp.load(missing), missing)
    assert (e.code, e.status) == (3, "input/output error"), (e.code, e.status)  # STDBP_EIO
    junk = os.path.join(TMP, "junk.h5")
    with open(junk, "w") as f:
        f.write("not a checkpoint\n")
    expect_error(lambda: stdbp.load(junk), junk)
    empty = os.path.join(TMP, "empty-run")
    os.makedirs(empty, exist_ok=True)
    expect_error(lambda: stdbp.load(empty), empty, "no readable checkpoint")
    expect_error(lambda: net.to_nir(os.path.join(TMP, "no-dir", "x.nir")), "no-dir")
    for reader in (stdbp.spikes, stdbp.metrics, stdbp.report):
        e = expect_error(lambda: reader(missing), missing)
        assert e.code == 3, e.code
    try:
        net.forward(np.zeros(net.input_size + 1, dtype=np.uint8))
    except ValueError as e:
        assert str(net.input_size) in str(e)
    else:
        raise AssertionError("no ValueError for a wrong image size")


def test_close():
    """Net.close frees the C network; using it after is a ValueError"""
    n = stdbp.load(CKPT)
    n.close()
    n.close()
    try:
        n.forward(np.zeros(n.input_size, dtype=np.uint8))
    except ValueError:
        return
    raise AssertionError("no ValueError after close")


if __name__ == "__main__":
    sys.exit(tap.run([test_import, test_load, test_weights, test_accuracy, test_spikes_bitwise,
                      test_predict_is_earliest, test_spikes_reader, test_metrics_reader,
                      test_metrics_older_files, test_report_reader, test_to_nir, test_bad_paths, test_close]))
