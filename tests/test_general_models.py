"""Networks other than the course's (any hidden activation, a softmax or
identity output) through the model files, the ``fastdnn`` command, the cost
plot and the estimator."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import fastdnn
from fastdnn import jit
from fastdnn import plots

BACKENDS = [fastdnn.get_backend(name) for name in sorted(fastdnn.BACKENDS)]
# (output, units of the output layer) for every output of the tables
UNITS = {"sigmoid": 1, "softmax": 3, "identity": 2}


def _params(dims, dtype=np.float64, seed=0):
    # Wider than xavier, so that every activation leaves its linear range
    # and a wrong activation would change the predictions.
    rng = np.random.RandomState(seed)
    params = {}
    for l in range(1, len(dims)):
        params["W%d" % l] = (1.5 * rng.randn(dims[l], dims[l - 1])
                             / np.sqrt(dims[l - 1])).astype(dtype)
        params["b%d" % l] = (0.3 * rng.randn(dims[l], 1)).astype(dtype)
    return params


def test_tables_cover_every_output():
    # the tests below are driven by the jit backend's tables
    assert set(UNITS) == set(jit.OUTPUT_CODES)
    assert set(plots.COST_LABELS) == set(jit.OUTPUT_CODES)


# ---------------------------------------------------------------- model files

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output", sorted(jit.OUTPUT_CODES))
@pytest.mark.parametrize("activation", sorted(jit.ACT_CODES))
def test_round_trip_of_every_network(tmp_path, activation, output, dtype):
    dims = [5, 4, 3, UNITS[output]]
    params = _params(dims, dtype)
    path = tmp_path / "m.npz"
    fastdnn.save_model(path, params, activation=activation, output=output)
    loaded, meta = fastdnn.load_model(path)
    assert meta["activation"] == [activation, activation]
    assert meta["output"] == output
    assert meta["activations"] == [activation, activation, output]
    assert meta["format_version"] == (
        1 if (activation, output) == ("relu", "sigmoid") else 2)
    X = np.random.RandomState(1).randn(5, 30).astype(dtype)
    for B in BACKENDS:
        before = B.predict(X, None, params, activation=activation,
                           output=output)
        after = B.predict(X, None, loaded, activation=meta["activation"],
                          output=meta["output"])
        assert after.dtype == before.dtype and after.shape == before.shape
        np.testing.assert_array_equal(after, before)
    if output == "softmax":
        assert after.dtype == np.int64 and after.shape == (1, 30)
    if output == "identity":
        assert after.shape == (2, 30)


def test_round_trip_of_one_activation_per_layer(tmp_path):
    dims = [5, 4, 4, 3, 2]
    acts = ["tanh", "leaky_relu", "sigmoid"]
    params = _params(dims)
    path = tmp_path / "m.npz"
    fastdnn.save_model(path, params, activation=tuple(acts),
                       output="identity")
    loaded, meta = fastdnn.load_model(path)
    assert meta["activation"] == acts and meta["output"] == "identity"
    X = np.random.RandomState(2).randn(5, 7)
    for B in BACKENDS:
        np.testing.assert_array_equal(
            B.predict(X, None, loaded, activation=meta["activation"],
                      output=meta["output"]),
            B.predict(X, None, params, activation=acts, output="identity"))


def test_single_layer_softmax_round_trip(tmp_path):
    # L = 1: no hidden layer, an empty activation list
    params = _params([6, 4])
    path = tmp_path / "m.npz"
    fastdnn.save_model(path, params, output="softmax")
    loaded, meta = fastdnn.load_model(path)
    assert meta["activation"] == [] and meta["output"] == "softmax"
    X = np.random.RandomState(3).randn(6, 9)
    np.testing.assert_array_equal(
        fastdnn.predict(X, None, loaded, activation=meta["activation"],
                        output="softmax"),
        fastdnn.predict(X, None, params, output="softmax"))


def test_trained_softmax_model_predicts_the_same_after_loading(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(4, 60)
    y = (np.argmax(rng.randn(3, 4) @ X, axis=0)).reshape(1, -1)
    for B in BACKENDS:
        params, costs = B.L_layer_model(X, y, [4, 6, 3], 0.1, 200,
                                        activation="tanh", output="softmax")
        path = tmp_path / ("m-%s.npz" % B.__name__)
        fastdnn.save_model(path, params, activation="tanh", output="softmax")
        loaded, meta = fastdnn.load_model(path)
        before = B.predict(X, y, params, False, activation="tanh",
                           output="softmax")
        after = B.predict(X, y, loaded, False, activation=meta["activation"],
                          output=meta["output"])
        np.testing.assert_array_equal(after, before)
        assert np.mean(after == y) > 0.8  # it did learn


# ---------------------------------------------------------------- plots

@pytest.mark.parametrize("output", sorted(jit.OUTPUT_CODES))
def test_plot_costs_of_the_training_costs(tmp_path, output):
    rng = np.random.RandomState(0)
    X = rng.randn(3, 20).astype(np.float32)
    Y = {"sigmoid": (X[:1] > 0).astype(np.float32),
         "softmax": np.argmax(X, axis=0).reshape(1, -1),
         "identity": X[:2] * 2}[output]
    dims = [3, 4, UNITS[output]]
    for B in BACKENDS:
        _, costs = B.L_layer_model(X, Y, dims, 0.05, 301, output=output)
        # the training records 0-d arrays of its dtype
        assert all(isinstance(c, np.ndarray) and c.shape == () for c in costs)
        fig = fastdnn.plot_costs(costs, 0.05, tmp_path / "c.png",
                                 output=output)
        ax = fig.axes[0]
        x, y = ax.lines[0].get_data()
        np.testing.assert_array_equal(x, [0, 100, 200, 300])
        np.testing.assert_array_equal(y, [float(c) for c in costs])
        assert ax.get_ylabel() == plots.COST_LABELS[output]
    with pytest.raises(ValueError, match="unknown output 'mse'"):
        fastdnn.plot_costs(costs, 0.05, output="mse")


# ---------------------------------------------------------------- CLI

def _run(*args):
    return subprocess.run([sys.executable, "-m", "fastdnn", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def _image(path, seed, size=(13, 9)):
    # Any size: predict resizes each image to the model's input_shape.
    rng = np.random.RandomState(seed)
    pixels = rng.randint(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(path)
    return path


def _columns(paths, shape):
    from fastdnn.images import read_image
    return np.hstack([read_image(p, shape[0], shape[1]) for p in paths])


@pytest.fixture
def images(tmp_path):
    return [_image(tmp_path / ("img%d.png" % k), k) for k in range(6)]


SHAPE = [8, 8, 3]
N_X = 8 * 8 * 3


def test_cli_predict_softmax_model(tmp_path, images):
    classes = ["bird", "cat", "dog", "fish"]
    params = _params([N_X, 5, len(classes)], seed=4)
    model = tmp_path / "soft.npz"
    fastdnn.save_model(model, params, activation="tanh", output="softmax",
                       classes=classes, input_shape=SHAPE)
    r = _run("predict", "--model", model, *images)
    assert r.returncode == 0, r.stderr
    X = _columns(images, SHAPE)
    AL, _ = fastdnn.L_model_forward(X, params, activation="tanh",
                                    output="softmax")
    expected = fastdnn.predict(X, None, params, activation="tanh",
                               output="softmax")[0]
    assert len(set(expected)) > 1  # the images get different classes
    lines = r.stdout.splitlines()
    assert len(lines) == len(images)
    for j, line in enumerate(lines):
        path, name, proba = line.split("\t")
        assert path == str(images[j])
        assert name == classes[expected[j]]
        assert float(proba) == pytest.approx(AL[expected[j], j], abs=1e-4)


def test_cli_predict_identity_model(tmp_path, images):
    params = _params([N_X, 6, 2], seed=5)
    model = tmp_path / "reg.npz"
    fastdnn.save_model(model, params, activation="leaky_relu",
                       output="identity", input_shape=SHAPE)
    r = _run("predict", "--model", model, *images)
    assert r.returncode == 0, r.stderr
    expected = fastdnn.predict(_columns(images, SHAPE), None, params,
                               activation="leaky_relu", output="identity")
    lines = r.stdout.splitlines()
    assert len(lines) == len(images)
    for j, line in enumerate(lines):
        path, *values = line.split("\t")
        assert path == str(images[j])
        np.testing.assert_allclose([float(x) for x in values],
                                   expected[:, j], rtol=1e-5, atol=1e-6)


def test_cli_predict_sigmoid_model_with_other_hidden_activation(tmp_path,
                                                                images):
    params = _params([N_X, 5, 1], seed=6)
    model = tmp_path / "sig.npz"
    fastdnn.save_model(model, params, activation="sigmoid",
                       classes=["no", "yes"], input_shape=SHAPE)
    r = _run("predict", "--model", model, *images)
    assert r.returncode == 0, r.stderr
    X = _columns(images, SHAPE)
    AL, _ = fastdnn.L_model_forward(X, params, activation="sigmoid")
    # the ReLU network would classify these differently
    relu_AL, _ = fastdnn.L_model_forward(X, params)
    assert np.any((AL > 0.5) != (relu_AL > 0.5))
    for j, line in enumerate(r.stdout.splitlines()):
        path, name, proba = line.split("\t")
        label = int(AL[0, j] > 0.5)
        assert name == ["no", "yes"][label]
        assert float(proba) == pytest.approx(
            AL[0, j] if label else 1 - AL[0, j], abs=1e-4)


def _synthetic():
    from fastdnn._synthetic import load_synthetic
    train_x, train_y, test_x, test_y, _ = load_synthetic()
    return (fastdnn.flatten_images(train_x), train_y,
            fastdnn.flatten_images(test_x), test_y)


def _accuracy_lines(stdout):
    # "Train accuracy: 0.9043 (189 of 209 images)" -> {"Train": 189, ...}
    counts = {}
    for line in stdout.splitlines():
        if " accuracy: " in line:
            name, rest = line.split(" accuracy: ")
            counts[name] = int(rest.split("(")[1].split(" of ")[0])
    return counts


@pytest.mark.parametrize("activation,output,units", [
    ("tanh", "softmax", 2), ("sigmoid", "sigmoid", 1)])
def test_cli_evaluate_two_class_models(tmp_path, activation, output, units):
    train_x, train_y, test_x, test_y = _synthetic()
    params, _ = fastdnn.L_layer_model(train_x, train_y, [768, 5, units],
                                      0.05, 300, activation=activation,
                                      output=output)
    model = tmp_path / "m.npz"
    fastdnn.save_model(model, params, activation=activation, output=output,
                       classes=["non-cat", "cat"], input_shape=[16, 16, 3])
    r = _run("evaluate", "--model", model, "--synthetic", "--mislabeled",
             tmp_path / "wrong.png")
    assert r.returncode == 0, r.stderr
    counts = _accuracy_lines(r.stdout)
    for name, x, y in (("Train", train_x, train_y), ("Test", test_x, test_y)):
        p = fastdnn.get_backend("numpy").predict(
            x, y, params, False, activation=activation, output=output)
        assert counts[name] == int(np.sum(p == y))
    # the relu network (what evaluate used to run) scores differently
    relu = fastdnn.get_backend("numpy").predict(
        train_x, train_y, params, False, output=output)
    assert int(np.sum(relu == train_y)) != counts["Train"]
    assert (tmp_path / "wrong.png").exists()


def test_cli_evaluate_scores_softmax_and_refuses_regression_on_classes(
        tmp_path):
    # A softmax model is scored on any class data whose labels it can
    # give (a confusion matrix over its own classes); a regression model
    # on class labels is refused in one line.
    soft = tmp_path / "soft.npz"
    fastdnn.save_model(soft, _params([768, 5, 4]), output="softmax",
                       classes=list("abcd"), input_shape=[16, 16, 3])
    r = _run("evaluate", "--model", soft, "--synthetic")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Train accuracy: ")
    assert lines[1].split()[3:] == ["a", "b", "c", "d"]
    reg = tmp_path / "reg.npz"
    fastdnn.save_model(reg, _params([768, 5, 1]), output="identity",
                       input_shape=[16, 16, 3])
    r = _run("evaluate", "--model", reg, "--synthetic")
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "is a regression model (identity output)" in lines[0]


def test_cli_needs_one_class_name_per_softmax_unit(tmp_path, images):
    model = tmp_path / "soft.npz"
    fastdnn.save_model(model, _params([N_X, 5, 3]), output="softmax",
                       classes=["non-cat", "cat"], input_shape=SHAPE)
    r = _run("predict", "--model", model, images[0])
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == (
        "fastdnn: error: %s has no 3 class names in its metadata (classes), "
        "one per class of its softmax output" % model)
