"""The reference backend's tables of activations, outputs and initializers:
every entry against an independent numpy formula, and the checks of names
and labels. Table-driven: a new entry is tested (or fails for want of a
formula here) without editing the tests."""
import itertools

import numpy as np
import pytest

from fastdnn import reference as R
from fastdnn.datasets import circles
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_initializers import INITIALIZERS
from fastdnn._reference_outputs import OUTPUTS

# ---------------------------------------------------------------- formulas
# Written out here, independently of fastdnn's code.


def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


ACT_FORMULAS = {
    "sigmoid": (_sigmoid, lambda dA, Z: dA * _sigmoid(Z) * (1 - _sigmoid(Z))),
    "relu": (lambda Z: np.maximum(Z, 0), lambda dA, Z: dA * (Z > 0)),
    "tanh": (np.tanh, lambda dA, Z: dA * (1 - np.tanh(Z) ** 2)),
    "leaky_relu": (lambda Z: np.where(Z > 0, Z, 0.01 * Z),
                   lambda dA, Z: np.where(Z > 0, dA, 0.01 * dA)),
    "identity": (lambda Z: Z, lambda dA, Z: dA),
}


def _softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0)


OUT_FORMULAS = {"sigmoid": _sigmoid, "softmax": _softmax,
                "identity": lambda Z: Z}


def _n_out(output, rng=None):
    # the output width each loss takes: 1 for sigmoid, C >= 2 for softmax
    return {"sigmoid": 1, "softmax": 4, "identity": 2}[output]


def _labels(output, m, rng):
    """Valid labels of each output, as the user gives them."""
    if output == "sigmoid":
        return (rng.rand(1, m) > 0.5).astype(float)
    if output == "softmax":
        return rng.randint(0, _n_out(output), (1, m))
    return rng.randn(_n_out(output), m)


def _onehot(y, C):
    Y = np.zeros((C, y.shape[1]))
    Y[y[0], np.arange(y.shape[1])] = 1
    return Y


def _net(rng, n_layers, output, dtype=np.float64, n_x=3, m=6):
    dims = [n_x] + [5, 4][:n_layers - 1] + [_n_out(output)]
    X = rng.randn(n_x, m).astype(dtype)
    parameters = {}
    for l in range(1, len(dims)):
        parameters["W%d" % l] = rng.randn(dims[l], dims[l - 1]).astype(dtype)
        parameters["b%d" % l] = rng.randn(dims[l], 1).astype(dtype)
    return X, parameters, dims


def test_tables_hold_the_specs_names():
    assert set(ACTIVATIONS) >= {"sigmoid", "relu", "tanh", "leaky_relu",
                                "identity"}
    assert set(OUTPUTS) >= {"sigmoid", "softmax", "identity"}
    assert set(INITIALIZERS) >= {"xavier", "he", "random", "zeros",
                                 "glorot_uniform"}
    assert next(iter(INITIALIZERS)) == "xavier"


def test_every_entry_has_a_formula_here():
    # A new table entry needs its independent formula below to be tested.
    assert set(ACT_FORMULAS) == set(ACTIVATIONS)
    assert set(OUT_FORMULAS) == set(OUTPUTS)
    assert set(INIT_FORMULAS) == set(INITIALIZERS)


# ---------------------------------------------------------------- forward

TOL = {np.float64: dict(rtol=1e-12, atol=1e-12),
       np.float32: dict(rtol=2e-5, atol=1e-5)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_layers", [1, 2, 3])
@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_forward_matches_the_formulas(activation, output, n_layers, dtype):
    rng = np.random.RandomState(n_layers)
    X, parameters, dims = _net(rng, n_layers, output, dtype)
    AL, caches = R.L_model_forward(X, parameters, activation=activation,
                                   output=output)
    A = X.astype(np.float64)
    for l in range(1, n_layers + 1):
        Z = parameters["W%d" % l] @ A + parameters["b%d" % l]
        f = (OUT_FORMULAS[output] if l == n_layers
             else ACT_FORMULAS[activation][0])
        A = f(Z)
        np.testing.assert_allclose(caches[l - 1][1], Z, **TOL[dtype])
    assert AL.shape == (dims[-1], X.shape[1]) and AL.dtype == dtype
    assert len(caches) == n_layers
    np.testing.assert_allclose(AL, A, **TOL[dtype])


def test_one_activation_per_hidden_layer():
    rng = np.random.RandomState(0)
    X, parameters, _ = _net(rng, 3, "sigmoid")
    acts = list(ACTIVATIONS)[:2]
    AL, _ = R.L_model_forward(X, parameters, activation=acts)
    A = X
    for l, a in enumerate(acts, start=1):
        A = ACT_FORMULAS[a][0](parameters["W%d" % l] @ A
                               + parameters["b%d" % l])
    want = _sigmoid(parameters["W3"] @ A + parameters["b3"])
    np.testing.assert_allclose(AL, want, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_layer_functions_take_every_activation(activation, dtype):
    rng = np.random.RandomState(1)
    A_prev = rng.randn(3, 5).astype(dtype)
    W, b = rng.randn(2, 3).astype(dtype), rng.randn(2, 1).astype(dtype)
    dA = rng.randn(2, 5).astype(dtype)
    A, cache = R.linear_activation_forward(A_prev, W, b, activation)
    (A0, W0, b0), Z = cache
    f, df = ACT_FORMULAS[activation]
    np.testing.assert_allclose(A, f(W @ A_prev + b), **TOL[dtype])
    assert A.dtype == dtype
    dA_prev, dW, db = R.linear_activation_backward(dA, ((A0, W0, b0), Z),
                                                   activation)
    dZ = df(dA, Z)
    np.testing.assert_allclose(dW, dZ @ A_prev.T / 5, **TOL[dtype])
    np.testing.assert_allclose(db, dZ.sum(axis=1, keepdims=True) / 5,
                               **TOL[dtype])
    np.testing.assert_allclose(dA_prev, W.T @ dZ, **TOL[dtype])


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "leaky_relu"])
def test_public_building_blocks(name):
    Z = np.array([[-2., -0.5, 0., 0.5, 3.]])
    dA = np.array([[0.5, -1., 2., 3., -4.]])
    f, df = ACT_FORMULAS[name]
    A, cache = getattr(R, name)(Z)
    np.testing.assert_allclose(A, f(Z), rtol=1e-15)
    np.testing.assert_array_equal(cache, Z)
    np.testing.assert_allclose(getattr(R, name + "_backward")(dA, Z),
                               df(dA, Z), rtol=1e-15)


def test_public_softmax_and_its_layer():
    Z = np.array([[1., -2., 0.], [3., 0., 0.], [0., 5., 0.]])
    A, cache = R.softmax(Z)
    np.testing.assert_allclose(A, _softmax(Z), rtol=1e-15)
    np.testing.assert_array_equal(cache, Z)
    A2, (_, Z2) = R.linear_activation_forward(np.eye(3), np.eye(3),
                                              np.zeros((3, 1)), "softmax")
    np.testing.assert_allclose(A2, _softmax(np.eye(3)), rtol=1e-15)
    with pytest.raises(ValueError, match="softmax.*fused output gradient"):
        R.linear_activation_backward(A2, ((np.eye(3), np.eye(3),
                                           np.zeros((3, 1))), Z2), "softmax")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_columns_sum_to_one_and_huge_z_is_stable(dtype):
    big = np.finfo(dtype).max / 2
    Z = np.array([[big, -big, 0., 1e4, 3.],
                  [big / 2, -big, 1., -1e4, 3.],
                  [0., -big / 2, 2., 1e4, 3.]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A, _ = R.softmax(Z)
    assert A.dtype == dtype and np.isfinite(A).all()
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-6)
    np.testing.assert_array_equal(A[:, 0], [1, 0, 0])
    np.testing.assert_array_equal(A[:, 1], [0, 0, 1])
    np.testing.assert_allclose(A[:, 3], [.5, 0, .5])
    np.testing.assert_allclose(A[:, 4], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(A[:, 2:3], _softmax(Z[:, 2:3].astype(float)),
                               rtol=1e-6)


# ---------------------------------------------------------------- costs

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_costs_by_hand(dtype):
    AL = np.array([[0.7, 0.2], [0.3, 0.8]], dtype=dtype)
    want = -(np.log(0.7) + np.log(0.8)) / 2
    for Y in (np.array([[0, 1]]), np.array([[1., 0.], [0., 1.]])):
        c = R.compute_cost(AL, Y, output="softmax")
        assert c.shape == () and c.dtype == dtype
        np.testing.assert_allclose(c, want, rtol=1e-6)
    AL = np.array([[1., 2., 3.], [0., 0., 1.]], dtype=dtype)
    Y = np.array([[0., 2., 1.], [1., 0., 1.]])
    c = R.compute_cost(AL, Y, output="identity")
    assert c.shape == () and c.dtype == dtype
    np.testing.assert_allclose(c, (1 + 0 + 4 + 1 + 0 + 0) / (2 * 3),
                               rtol=1e-6)
    AL = np.array([[0.9, 0.4]], dtype=dtype)
    c = R.compute_cost(AL, np.array([[1, 0]]), output="sigmoid")
    np.testing.assert_allclose(c, -(np.log(.9) + np.log(.6)) / 2, rtol=1e-6)
    assert c.dtype == dtype


def test_softmax_cost_is_finite_when_saturated():
    AL = np.array([[1., 0.], [0., 1.]])
    c = R.compute_cost(AL, np.array([[1, 1]]), output="softmax")
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(c, -np.log(eps) / 2)


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_cost_default_is_the_sigmoid_and_labels_forms_agree(output):
    rng = np.random.RandomState(2)
    X, parameters, _ = _net(rng, 2, output)
    AL, _ = R.L_model_forward(X, parameters, output=output)
    y = _labels(output, X.shape[1], rng)
    c = R.compute_cost(AL, y, output=output)
    if output == "softmax":  # the one-hot form gives the same cost
        Y1 = _onehot(y, AL.shape[0])
        assert R.compute_cost(AL, Y1, output=output) == c
        np.testing.assert_allclose(c, -np.sum(Y1 * np.log(AL)) / 6,
                                   rtol=1e-12)
    if output == "sigmoid":
        assert R.compute_cost(AL, y) == c


# ---------------------------------------------------------------- predict

def test_predict_softmax_gives_class_indices(capsys):
    rng = np.random.RandomState(3)
    X, parameters, _ = _net(rng, 2, "softmax", m=40)
    AL, _ = R.L_model_forward(X, parameters, output="softmax")
    p = R.predict(X, None, parameters, output="softmax")
    assert p.shape == (1, 40) and p.dtype == np.int64
    np.testing.assert_array_equal(p[0], AL.argmax(axis=0))
    y = p.copy()
    y[0, :10] = (y[0, :10] + 1) % 4
    for labels in (y, _onehot(y, 4), y[0]):
        R.predict(X, labels, parameters, output="softmax")
        assert capsys.readouterr().out == "Accuracy: 0.75\n"


def test_predict_identity_gives_al_and_mse(capsys):
    rng = np.random.RandomState(4)
    X, parameters, _ = _net(rng, 3, "identity")
    AL, _ = R.L_model_forward(X, parameters, activation="tanh",
                              output="identity")
    y = AL + 0.5
    p = R.predict(X, y, parameters, activation="tanh", output="identity")
    np.testing.assert_array_equal(p, AL)
    assert capsys.readouterr().out == "Mean squared error: %s\n" % (
        np.mean((AL - y) ** 2))


# ---------------------------------------------------------------- initializers

def _randn_layers(rng, dims, f):
    out = {}
    for l in range(1, len(dims)):
        out["W%d" % l] = f(rng.randn(dims[l], dims[l - 1]), dims[l - 1])
        out["b%d" % l] = np.zeros((dims[l], 1))
    return out


def _glorot(rng, dims, acts):
    out = {}
    for l in range(1, len(dims)):
        factor = 2.0 if acts[min(l, len(dims) - 2) - 1] == "sigmoid" else 6.0
        bound = np.sqrt(factor / (dims[l - 1] + dims[l]))
        out["W%d" % l] = rng.uniform(-bound, bound, (dims[l - 1], dims[l])).T
        out["b%d" % l] = rng.uniform(-bound, bound, dims[l])[:, None]
    return out


INIT_FORMULAS = {
    "xavier": lambda rng, dims, acts: _randn_layers(
        rng, dims, lambda W, n: W / np.sqrt(n)),
    "he": lambda rng, dims, acts: _randn_layers(
        rng, dims, lambda W, n: W * np.sqrt(2. / n)),
    "random": lambda rng, dims, acts: _randn_layers(
        rng, dims, lambda W, n: W * 0.01),
    "zeros": lambda rng, dims, acts: _randn_layers(
        rng, dims, lambda W, n: W * 0),
    "glorot_uniform": _glorot,
}


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("initialization", list(INITIALIZERS))
def test_initializers_draw_their_formula(initialization, activation):
    dims = [4, 3, 5, 2]
    got = R.initialize_parameters_deep(dims, seed=7,
                                       initialization=initialization,
                                       activation=activation)
    want = INIT_FORMULAS[initialization](np.random.RandomState(7), dims,
                                         (activation,) * 2)
    assert list(got) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for key in want:
        assert got[key].dtype == np.float64
        assert got[key].flags.c_contiguous
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_scale_multiplies_random_weights():
    dims = [3, 4, 1]
    got = R.initialize_parameters_deep(dims, seed=2, scale=10,
                                       initialization="random")
    r = np.random.RandomState(2)
    np.testing.assert_array_equal(got["W1"], r.randn(4, 3) * 10)
    np.testing.assert_array_equal(got["W2"], r.randn(1, 4) * 10)
    # xavier's scale keeps today's meaning: randn * scale
    x = R.initialize_parameters_deep(dims, seed=2, scale=10)
    np.testing.assert_array_equal(x["W1"], got["W1"])


SKLEARN_NAMES = {"sigmoid": "logistic", "relu": "relu", "tanh": "tanh",
                 "identity": "identity"}


@pytest.mark.parametrize("activation", sorted(SKLEARN_NAMES))
def test_glorot_uniform_is_sklearns_initialisation(activation):
    neural_network = pytest.importorskip("sklearn.neural_network")
    dims = [6, 5, 4, 3]
    clf = neural_network.MLPClassifier(
        hidden_layer_sizes=dims[1:-1], activation=SKLEARN_NAMES[activation])
    # What MLPClassifier._initialize does with random_state=11: one
    # _init_coef per layer, in order, from check_random_state(11).
    clf._random_state = np.random.RandomState(11)
    got = R.initialize_parameters_deep(dims, seed=11,
                                       initialization="glorot_uniform",
                                       activation=activation)
    for l in range(1, len(dims)):
        coef, intercept = clf._init_coef(dims[l - 1], dims[l], np.float64)
        np.testing.assert_array_equal(got["W%d" % l], coef.T)
        np.testing.assert_array_equal(got["b%d" % l], intercept[:, None])


# ---------------------------------------------------------------- bad input

def _call_with(kw):
    rng = np.random.RandomState(0)
    X, parameters, _ = _net(rng, 2, "sigmoid")
    Y = _labels("sigmoid", 6, rng)
    AL, caches = R.L_model_forward(X, parameters)
    return {
        "L_model_forward": lambda: R.L_model_forward(X, parameters, **kw),
        "L_model_backward": lambda: R.L_model_backward(AL, Y, caches, **kw),
        "predict": lambda: R.predict(X, Y, parameters, **kw),
        "L_layer_model": lambda: R.L_layer_model(X, Y, [3, 5, 1], 0.1, 1,
                                                 **kw),
        "two_layer_model": lambda: R.two_layer_model(X, Y, [3, 5, 1], 0.1,
                                                     1, **kw),
    }


NAME_ARGS = [("activation", "swish"), ("output", "tanh"),
             ("activation", "softmax"), ("initialization", "lecun")]


TRAINING = ("L_layer_model", "two_layer_model")


@pytest.mark.parametrize("func,arg,value", [
    (func, arg, value) for arg, value in NAME_ARGS
    for func in ("L_model_forward", "L_model_backward", "predict") + TRAINING
    if arg != "initialization" or func in TRAINING])
def test_bad_names_raise_naming_the_argument(func, arg, value):
    with pytest.raises(ValueError, match="unknown %s '%s'; choose one of "
                                         "'" % (arg, value)):
        _call_with({arg: value})[func]()


def test_bad_names_elsewhere():
    with pytest.raises(ValueError, match="unknown output 'x'"):
        R.compute_cost(np.full((1, 2), .5), np.ones((1, 2)), output="x")
    with pytest.raises(ValueError, match="unknown initialization 'x'"):
        R.initialize_parameters_deep([2, 1], initialization="x")
    with pytest.raises(TypeError, match="output must be a name"):
        R.compute_cost(np.full((1, 2), .5), np.ones((1, 2)), output=None)
    rng = np.random.RandomState(0)
    X, parameters, _ = _net(rng, 3, "sigmoid")
    with pytest.raises(ValueError, match=r"unknown activation\[1\] 'foo'"):
        R.L_model_forward(X, parameters, activation=["relu", "foo"])
    with pytest.raises(ValueError, match="activation has 3 name.*L - 1 = 2"):
        R.L_model_forward(X, parameters, activation=("relu",) * 3)
    with pytest.raises(TypeError, match="activation must be a name"):
        R.L_model_forward(X, parameters, activation={"relu"})


def _softmax_train(Y, dims=(3, 4, 3)):
    X = np.random.RandomState(0).randn(3, 4)
    return R.L_layer_model(X, Y, list(dims), 0.1, 1, output="softmax")


@pytest.mark.parametrize("Y,message", [
    (np.array([[0, 1, 3, 1]]), r"Y must hold class indices 0\.\.2.*\(3\)"),
    (np.array([[0, 1, -1, 1]]), r"class indices 0\.\.2.*\(-1\)"),
    (np.array([[0, 1.5, 2, 1]]), r"class indices.*\(1\.5\)"),
    (np.array([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 1]]),
     r"Y of shape \(C, m\) must be one-hot.*column 3"),
    (np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
     r"must be one-hot.*column 2"),
    (np.ones((2, 4)), r"Y must be a \(1, m\) = \(1, 4\) row of class "
                      r"indices or a \(C, m\) = \(3, 4\) one-hot"),
    (np.array([[0, 1, np.nan, 1]]), "Y contains 1 NaN"),
])
def test_bad_softmax_labels(Y, message):
    with pytest.raises(ValueError, match=message):
        _softmax_train(Y)


def test_bad_output_widths_and_identity_targets():
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match="must end with C >= 2"):
        R.L_layer_model(X, np.zeros((1, 4)), [3, 2, 1], output="softmax")
    with pytest.raises(ValueError, match="must end with 1"):
        R.L_layer_model(X, np.zeros((1, 4)), [3, 2, 2])
    with pytest.raises(ValueError, match=r"Y must have shape \(n_y, m\) = "
                                         r"\(2, 4\)"):
        R.L_layer_model(X, np.zeros((1, 4)), [3, 2, 2], output="identity")
    with pytest.raises(ValueError, match="y must hold class indices"):
        R.predict(X, np.array([[0, 5, 1, 1]]),
                  R.initialize_parameters_deep([3, 2]), output="softmax")
    with pytest.raises(ValueError, match="Y contains 0 NaN and 1 inf"):
        R.compute_cost(np.ones((2, 1)), np.array([[np.inf], [0]]),
                       output="identity")


# ---------------------------------------------------------------- training

def _blobs(rng, n_classes, n_x, m):
    centers = rng.randn(n_classes, n_x) * 4
    y = rng.randint(0, n_classes, m)
    X = (centers[y] + rng.randn(m, n_x)).T
    return X, y.reshape(1, m)


@pytest.mark.parametrize("labels", ["indices", "onehot"])
def test_softmax_trains_on_ten_classes(labels, capsys):
    rng = np.random.RandomState(5)
    X, y = _blobs(rng, 10, 5, 300)
    Y = y if labels == "indices" else _onehot(y, 10)
    parameters, costs = R.L_layer_model(X, Y, [5, 16, 10], 0.1, 500,
                                        output="softmax", initialization="he")
    costs = np.asarray(costs, dtype=float)
    assert np.all(np.diff(costs) < 0) and costs[-1] < 0.3 * costs[0]
    p = R.predict(X, y, parameters, output="softmax")
    assert np.mean(p == y) > 0.9
    assert capsys.readouterr().out.startswith("Accuracy: ")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regression_trains_with_identity_output(dtype):
    rng = np.random.RandomState(6)
    X = rng.uniform(-2, 2, (2, 200)).astype(dtype)
    Y = np.vstack([np.sin(X[0]) + X[1], X[0] * X[1]]).astype(dtype)
    parameters, costs = R.L_layer_model(X, Y, [2, 16, 8, 2], 0.05, 800,
                                        activation="tanh",
                                        output="identity")
    assert costs[0].dtype == dtype and parameters["W1"].dtype == dtype
    costs = np.asarray(costs, dtype=float)
    assert costs[-1] < 0.3 * costs[0]


def test_course_x10_random_initialisation_trains():
    # The initialisation notebook's "large random" network: saturated
    # outputs on wrong labels from the first iteration; the clipped cost
    # and the fused gradient AL - Y keep training finite.
    # Its data: the circles of init_utils.load_dataset (np.random.seed(1)).
    X, Y = circles(300, noise=0.05, seed=1)
    parameters, costs = R.L_layer_model(X, Y, [2, 10, 5, 1], 0.01, 1000,
                                        initialization="random", scale=10)
    AL, _ = R.L_model_forward(X, R.initialize_parameters_deep(
        [2, 10, 5, 1], initialization="random", scale=10))
    assert np.any((AL == 0) & (Y == 1)) or np.any((AL == 1) & (Y == 0))
    costs = np.asarray(costs, dtype=float)
    assert np.isfinite(costs).all() and costs[-1] < costs[0]


@pytest.mark.parametrize("activation,output",
                         list(itertools.product(ACTIVATIONS, OUTPUTS)))
def test_every_combination_trains(activation, output):
    rng = np.random.RandomState(8)
    X = rng.randn(3, 30)
    Y = _labels(output, 30, rng)
    dims = [3, 6, 5, _n_out(output)]
    _, costs = R.L_layer_model(X, Y, dims, 0.05, 201, activation=activation,
                               output=output)
    assert costs[-1] < costs[0]
    _, costs2 = R.two_layer_model(X, Y, dims[:2] + dims[-1:], 0.5, 201,
                                  activation=activation, output=output)
    assert costs2[-1] < costs2[0]
