"""Training on an HDF5 file read a chunk at a time
(:func:`fastdnn.streaming.train_streamed`, :func:`fastdnn.datasets.open_h5`):
the in-memory run's parameters bit for bit and its costs to rounding, on
both backends, for every optimizer; bad arguments refused before training;
a file larger than the memory limit trains within it (a subprocess's
resident memory, measured)."""
import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import fastdnn
from fastdnn import datasets
from fastdnn._toolbox_options import COURSE_OPTIMIZERS
from fastdnn.course.optimization import update_lr
from fastdnn.streaming import (chunk_bytes_per_example, chunk_examples,
                               train_streamed)

RNG = np.random.default_rng(7)
M, N_X = 301, 13  # odd sizes: the last batch and the last chunk are short


def _write(path, X, y, **more):
    with h5py.File(path, "w") as f:
        f["X"] = X
        f["y"] = y
        for key, value in more.items():
            f[key] = value
    return path


@pytest.fixture(scope="module")
def softmax_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("stream") / "three.h5"
    X = RNG.random((M, N_X)).astype(np.float32)
    return _write(path, X, RNG.integers(0, 3, M))


def _limit_for(chunks, dims, dtype, stored_itemsize=4, batch=32):
    # A memory limit that cuts a pass into about `chunks` chunks.
    per = chunk_bytes_per_example(dims[0], dims[-1], stored_itemsize, dtype)
    batches = -(-M // batch)
    return per * batch * -(-batches // chunks)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("optimizer", COURSE_OPTIMIZERS)
def test_streamed_equals_in_memory(softmax_file, backend, optimizer):
    dims = [N_X, 6, 5, 3]
    kw = dict(mini_batch_size=32, optimizer=optimizer, output="softmax",
              num_iterations=3, learning_rate=0.02, keep_prob=0.9,
              lambd=0.1, activation="tanh", seed=3)
    d = datasets.load(softmax_file)
    be = fastdnn.get_backend(backend)
    p_mem, c_mem = be.L_layer_model(d.X, d.y, dims, **kw)
    p_str, c_str = train_streamed(
        softmax_file, dims, backend=backend,
        memory_limit=_limit_for(4, dims, np.float64), **kw)
    for key in p_mem:
        np.testing.assert_array_equal(p_str[key], p_mem[key], err_msg=key)
    np.testing.assert_allclose(np.array(c_str, float),
                               np.array(c_mem, float), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_streamed_float32_and_float64_and_uint8_images(tmp_path, dtype):
    # Images stored examples-first as uint8 (the cat files' kind), labels
    # 0/1 for the sigmoid output; a decay schedule, a 2-layer network.
    images = RNG.integers(0, 256, (90, 4, 3, 3), dtype=np.uint8)
    labels = RNG.integers(0, 2, 90)
    path = _write(tmp_path / "img.h5", images, labels)
    dims = [36, 4, 1]
    kw = dict(mini_batch_size=16, optimizer="momentum", num_iterations=4,
              learning_rate=0.05, decay=update_lr, decay_rate=0.5)
    d = datasets.load(path)
    p_mem, c_mem = fastdnn.L_layer_model(d.X.astype(dtype), d.y, dims,
                                         **kw)
    with datasets.open_h5(path) as source:
        assert source.image_shape == [4, 3, 3] and source.n_x == 36
        p_str, c_str = train_streamed(
            source, dims, dtype=dtype,
            memory_limit=_limit_for(3, dims, dtype, 1, 16), **kw)
    for key in p_mem:
        assert p_str[key].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(p_str[key], p_mem[key], err_msg=key)
    np.testing.assert_allclose(np.array(c_str, float),
                               np.array(c_mem, float),
                               rtol=1e-12 if dtype == "float64" else 1e-6)


def test_open_h5_reads_the_examples_asked_for(tmp_path):
    # Stored one example per column (the course's layout), with string
    # labels and a test split encoded by the training classes.
    X = RNG.random((5, 40))
    names = np.array([b"b", b"a", b"c"])[RNG.integers(0, 3, 40)]
    path = _write(tmp_path / "cols.h5", X, names, X_test=X[:, :7],
                  y_test=names[:7])
    d = datasets.load(path)
    with datasets.open_h5(path) as s:
        assert (s.m, s.n_x, s.classes) == (40, 5, d.classes)
        np.testing.assert_array_equal(s.y, d.y)
        index = np.array([39, 0, 17, 3])
        np.testing.assert_array_equal(s.columns(index), X[:, index])
        np.testing.assert_array_equal(s.block(10, 14, np.float32),
                                      X[:, 10:14].astype(np.float32))
        with pytest.raises(ValueError, match="must not repeat"):
            s.columns([1, 1])
        with pytest.raises(ValueError, match=r"in \[0, 40\)"):
            s.columns([40])
    with pytest.raises(ValueError, match="closed"):
        s.columns([0])
    with datasets.open_h5(path, split="test", classes=d.classes) as t:
        np.testing.assert_array_equal(t.y, d.y_test)
        np.testing.assert_array_equal(t.block(0, 7), d.X_test)


def test_open_h5_refuses_what_it_cannot_stream(tmp_path):
    path = _write(tmp_path / "words.h5", np.array([b"a", b"b"]), [0, 1])
    with pytest.raises(ValueError, match="not numbers"):
        datasets.open_h5(path)
    path = _write(tmp_path / "short.h5", RNG.random((10, 4)), [0, 1, 0])
    with pytest.raises(ValueError, match="3 labels"):
        datasets.open_h5(path)
    with pytest.raises(ValueError, match="no test feature array"):
        datasets.open_h5(_write(tmp_path / "ok.h5", RNG.random((4, 3)),
                                [0, 1, 0, 1]), split="test")
    fifo = tmp_path / "fifo.h5"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        datasets.open_h5(fifo)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(mini_batch_size=None), ValueError, "mini_batch_size must be"),
    (dict(memory_limit=100), ValueError, "memory_limit must hold one batch"),
    (dict(memory_limit=0), ValueError, "memory_limit"),
    (dict(layers_dims=[12, 3, 3]), ValueError, "number of features, 13"),
    (dict(output="sigmoid", layers_dims=[N_X, 3, 1]), ValueError,
     "0/1 labels"),
    (dict(backend="torch"), ValueError, "backend must be"),
    (dict(dtype="int8"), ValueError, "dtype must be"),
    (dict(optimizer="lbfgs"), ValueError, "optimizer"),
])
def test_bad_arguments_are_refused_before_training(softmax_file, kwargs,
                                                   error, match):
    args = dict(layers_dims=[N_X, 3, 3], mini_batch_size=32,
                output="softmax")
    args.update(kwargs)
    dims = args.pop("layers_dims")
    with pytest.raises(error, match=match):
        train_streamed(softmax_file, dims, **args)
    with pytest.raises(TypeError, match="H5Examples"):
        train_streamed(3.5, dims, mini_batch_size=32)


def test_chunks_hold_whole_batches():
    assert chunk_examples(1000, 64, 10, 64 * 10 * 3) == 192
    assert chunk_examples(100, 64, 10, 10 ** 9) == 100
    assert chunk_examples(50, 64, 10, 500) == 50  # one short batch


_MEASURE = textwrap.dedent("""
    import sys
    from fastdnn import datasets
    from fastdnn.streaming import train_streamed

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024

    big, small, limit, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), \\
        sys.argv[4]
    kw = dict(mini_batch_size=256, optimizer="adam", learning_rate=0.001,
              num_iterations=1)
    train_streamed(small, [1000, 8, 1], memory_limit=limit, **kw)  # warm
    # The peak resident size from here on (Linux >= 4.0 resets it).
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    if how == "streamed":
        train_streamed(big, [1000, 8, 1], memory_limit=limit, **kw)
    else:
        d = datasets.load(big)
    print(status("VmHWM") - before)
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                    reason="reads the peak resident size from Linux's /proc")
def test_a_file_larger_than_the_limit_trains_within_it(tmp_path):
    m, n_x, limit = 24000, 1000, 8 << 20
    big = tmp_path / "big.h5"
    with h5py.File(big, "w") as f:
        X = f.create_dataset("X", (m, n_x), dtype=np.float32)
        for a in range(0, m, 4000):
            X[a:a + 4000] = RNG.random((4000, n_x), dtype=np.float32)
        f["y"] = RNG.integers(0, 2, m)
    small = _write(tmp_path / "small.h5",
                   RNG.random((300, n_x), dtype=np.float32),
                   RNG.integers(0, 2, 300))
    file_bytes = m * n_x * 4  # 96 MB, 12x the limit

    def growth(how):
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(big), str(small),
             str(limit), how], capture_output=True, text=True, check=True,
            timeout=300)
        return int(out.stdout.split()[-1])

    streamed = growth("streamed")
    # The measurement sees a whole load (the control), and the streamed
    # run stays within the limit (a few MiB for h5py's and the
    # allocator's own buffers besides).
    assert growth("loaded") > file_bytes
    assert streamed < limit + (4 << 20), streamed
