"""The general model through the real ``fastdnn`` command, in subprocesses:
the course's planar data and a small CSV file, each trained with the
toolbox (Adam, mini-batches, L2, dropout), saved, evaluated and used to
predict; the pictures; bad options and bad data files."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import fastdnn
from fastdnn import datasets

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastdnn", *map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          cwd=cwd)


def _ok(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def _png_size(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        return img.size


def _line(out, start):
    lines = [ln for ln in out.splitlines() if ln.startswith(start)]
    assert len(lines) == 1, out
    return lines[0]


def _forward(parameters, meta, X):
    AL, _ = fastdnn.get_backend("numpy").L_model_forward(
        X, parameters, activation=meta["activation"], output=meta["output"])
    return AL


def test_planar_train_evaluate_predict(tmp_path):
    model, costs, boundary = (tmp_path / "planar.npz", tmp_path / "c.png",
                              tmp_path / "b.png")
    out = _ok(_run("train", "--dataset", "planar", "--layers", "8",
                   "--activation", "tanh", "--optimizer", "adam",
                   "--batch-size", "64", "--lambd", "0.05", "--keep-prob",
                   "0.95", "--learning-rate", "0.01", "--epochs", "300",
                   "--seed", "3", "--out", model, "--plot", costs,
                   "--boundary", boundary))
    assert out.startswith("Training [2, 8, 1] on 400 planar examples")
    assert "Network: tanh hidden layers, sigmoid output" in out
    assert _line(out, "Toolbox:") == (
        "Toolbox: optimizer adam, beta1 0.9, beta2 0.999, epsilon 1e-08, "
        "mini-batches of 64, L2 lambd 0.05, dropout keep_prob 0.95")
    assert "Cost after iteration 299: " in out
    train_accuracy = float(_line(out, "Train accuracy: ").split(": ")[1])
    assert train_accuracy > 0.75  # the flower, learnt (0.5: chance)
    assert "Test accuracy" not in out  # planar has no test split

    parameters, meta = fastdnn.load_model(model)
    assert meta["layer_dims"] == [2, 8, 1]
    assert meta["activation"] == ["tanh"] and meta["output"] == "sigmoid"
    assert meta["classes"] == ["red", "blue"]
    assert meta["dataset"] == "planar" and "input_shape" not in meta
    assert (meta["optimizer"], meta["batch_size"], meta["lambd"],
            meta["keep_prob"], meta["seed"]) == ("adam", 64, 0.05, 0.95, 3)
    assert len(meta["costs"]) == 3 and meta["train_accuracy"] == \
        train_accuracy
    assert _png_size(costs)[0] > 300
    w, h = _png_size(boundary)
    assert w > 400 and h > 300
    # the boundary picture has both classes' colours over most of it
    with Image.open(boundary) as img:
        pixels = np.asarray(img.convert("RGB"), dtype=float)
    reddish = (pixels[..., 0] > pixels[..., 2] + 20).mean()
    bluish = (pixels[..., 2] > pixels[..., 0] + 20).mean()
    assert reddish > 0.1 and bluish > 0.1

    # evaluate: the recorded dataset, the accuracy train printed
    out = _ok(_run("evaluate", "--model", model))
    X, y = datasets.planar()
    p = (_forward(parameters, meta, X) > 0.5).astype(int)
    correct = int(np.sum(p == y))
    assert _line(out, "Train accuracy: ") == \
        "Train accuracy: %.4f (%d of 400 examples)" % (correct / 400,
                                                       correct)
    assert correct / 400 == train_accuracy
    table = out.splitlines()[1:4]
    assert table[0].split() == ["true", "\\", "predicted", "red", "blue"]
    counts = np.array([[int(c) for c in ln.split()[1:]]
                       for ln in table[1:]])
    assert counts.sum() == 400 and np.trace(counts) == correct
    assert counts[0].sum() == np.sum(y == 0)

    # predict: one line per row of an npz file of points, in either layout
    points = np.array([[0.0, 3.0], [3.0, 0.5], [-1.0, -3.0]])
    np.savez(tmp_path / "points.npz", X=points)
    out = _ok(_run("predict", "--model", model, "--data-file",
                   tmp_path / "points.npz"))
    a = _forward(parameters, meta, points.T)[0]
    expected = ["%d\t%s\t%.4f" % (j, meta["classes"][int(a[j] > 0.5)],
                                  max(a[j], 1 - a[j])) for j in range(3)]
    assert out.splitlines() == expected


@pytest.fixture
def flowers_csv(tmp_path):
    """A small three-class CSV file: class names as strings, the label in
    the last column."""
    rng = np.random.RandomState(0)
    centres = {"iris": (0, 0, 1), "rose": (2, 2, 0), "tulip": (0, 3, -1)}
    rows = ["petal,sepal,stem,kind"]
    for k in range(90):
        name = sorted(centres)[k % 3]
        x = np.array(centres[name]) + 0.4 * rng.randn(3)
        rows.append("%.5f,%.5f,%.5f,%s" % (*x, name))
    path = tmp_path / "flowers.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_csv_train_evaluate_predict(tmp_path, flowers_csv):
    model = tmp_path / "flowers.npz"
    out = _ok(_run("train", "--dataset", flowers_csv, "--layers", "6",
                   "--optimizer", "adam", "--batch-size", "16", "--lambd",
                   "0.01", "--keep-prob", "0.9", "--learning-rate", "0.01",
                   "--iterations", "200", "--out", model, cwd=tmp_path))
    # three classes: a softmax output of three units, inferred
    assert out.startswith("Training [3, 6, 3] on 90 flowers.csv examples")
    assert "relu hidden layers, softmax output" in out
    assert float(_line(out, "Train accuracy: ").split(": ")[1]) > 0.9
    parameters, meta = fastdnn.load_model(model)
    assert meta["classes"] == ["iris", "rose", "tulip"]
    assert meta["features"] == ["petal", "sepal", "stem"]
    assert meta["dataset"] == str(flowers_csv)  # absolute: found again

    # evaluate from another folder: the model file says where the data is
    out = _ok(_run("evaluate", "--model", model))
    data = datasets.load(flowers_csv)
    p = np.argmax(_forward(parameters, meta, data.X), axis=0)
    correct = int(np.sum(p == data.y))
    assert _line(out, "Train accuracy: ").endswith(
        "(%d of 90 examples)" % correct)
    table = out.splitlines()[1:5]
    assert table[0].split()[-3:] == ["iris", "rose", "tulip"]
    counts = np.array([[int(c) for c in ln.split()[1:]]
                       for ln in table[1:]])
    assert counts.shape == (3, 3) and np.trace(counts) == correct
    assert list(counts.sum(axis=1)) == [30, 30, 30]

    # predict: the feature columns found by name, in another order, no label
    new = tmp_path / "new.csv"
    new.write_text("stem,petal,sepal\n1,0,0\n0,2,2\n-1,0,3\n")
    out = _ok(_run("predict", "--model", model, "--data-file", new))
    X = np.array([[0, 0, 1], [2, 2, 0], [0, 3, -1]], dtype=float).T
    AL = _forward(parameters, meta, X)
    expected = ["%d\t%s\t%.4f" % (j, meta["classes"][int(np.argmax(AL[:, j]))],
                                  AL[:, j].max()) for j in range(3)]
    assert out.splitlines() == expected
    assert [ln.split("\t")[1] for ln in expected] == ["iris", "rose",
                                                      "tulip"]


def _one_line(r, code):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("fastdnn") and "error:" in lines[0]
    return lines[0]


def test_bad_options_and_bad_files_in_a_subprocess(tmp_path):
    line = _one_line(_run("train", "--dataset", "planar", "--optimizer",
                          "adagrad"), 2)
    assert "--optimizer" in line and "adam" in line
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    line = _one_line(_run("train", "--dataset", bad), 1)
    assert line == ("fastdnn: error: %s line 3: column 'b' holds 'oops', "
                    "not a number" % bad)


def test_an_h5_file_over_the_memory_limit_is_streamed(tmp_path):
    # 2,000 examples of 300 float32 features (2.4 MB): with --memory-limit 1
    # (MiB) the file is streamed, with 64 it is loaded; both print the
    # same costs and scores.
    import h5py

    rng = np.random.default_rng(5)
    X = rng.random((2000, 300), dtype=np.float32)
    y = rng.integers(0, 3, 2000)
    path = tmp_path / "big.h5"
    with h5py.File(path, "w") as f:
        f["X"], f["y"], f["X_test"], f["y_test"] = X, y, X[:250], y[:250]
    common = ("train", "--dataset", path, "--batch-size", 100, "--layers",
              6, "--optimizer", "momentum", "--learning-rate", 0.05,
              "--iterations", 3, "--memory-limit")
    streamed = _ok(_run(*common, 1, "--out", tmp_path / "s.npz"))
    loaded = _ok(_run(*common, 64))
    assert "Streamed from" in streamed and "Streamed" not in loaded

    def results(out):
        return [ln for ln in out.splitlines()
                if ln.startswith(("Cost after", "Train acc", "Test acc"))]
    assert len(results(streamed)) == 4
    assert results(streamed) == results(loaded)
    parameters, meta = fastdnn.load_model(tmp_path / "s.npz")
    assert meta["output"] == "softmax" and meta["batch_size"] == 100
    line = _one_line(_run(*common, 1, "--boundary", tmp_path / "b.png"), 2)
    assert "--boundary" in line and "--memory-limit" in line
    line = _one_line(_run(*common, 1, "--solver", "gram"), 2)
    assert "--solver gram" in line
