"""Code written against the course's Week 4 notebooks ("Building your Deep
Neural Network: Step by Step", "Deep Neural Network - Application") runs on
either backend unchanged: the names its first cell star-imports, the type
and shape of what its training functions return (which the course's own
tests check), and Y reshaped as its L_model_backward reshapes it."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastdnn

MODULES = ["fastdnn.reference", "fastdnn.jit"]
BACKENDS = [fastdnn.get_backend(name) for name in sorted(fastdnn.BACKENDS)]
IDS = sorted(fastdnn.BACKENDS)

#: What the application notebook uses from its helper module.
NOTEBOOK_NAMES = [
    "load_data", "print_mislabeled_images", "initialize_parameters",
    "initialize_parameters_deep", "linear_activation_forward",
    "L_model_forward", "compute_cost", "linear_activation_backward",
    "L_model_backward", "update_parameters", "predict", "two_layer_model",
    "L_layer_model", "sigmoid", "relu", "sigmoid_backward", "relu_backward"]


def _assert_same_structure(got, want, where="output"):
    """The course's datatype and shape checks, recursively: the same
    container types with the same keys or lengths, and arrays of the same
    type and shape at the leaves."""
    assert type(got) is type(want), (where, type(got), type(want))
    if isinstance(want, dict):
        assert set(got) == set(want), where
        for k in want:
            _assert_same_structure(got[k], want[k], "%s[%r]" % (where, k))
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_same_structure(g, w, "%s[%d]" % (where, i))
    elif isinstance(want, np.ndarray):
        assert got.shape == want.shape, (where, got.shape, want.shape)


def _course_test_inputs():
    # The shapes of the course's two_layer_model_test: 10 features, 10
    # examples, fixed labels.
    rng = np.random.RandomState(1)
    X = rng.randn(10, 10)
    Y = np.array([1, 1, 1, 1, 0, 0, 0, 1, 1, 0]).reshape(1, 10)
    return X, Y


@pytest.mark.parametrize("module", MODULES)
def test_star_import_gives_the_notebooks_names(module):
    ns = {}
    exec("from %s import *" % module, ns)
    missing = [n for n in NOTEBOOK_NAMES if n not in ns]
    assert not missing
    assert ns["load_data"] is fastdnn.data.load_data
    assert ns["print_mislabeled_images"] is (
        fastdnn.data.print_mislabeled_images)


def test_star_imports_do_not_import_matplotlib():
    code = ("import sys\n"
            "from fastdnn.reference import *\n"
            "from fastdnn.jit import *\n"
            "heavy = [m for m in ('matplotlib', 'PIL', 'h5py', 'sklearn') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


@pytest.mark.parametrize("B", BACKENDS, ids=IDS)
def test_two_layer_model_returns_what_the_course_returns(B, capsys):
    X, Y = _course_test_inputs()
    parameters, costs = B.two_layer_model(X, Y, (10, 4, 1), 0.0075, 2,
                                          True)
    want = ({"W1": np.zeros((4, 10)), "b1": np.zeros((4, 1)),
             "W2": np.zeros((1, 4)), "b2": np.zeros((1, 1))},
            [np.array(0.0)])
    _assert_same_structure((parameters, costs), want)
    # The first cost is the cost of the initial parameters.
    p0 = B.initialize_parameters(10, 4, 1)
    A1, _ = B.linear_activation_forward(X, p0["W1"], p0["b1"], "relu")
    A2, _ = B.linear_activation_forward(A1, p0["W2"], p0["b2"], "sigmoid")
    np.testing.assert_allclose(costs[0], B.compute_cost(A2, Y), rtol=1e-12)
    # Printed as the course prints np.squeeze(cost): the recorded value.
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Cost after iteration 0: %s" % costs[0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("B", BACKENDS, ids=IDS)
def test_L_layer_model_returns_what_the_course_returns(B, dtype):
    X, Y = _course_test_inputs()
    X = X.astype(dtype)
    dims = [10, 5, 6, 1]
    parameters, costs = B.L_layer_model(X, Y, dims, 0.0075, 201)
    want = ({"W%d" % l: np.zeros((dims[l], dims[l - 1]))
             for l in range(1, 4)} | {"b%d" % l: np.zeros((dims[l], 1))
                                      for l in range(1, 4)},
            [np.array(0.0)] * 3)
    _assert_same_structure((parameters, costs), want)
    assert {c.dtype for c in costs} == {np.dtype(dtype)}
    AL, _ = B.L_model_forward(X, B.initialize_parameters_deep(dims))
    np.testing.assert_allclose(costs[0], B.compute_cost(AL, Y),
                               rtol=1e-12 if dtype == "float64" else 1e-6)
    # The notebook's plot takes np.squeeze(costs); plain numbers too.
    assert np.squeeze(costs).shape == (3,)
    np.testing.assert_array_equal(np.asarray(costs, dtype=float),
                                  [float(c) for c in costs])


@pytest.mark.parametrize("B", BACKENDS, ids=IDS)
def test_costs_draw_with_plot_costs(B):
    X, Y = _course_test_inputs()
    _, costs = B.L_layer_model(X, Y, [10, 3, 1], 0.0075, 301)
    fig = fastdnn.plot_costs(costs, 0.0075)
    line, = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), np.squeeze(costs))


@pytest.mark.parametrize("B", BACKENDS, ids=IDS)
def test_L_model_backward_reshapes_Y_like_the_course(B):
    # The step-by-step notebook's L_model_backward begins with
    # Y = Y.reshape(AL.shape); its callers may pass labels as a vector.
    X, Y = _course_test_inputs()
    AL, caches = B.L_model_forward(X, B.initialize_parameters_deep(
        [10, 4, 1]))
    want = B.L_model_backward(AL, Y, caches)
    for shape in ((10,), (10, 1)):
        got = B.L_model_backward(AL, Y.reshape(shape), caches)
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])
    # Never a broadcast, nor a reshape of other sizes.
    for bad in (Y[:, :1], Y.reshape(2, 5), np.ones(9)):
        with pytest.raises(ValueError, match="Y"):
            B.L_model_backward(AL, bad, caches)


@pytest.mark.data
@pytest.mark.parametrize("module", MODULES)
def test_application_notebook_runs_unchanged(module, data_dir,
                                             monkeypatch):
    # The application notebook's cells, shortened to a few iterations, with
    # "from dnn_app_utils_v3 import *" replaced by a backend's star import;
    # its data folder is found through $FASTDNN_DATA.
    monkeypatch.setenv("FASTDNN_DATA", os.fspath(data_dir))
    ns = {"np": np}
    exec("from %s import *" % module, ns)
    exec("""
train_x_orig, train_y, test_x_orig, test_y, classes = load_data()
train_x_flatten = train_x_orig.reshape(train_x_orig.shape[0], -1).T
test_x_flatten = test_x_orig.reshape(test_x_orig.shape[0], -1).T
train_x = train_x_flatten / 255.
test_x = test_x_flatten / 255.
layers_dims = [12288, 20, 7, 5, 1]
parameters, costs = L_layer_model(train_x, train_y, layers_dims,
                                  num_iterations=2, print_cost=False)
pred_train = predict(train_x, train_y, parameters)
pred_test = predict(test_x, test_y, parameters)
fig = print_mislabeled_images(classes, test_x, test_y, pred_test)
""", ns)
    assert [c.shape for c in ns["costs"]] == [()]
    assert ns["pred_test"].shape == (1, 50)
    assert ns["fig"] is not None
