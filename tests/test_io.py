"""save_model / load_model: round trip, refusal of bad files, atomic writes."""
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import fastdnn
from fastdnn import io as fio


def _params(dtype=np.float64, dims=(6, 4, 3, 1), seed=0):
    p = fastdnn.initialize_parameters_deep(list(dims), seed=seed)
    p = {k: v.astype(dtype) for k, v in p.items()}
    p["b1"] = p["b1"] + 0.1  # non-zero biases, to see them come back
    return p


def _same_bits(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), k


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_bit_for_bit(tmp_path, dtype):
    params = _params(dtype)
    path = tmp_path / "model.npz"
    meta_in = {"classes": ["non-cat", "cat"], "input_shape": [2, 1, 3],
               "note": "hello", "costs": [0.7, 0.5], "nested": {"a": [1, 2]}}
    assert fastdnn.save_model(path, params, **meta_in) == str(path)
    loaded, meta = fastdnn.load_model(path)
    _same_bits(params, loaded)
    assert list(loaded) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for k, v in meta_in.items():
        assert meta[k] == v
    assert meta["layer_dims"] == [6, 4, 3, 1]
    assert meta["activations"] == ["relu", "relu", "sigmoid"]
    assert meta["activation"] == ["relu", "relu"]
    assert meta["output"] == "sigmoid"
    # the course's network stays in the format fastdnn 0.1 reads
    assert meta["format_version"] == 1
    assert meta["dtype"] == np.dtype(dtype).name
    assert meta["fastdnn_version"] == fastdnn.__version__
    assert meta["format"] == "fastdnn-model"
    # the loaded parameters work with the functional API
    X = np.random.RandomState(0).rand(6, 5).astype(dtype)
    np.testing.assert_array_equal(fastdnn.predict(X, None, loaded),
                                  fastdnn.predict(X, None, params))


def test_metadata_conversions(tmp_path):
    path = tmp_path / "m.npz"
    fastdnn.save_model(path, _params(), classes=np.array([b"non-cat",
                                                          b"cat"]),
                       input_shape=(64, 64, 3), n=np.int64(3),
                       rate=np.float32(0.5), flag=np.bool_(True))
    _, meta = fastdnn.load_model(path)
    assert meta["classes"] == ["non-cat", "cat"]
    assert meta["input_shape"] == [64, 64, 3]
    assert meta["n"] == 3 and meta["rate"] == 0.5 and meta["flag"] is True


def test_file_holds_only_numeric_arrays_and_json(tmp_path):
    path = tmp_path / "m.npz"
    fastdnn.save_model(path, _params(), classes=["non-cat", "cat"])
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == sorted(
            ["W1.npy", "b1.npy", "W2.npy", "b2.npy", "W3.npy", "b3.npy",
             fio.METADATA_KEY + ".npy"])
    with np.load(path, allow_pickle=False) as f:
        for name in f.files:
            kind = "U" if name == fio.METADATA_KEY else "f"
            assert f[name].dtype.kind == kind
        json.loads(str(f[fio.METADATA_KEY]))


def test_path_used_as_given_and_mode(tmp_path):
    path = tmp_path / "model.bin"
    fastdnn.save_model(path, _params())
    assert path.exists() and not (tmp_path / "model.bin.npz").exists()
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert fastdnn.load_model(path)[1]["layer_dims"] == [6, 4, 3, 1]


def test_save_refuses_bad_input(tmp_path):
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match="computed by save_model"):
        fastdnn.save_model(path, _params(), layer_dims=[1, 2])
    with pytest.raises(TypeError, match="metadata.*object"):
        fastdnn.save_model(path, _params(), thing=object())
    with pytest.raises(ValueError, match="NaN"):
        fastdnn.save_model(path, _params(), x=float("nan"))
    with pytest.raises(ValueError, match="W1, b1"):
        fastdnn.save_model(path, {"W1": np.ones((1, 2))})
    with pytest.raises(ValueError, match="unknown activation 'foo'; choose"):
        fastdnn.save_model(path, _params(), activation="foo")
    with pytest.raises(ValueError, match="activation has 1 name.* 2 hidden"):
        fastdnn.save_model(path, _params(), activation=["tanh"])
    with pytest.raises(TypeError, match="output must be a name"):
        fastdnn.save_model(path, _params(), output=None)
    # a one-unit network is not a softmax, a 3-unit one not a sigmoid
    with pytest.raises(ValueError, match=r"layer sizes \(\[6, 4, 3, 1\]\) "
                                         "must end with C >= 2"):
        fastdnn.save_model(path, _params(), output="softmax")
    with pytest.raises(ValueError, match="must end with 1 .*output='softmax'"):
        fastdnn.save_model(path, _params(dims=(6, 4, 3)))
    assert not path.exists()
    assert os.listdir(tmp_path) == []


def test_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        fastdnn.load_model(tmp_path / "nope.npz")


def test_model_file_error_is_a_value_error():
    assert issubclass(fastdnn.ModelFileError, ValueError)


def _saved(tmp_path, name="good.npz", **meta):
    path = tmp_path / name
    fastdnn.save_model(path, _params(), **meta)
    return path


@pytest.mark.parametrize("keep", [0, 10, 100, 0.5, -1])
def test_truncated_file_is_refused(tmp_path, keep):
    data = _saved(tmp_path).read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    bad = tmp_path / "bad.npz"
    bad.write_bytes(data[:n] if n >= 0 else data[:n])
    with pytest.raises(fastdnn.ModelFileError,
                       match="truncated or corrupt|not an .npz"):
        fastdnn.load_model(bad)


def test_corrupt_member_is_refused(tmp_path):
    data = bytearray(_saved(tmp_path).read_bytes())
    # flip bytes inside the first member's .npy header
    i = data.index(b"NUMPY")
    data[i + 10:i + 40] = b"\xff" * 30
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(fastdnn.ModelFileError):
        fastdnn.load_model(bad)


class _Exploit:
    """Unpickling this creates a folder: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickle_bearing_npz_is_refused_without_executing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    good = _params()
    np.savez(path, **good, __fastdnn__=np.array(json.dumps(
        {"format": "fastdnn-model", "format_version": 1})),
        evil=np.array([_Exploit(marker)], dtype=object))
    with pytest.raises(fastdnn.ModelFileError, match="pickled"):
        fastdnn.load_model(path)
    assert not marker.exists()
    # sanity: the file really runs code when unpickled
    with np.load(path, allow_pickle=True) as f:
        f["evil"]
    assert marker.exists()


def test_plain_pickle_file_is_refused_without_executing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"W1": _Exploit(marker)}))
    with pytest.raises(fastdnn.ModelFileError, match="not an .npz"):
        fastdnn.load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"hello, world\n",
                                     b"\x93NUMPY\x01\x00"])
def test_other_files_are_refused(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(fastdnn.ModelFileError, match="not a fastdnn model"):
        fastdnn.load_model(path)


def test_npz_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.ones(3))
    with pytest.raises(fastdnn.ModelFileError, match="not a fastdnn model"):
        fastdnn.load_model(path)


def _with_meta(tmp_path, meta, params=None):
    path = tmp_path / "x.npz"
    arrays = dict(_params() if params is None else params)
    arrays[fio.METADATA_KEY] = np.array(
        meta if isinstance(meta, str) else json.dumps(meta))
    np.savez(path, **arrays)
    return path


def _good_meta(**change):
    meta = {"format": "fastdnn-model", "format_version": 1,
            "layer_dims": [6, 4, 3, 1], "dtype": "float64",
            "activations": ["relu", "relu", "sigmoid"]}
    meta.update(change)
    return meta


def test_hand_made_valid_file_loads(tmp_path):
    params, meta = fastdnn.load_model(_with_meta(tmp_path, _good_meta()))
    _same_bits(params, _params())


@pytest.mark.parametrize("drop", [(), ("activations",)])
def test_file_without_activation_keys_is_the_courses_network(tmp_path,
                                                             drop):
    # A file written before activation/output existed (format 1), with or
    # without its per-layer activations list.
    meta_in = _good_meta()
    for key in drop:
        del meta_in[key]
    params, meta = fastdnn.load_model(_with_meta(tmp_path, meta_in))
    assert meta["activation"] == ["relu", "relu"]
    assert meta["output"] == "sigmoid"
    X = np.random.RandomState(1).randn(6, 40)
    for B in (fastdnn.get_backend("numpy"), fastdnn.get_backend("numba")):
        p = B.predict(X, None, params, activation=meta["activation"],
                      output=meta["output"])
        np.testing.assert_array_equal(p, B.predict(X, None, _params()))
        assert 0 < p.mean() < 1  # both classes: the comparison means much


def test_older_activations_list_alone_names_the_network(tmp_path):
    # Without activation/output keys, the per-layer list decides.
    meta_in = _good_meta(activations=["tanh", "relu", "sigmoid"])
    _, meta = fastdnn.load_model(_with_meta(tmp_path, meta_in))
    assert meta["activation"] == ["tanh", "relu"]
    assert meta["output"] == "sigmoid"


def test_other_networks_need_format_2(tmp_path):
    path = _saved(tmp_path, activation="tanh")
    _, meta = fastdnn.load_model(path)
    assert meta["format_version"] == 2 == fio.FORMAT_VERSION
    assert meta["activation"] == ["tanh", "tanh"]
    assert meta["activations"] == ["tanh", "tanh", "sigmoid"]


_DROP = object()  # a key left out of the metadata


@pytest.mark.parametrize("change,match", [
    ({"activation": ["relu"]}, "activation has 1 name"),
    ({"activation": ["relu", "relu", "relu"]}, "activation has 3 name"),
    ({"activation": ["relu", "foo"]}, r"unknown activation\[1\] 'foo'"),
    ({"activation": ["relu", "softmax"]}, "'softmax' is an output layer"),
    ({"activation": ["relu", 7]}, r"activation\[1\] must be a name"),
    ({"activation": {"a": 1}}, "activation must be a name"),
    ({"activation": None}, "activation must be a name"),
    ({"output": "bogus"}, "unknown output 'bogus'"),
    ({"output": "tanh"}, "'tanh' is a hidden activation"),
    ({"output": 3}, "output must be a name"),
    ({"output": "softmax"}, "must end with C >= 2"),
    ({"activations": ["relu", "relu", "softmax"], "activation": _DROP,
      "output": _DROP}, "must end with C >= 2"),
    ({"activations": ["relu", "relu", "foo"], "activation": _DROP,
      "output": _DROP}, "unknown output 'foo'"),
    ({"activations": ["relu", "sigmoid"]}, "not a list of 3 names"),
    ({"activations": "relu"}, "not a list of 3 names"),
    ({"activations": []}, "not a list of 3 names"),
    ({"activation": ["tanh", "tanh"], "output": "sigmoid"},
     "activations .* disagree"),
    ({"activation": ["relu", "relu"], "output": "identity"},
     "activations .* disagree"),
])
def test_corrupt_activation_entries_are_refused(tmp_path, change, match):
    meta = _good_meta(format_version=2, activation=["relu", "relu"],
                      output="sigmoid")
    meta.update(change)
    meta = {k: x for k, x in meta.items() if x is not _DROP}
    with pytest.raises(fastdnn.ModelFileError, match=match) as info:
        fastdnn.load_model(_with_meta(tmp_path, meta))
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize("meta,match", [
    ("{not json", "not valid JSON"),
    ('["a list"]', "not a fastdnn model"),
    (_good_meta(format="other"), "not a fastdnn model"),
    (_good_meta(format_version=99), "upgrade fastdnn"),
    (_good_meta(format_version="1"), "bad format_version"),
    (_good_meta(layer_dims=[6, 4, 1]), "does not match"),
    (_good_meta(dtype="float32"), "does not match"),
])
def test_bad_metadata_is_refused(tmp_path, meta, match):
    with pytest.raises(fastdnn.ModelFileError, match=match):
        fastdnn.load_model(_with_meta(tmp_path, meta))


@pytest.mark.parametrize("change,match", [
    (lambda p: p.pop("b3"), "not W1, b1"),
    (lambda p: p.update(extra=np.ones(2)), "unexpected array"),
    (lambda p: p.update(b2=np.ones((4, 1))), "invalid parameters"),
    (lambda p: p.update(W1=p["W1"].astype(np.float32)), "all be float32"),
    (lambda p: p.update(W1=np.ones((4, 6), dtype=np.int64)), "all be float32"),
])
def test_bad_arrays_are_refused(tmp_path, change, match):
    params = _params()
    change(params)
    with pytest.raises(fastdnn.ModelFileError, match=match):
        fastdnn.load_model(_with_meta(tmp_path, _good_meta(), params))


def test_interrupted_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = _params(seed=0)
    fastdnn.save_model(path, old, note="old")
    before = path.read_bytes()
    real_savez = np.savez

    def failing_savez(file, *args, **kwds):
        real_savez(file, *args, **kwds)  # write the archive into the temp...
        file.seek(0)
        file.truncate(len(before) // 3)  # ...keep only a third of it...
        raise OSError(28, "No space left on device")  # ...and fail

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="No space left"):
        fastdnn.save_model(path, _params(seed=1), note="new")
    assert path.read_bytes() == before
    params, meta = fastdnn.load_model(path)
    _same_bits(params, old)
    assert meta["note"] == "old"
    assert os.listdir(tmp_path) == ["model.npz"]  # no temp file left over


def test_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_savez(file, *args, **kwds):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(KeyboardInterrupt):
        fastdnn.save_model(tmp_path / "model.npz", _params())
    assert os.listdir(tmp_path) == []


def test_save_overwrites_atomically_with_replace(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    fastdnn.save_model(path, _params(seed=0))
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.dirname(src), os.fspath(dst)))
        assert zipfile.is_zipfile(src)  # complete before it is renamed
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    fastdnn.save_model(path, _params(seed=1))
    assert calls == [(str(tmp_path), str(path))]
    _same_bits(fastdnn.load_model(path)[0], _params(seed=1))
