"""The numba backend's activation and output tables against the
reference's: the same names, and for every activation x output x depth x
dtype x layout the same forward pass, cost and backward pass; training with
the primal solver equal to the reference's for every activation x output,
a 10-class softmax problem and a regression problem included (the gram
solver on every network: tests/test_gram_general.py)."""
import numpy as np
import pytest

from fastdnn import jit, reference
from fastdnn import _kernels as K
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_outputs import OUTPUTS

# The comparison and tolerances of the equivalence tests: one pass,
# relative to the largest magnitude of the whole result; training compounds
# the differences over its iterations.
from test_equivalence import RTOL, TRAINING_FACTOR, _close

ACT_NAMES = sorted(jit.ACT_CODES)
OUTPUT_NAMES = sorted(jit.OUTPUT_CODES)
DTYPES = [np.float32, np.float64]

# Costs of a float64 training run, relative (the spec's).
COST_RTOL = 1e-9


# ------------------------------------------------------------ the tables

def test_both_backends_have_the_same_tables():
    assert set(jit.ACT_CODES) == set(ACTIVATIONS)
    assert set(jit.OUTPUT_CODES) == set(OUTPUTS)


def test_every_code_is_a_kernel_code_and_names_are_distinct():
    assert sorted(jit.ACT_CODES.values()) == sorted(K.ACT_ALL)
    assert sorted(jit.OUTPUT_CODES.values()) == sorted(K.OUT_ALL)
    assert jit.ACT_CODES["identity"] == K.ACT_IDENTITY == K.ACT_NONE
    assert jit.ACT_CODES["tanh"] == K.ACT_TANH
    assert jit.ACT_CODES["leaky_relu"] == K.ACT_LEAKY_RELU
    assert jit.OUTPUT_CODES["softmax"] == K.OUT_SOFTMAX
    assert jit.OUTPUT_CODES["identity"] == K.OUT_IDENTITY


# ------------------------------------------------------------ helpers

def _labels(output, n_y, m, rng):
    if output == "sigmoid":
        return (rng.random_sample((1, m)) > 0.5).astype(np.float64)
    if output == "softmax":
        return rng.randint(0, n_y, (1, m))  # class indices, int dtype
    return rng.standard_normal((n_y, m))


def _problem(act, output, depth, dtype, layout, m=23, seed=0):
    rng = np.random.RandomState(seed)
    n_y = 1 if output == "sigmoid" else 3
    dims = [7, 6, 5, n_y][-(depth + 1):]
    dims[0] = 7
    X = rng.standard_normal((m, dims[0])).astype(dtype).T  # Fortran
    if layout == "C":
        X = np.ascontiguousarray(X)
    elif layout == "strided":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    parameters = reference.initialize_parameters_deep(dims, seed=seed)
    # Weights of 1.5x xavier: the hidden activations leave their linear
    # range, so that each formula matters.
    parameters = {k: (1.5 * P).astype(dtype)
                  for k, P in parameters.items()}
    for l in range(1, depth + 1):
        parameters["b%d" % l] += dtype(0.1)
    Y = _labels(output, n_y, m, rng)
    return X, Y, parameters


CASES = [(act, output, depth, dtype, layout)
         for act in ACT_NAMES for output in OUTPUT_NAMES
         for depth in (1, 2, 3) for dtype in DTYPES
         for layout in ("C", "F", "strided")]


def _id(case):
    act, output, depth, dtype, layout = case
    return "%s-%s-L%d-%s-%s" % (act, output, depth, np.dtype(dtype).name,
                                layout)


# ------------------------------------------------------------ one pass

@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_forward_cost_backward_match_the_reference(case):
    act, output, depth, dtype, layout = case
    rtol = RTOL[np.dtype(dtype)]
    X, Y, parameters = _problem(act, output, depth, dtype, layout)
    kw = dict(activation=act, output=output)
    AL_r, caches_r = reference.L_model_forward(X, parameters, **kw)
    AL_j, caches_j = jit.L_model_forward(X, parameters, **kw)
    _close(AL_j, AL_r, rtol, "AL")
    _close([c[1] for c in caches_j], [c[1] for c in caches_r], rtol, "Z")
    _close(jit.compute_cost(AL_j, Y, output=output),
           reference.compute_cost(AL_r, Y, output=output), rtol, "cost")
    # Each backend's backward from the same AL and caches (the reference's),
    # and from its own forward pass.
    grads_r = reference.L_model_backward(AL_r, Y, caches_r, **kw)
    _close(jit.L_model_backward(AL_r, Y, caches_r, **kw), grads_r, rtol,
           "grads")
    _close(jit.L_model_backward(AL_j, Y, caches_j, **kw), grads_r,
           rtol * TRAINING_FACTOR, "grads of jit's forward")


@pytest.mark.parametrize("output", OUTPUT_NAMES)
@pytest.mark.parametrize("act", ACT_NAMES)
def test_predict_matches_the_reference(act, output, capsys):
    X, Y, parameters = _problem(act, output, 3, np.float64, "F")
    kw = dict(activation=act, output=output)
    want = reference.predict(X, Y, parameters, **kw)
    printed = capsys.readouterr().out
    got = jit.predict(X, Y, parameters, **kw)
    assert capsys.readouterr().out.split(":")[0] == printed.split(":")[0]
    assert got.dtype == want.dtype and got.shape == want.shape
    if output == "identity":
        np.testing.assert_allclose(got, want, rtol=1e-12)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("name", ["tanh", "leaky_relu", "softmax"])
def test_building_blocks_match_the_reference(name, layout, dtype):
    rtol = RTOL[np.dtype(dtype)]
    Z = (np.random.RandomState(3).standard_normal((9, 5)) * 3).astype(dtype)
    dA = np.random.RandomState(4).standard_normal((5, 9)).astype(dtype).T
    if layout == "F":
        Z = np.asfortranarray(Z)
    elif layout == "strided":
        Z = np.repeat(Z, 2, axis=1)[:, ::2]
    A_r, cache_r = getattr(reference, name)(Z)
    A_j, cache_j = getattr(jit, name)(Z)
    _close(A_j, A_r, rtol, name)
    np.testing.assert_array_equal(cache_j, cache_r)
    if name != "softmax":
        back = name + "_backward"
        _close(getattr(jit, back)(dA, cache_j),
               getattr(reference, back)(dA, cache_r), rtol, back)


@pytest.mark.parametrize("bad", [
    np.ones(4), np.ones((2, 2, 2)), np.array([[1.0, np.nan]]),
    np.array([["a", "b"]]), [[1, 2], [3]], np.ones((2, 3)),
], ids=["1-D", "3-D", "NaN", "str", "ragged", "shape"])
@pytest.mark.parametrize("name", ["tanh", "leaky_relu", "softmax",
                                  "tanh_backward", "leaky_relu_backward"])
def test_building_blocks_refuse_bad_input_as_the_reference(name, bad):
    # The backward passes get a dA of another shape than the cache.
    if name.endswith("backward"):
        args = (bad, np.ones((2, 2)))
    elif isinstance(bad, np.ndarray) and bad.shape == (2, 3):
        pytest.skip("valid input of a forward block")
    else:
        args = (bad,)
    with pytest.raises((TypeError, ValueError)) as want:
        getattr(reference, name)(*args)
    with pytest.raises(want.type) as got:
        getattr(jit, name)(*args)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("act", ACT_NAMES + ["softmax"])
def test_linear_activation_forward_takes_every_layer_name(act):
    X, _, parameters = _problem("relu", "softmax", 1, np.float64, "F")
    W, b = parameters["W1"], parameters["b1"]
    A_r, cache_r = reference.linear_activation_forward(X, W, b, act)
    A_j, cache_j = jit.linear_activation_forward(X, W, b, act)
    _close(A_j, A_r, 1e-12, act)
    # The activation's output is its own array, never the cache's Z.
    assert not np.shares_memory(A_j, cache_j[1])
    dA = np.ones_like(A_r)
    if act == "softmax":
        with pytest.raises(ValueError) as want:
            reference.linear_activation_backward(dA, cache_r, act)
        with pytest.raises(ValueError) as got:
            jit.linear_activation_backward(dA, cache_j, act)
        assert str(got.value) == str(want.value)
    else:
        _close(jit.linear_activation_backward(dA, cache_j, act),
               reference.linear_activation_backward(dA, cache_r, act),
               1e-12, act)


@pytest.mark.parametrize("call", [
    lambda m, X, Y, p: m.L_model_forward(X, p, activation="swish"),
    lambda m, X, Y, p: m.L_model_forward(X, p, output="relu"),
    lambda m, X, Y, p: m.L_model_forward(X, p, activation=["relu"]),
    lambda m, X, Y, p: m.compute_cost(np.full((1, 23), .5), Y,
                                      output="mse"),
    lambda m, X, Y, p: m.predict(X, None, p, activation="softmax"),
    lambda m, X, Y, p: m.L_layer_model(X, Y, [7, 6, 1], 0.1, 1,
                                       initialization="normal"),
    lambda m, X, Y, p: m.L_layer_model(X, Y, [7, 6, 1], 0.1, 1,
                                       output="softmax"),
    lambda m, X, Y, p: m.two_layer_model(X, Y, [7, 6, 1], 0.1, 1,
                                         activation=("tanh", "relu")),
    lambda m, X, Y, p: m.L_layer_model(X, Y, [7, 6, 1], 0.1, 1, scale=-1),
    lambda m, X, Y, p: m.L_layer_model(X, Y, [7, 6, 1], 0.1, 1,
                                       initialization=3),
    lambda m, X, Y, p: m.L_layer_model(X, Y * 4, [7, 6, 4], 0.1, 1,
                                       output="softmax"),
    lambda m, X, Y, p: m.L_layer_model(X, Y, [7, 6, 2], 0.1, 1,
                                       output="identity"),
    lambda m, X, Y, p: m.compute_cost(np.full((3, 23), 1 / 3), Y * 3,
                                      output="softmax"),
    lambda m, X, Y, p: m.compute_cost(np.full((3, 23), 1 / 3),
                                      np.ones((3, 23)), output="softmax"),
    lambda m, X, Y, p: m.compute_cost(np.ones((2, 23)), Y,
                                      output="identity"),
    lambda m, X, Y, p: m.L_model_backward(
        *m.L_model_forward(X, p, output="identity")[:1], np.ones((2, 23)),
        m.L_model_forward(X, p, output="identity")[1], output="identity"),
    lambda m, X, Y, p: m.L_model_backward(
        np.full((1, 23), .5), Y, m.L_model_forward(X, p)[1],
        activation=["relu", "softmax"]),
    lambda m, X, Y, p: m.predict(X, Y[:, :5], p, output="identity"),
])
def test_bad_names_and_labels_raise_the_reference_s_error(call):
    X, Y, parameters = _problem("relu", "sigmoid", 3, np.float64, "F")
    with pytest.raises((TypeError, ValueError)) as want:
        call(reference, X, Y, parameters)
    with pytest.raises(want.type) as got:
        call(jit, X, Y, parameters)
    assert str(got.value) == str(want.value)


# ------------------------------------------------------------ training

def _train_both(model, X, Y, dims, lr, n, **kw):
    want = getattr(reference, model)(X, Y, dims, lr, n, **kw)
    got = getattr(jit, model)(X, Y, dims, lr, n, solver="primal", **kw)
    return got, want


def _same_training(got, want, rtol=COST_RTOL):
    (p_got, c_got), (p_want, c_want) = got, want
    assert len(c_got) == len(c_want)
    assert all(c.dtype == w.dtype and c.shape == () for c, w in
               zip(c_got, c_want))
    np.testing.assert_allclose(np.array(c_got, dtype=float),
                               np.array(c_want, dtype=float), rtol=rtol)
    _close(p_got, p_want, rtol, "parameters")


@pytest.mark.parametrize("output", OUTPUT_NAMES)
@pytest.mark.parametrize("act", ACT_NAMES)
def test_primal_training_matches_the_reference(act, output):
    X, Y, _ = _problem(act, output, 3, np.float64, "F", m=40)
    dims = [7, 5, 4, 1 if output == "sigmoid" else 3]
    kw = dict(activation=act, output=output)
    _same_training(*_train_both("L_layer_model", X, Y, dims, 0.05, 201,
                                **kw))
    # A mixed network, and the two-layer model's own initializer.
    mixed = [act, "tanh"]
    _same_training(*_train_both("L_layer_model", X, Y, dims, 0.05, 101,
                                activation=mixed, output=output,
                                initialization="he"))
    _same_training(*_train_both("two_layer_model", X, Y, [7, 5, dims[-1]],
                                0.05, 101, **kw))


@pytest.mark.parametrize("output", OUTPUT_NAMES)
def test_float32_training_matches_the_reference(output):
    X, Y, _ = _problem("tanh", output, 3, np.float32, "F", m=40)
    dims = [7, 5, 4, 1 if output == "sigmoid" else 3]
    got, want = _train_both("L_layer_model", X, Y, dims, 0.05, 101,
                            activation="tanh", output=output)
    _same_training(got, want, RTOL[np.dtype(np.float32)] * TRAINING_FACTOR)


def _blobs(n_classes=10, n_x=12, per_class=30, seed=5):
    rng = np.random.RandomState(seed)
    centers = rng.standard_normal((n_classes, n_x)) * 2
    y = np.repeat(np.arange(n_classes), per_class)
    X = (centers[y] + rng.standard_normal((y.size, n_x))).T
    return X, y.reshape(1, -1)


def test_ten_class_softmax_problem_trains_as_the_reference():
    X, y = _blobs()
    onehot = np.eye(10)[:, y[0]]
    dims = [12, 16, 10]
    for labels in (y, onehot):
        got, want = _train_both("L_layer_model", X, labels, dims, 0.1, 301,
                                activation="tanh", output="softmax")
        _same_training(got, want)
    # It learns: the cost falls well below log(10), the accuracy is high.
    costs = [float(c) for c in got[1]]
    assert costs[0] > 2 and costs[-1] < 0.5
    pred = jit.predict(X, y, got[0], print_accuracy=False,
                       activation="tanh", output="softmax")
    assert pred.dtype == np.int64 and np.mean(pred == y) > 0.9


def test_regression_problem_trains_as_the_reference():
    rng = np.random.RandomState(6)
    X = rng.uniform(-2, 2, (3, 150))
    Y = np.vstack([np.sin(X[0]) + 0.5 * X[1], X[2] ** 2 / 4])
    dims = [3, 12, 8, 2]
    got, want = _train_both("L_layer_model", X, Y, dims, 0.05, 501,
                            activation="leaky_relu", output="identity")
    _same_training(got, want)
    costs = [float(c) for c in got[1]]
    assert costs[-1] < costs[0] / 3


def test_saturated_sigmoid_output_trains_as_the_reference():
    # The course's x10 random init saturates the sigmoid on wrong labels:
    # the fused gradient AL - Y keeps training finite in both backends.
    X, Y, _ = _problem("relu", "sigmoid", 3, np.float64, "F", m=40)
    X = X * 30
    got, want = _train_both("L_layer_model", X, Y, [7, 5, 4, 1], 0.01, 101,
                            initialization="random", scale=10)
    _same_training(got, want)
