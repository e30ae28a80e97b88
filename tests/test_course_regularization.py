"""fastdnn.course "regularization": the Course 2 Week 1 notebook's
public-test values on both backends, and its model.

The values are in tests/course_values_c2_toolbox.py. The notebook's own
dataset (data.mat) is not available, so its printed costs and accuracies
cannot be reproduced; ``model`` is checked against the backend's
``L_layer_model`` and against its own building blocks on the moons.
"""
import contextlib
import io

import numpy as np
import pytest

import fastdnn
import fastdnn.course
import fastdnn.datasets
from course_checks import (PRINTED, check_default_namespace,
                           check_signatures, check_star_import)
from course_values_c2_toolbox import REG

BACKENDS = sorted(fastdnn.BACKENDS)

# The public tests' hard-coded caches are seeded draws rounded to 8
# decimals; outputs computed from the unrounded draws differ from the
# published ones by up to ~2e-8.
FROM_ROUNDED = dict(rtol=0, atol=3e-8)

SHAPES = (("W1", (2, 3)), ("b1", (2, 1)), ("W2", (3, 2)), ("b2", (3, 1)),
          ("W3", (1, 3)), ("b3", (1, 1)))
Y5 = np.array([[1, 1, 0, 1, 0]])


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def nb(backend):
    return fastdnn.course.load("regularization", backend)


@pytest.fixture(scope="module")
def moons():
    return fastdnn.datasets.load_moons_dataset()


def _seeded_case(with_X):
    """The public tests' inputs: (X (3, 5) then) the six parameters drawn
    in turn after np.random.seed(1)."""
    np.random.seed(1)
    X = np.random.randn(3, 5) if with_X else None
    return X, {k: np.random.randn(*shape) for k, shape in SHAPES}


def _check_grads(got, want, **tol):
    assert list(got) == ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2",
                         "dA1", "dZ1", "dW1", "db1"]
    for key, value in want.items():
        assert got[key].shape == np.shape(value), key
        np.testing.assert_allclose(got[key], value, err_msg=key, **tol)


def _run(fn, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args, **kwargs)
    return result, out.getvalue()


# ------------------------------------------------------------ namespace

NAMES = ["initialize_parameters", "forward_propagation",
         "backward_propagation", "compute_cost", "update_parameters",
         "predict", "predict_dec", "plot_decision_boundary",
         "compute_cost_with_regularization",
         "backward_propagation_with_regularization",
         "forward_propagation_with_dropout",
         "backward_propagation_with_dropout", "model"]


def test_import_gives_the_numba_namespace():
    import fastdnn.course.regularization as reg
    check_default_namespace("regularization", reg, "Regularization")


def test_star_import_gives_the_notebooks_names():
    check_star_import("regularization", NAMES)


def test_the_notebooks_signatures(nb):
    check_signatures(nb, {
        "compute_cost_with_regularization": "(A3, Y, parameters, lambd)",
        "backward_propagation_with_regularization": "(X, Y, cache, lambd)",
        "forward_propagation_with_dropout": "(X, parameters, keep_prob=0.5)",
        "backward_propagation_with_dropout": "(X, Y, cache, keep_prob)",
        "model": "(X, Y, learning_rate=0.3, num_iterations=30000, "
                 "print_cost=True, lambd=0, keep_prob=1)",
        "initialize_parameters": "(layer_dims)",
        "forward_propagation": "(X, parameters)",
        "backward_propagation": "(X, Y, cache)",
        "compute_cost": "(a3, Y)",
        "update_parameters": "(parameters, grads, learning_rate)",
        "predict": "(X, y, parameters)",
        "predict_dec": "(parameters, X)",
        "plot_decision_boundary": "(model, X, y)",
    })


# ------------------------------------------------------------ L2

def test_compute_cost_with_regularization(nb):
    _, parameters = _seeded_case(False)
    cost = nb.compute_cost_with_regularization(
        np.array(REG["cost A3"]), Y5, parameters, 0.1)
    assert isinstance(cost, np.float64)
    np.testing.assert_allclose(cost, REG["compute_cost_with_regularization"],
                               rtol=1e-13)
    # lambd = 0 is the plain cross-entropy.
    assert nb.compute_cost_with_regularization(
        np.array(REG["cost A3"]), Y5, parameters, 0) == nb.compute_cost(
            np.array(REG["cost A3"]), Y5)


def test_backward_propagation_with_regularization(nb):
    X, parameters = _seeded_case(True)
    A3, cache = nb.forward_propagation(X, parameters)
    np.testing.assert_allclose(A3, REG["cost A3"], **PRINTED)
    grads = nb.backward_propagation_with_regularization(X, Y5, cache, 0.7)
    _check_grads(grads, REG["backward_propagation_with_regularization"],
                 **FROM_ROUNDED)


def test_l2_adds_lambd_W_over_m_to_dW_only(nb):
    X, parameters = _seeded_case(True)
    _, cache = nb.forward_propagation(X, parameters)
    plain = nb.backward_propagation_with_regularization(X, Y5, cache, 0)
    l2 = nb.backward_propagation_with_regularization(X, Y5, cache, 0.7)
    for key in plain:
        if key.startswith("dW"):
            np.testing.assert_allclose(
                l2[key] - plain[key], 0.7 * parameters["W" + key[2]] / 5,
                rtol=1e-12, atol=1e-15)
        else:
            np.testing.assert_array_equal(l2[key], plain[key])


def test_backward_propagation_is_the_modules_scaled_gradients(nb):
    # The utility module's backward_propagation: lower-case keys, dz and da
    # carry the 1/m, dW and db are the same.
    X, parameters = _seeded_case(True)
    _, cache = nb.forward_propagation(X, parameters)
    upper = nb.backward_propagation_with_regularization(X, Y5, cache, 0)
    lower = nb.backward_propagation(X, Y5, cache)
    assert list(lower) == [k.replace("dZ", "dz").replace("dA", "da")
                           for k in upper]
    for key, value in upper.items():
        got = lower[key.replace("dZ", "dz").replace("dA", "da")]
        scale = 1 / 5 if key[1] in "ZA" else 1
        np.testing.assert_allclose(got, value * scale, rtol=1e-15)


# ------------------------------------------------------------ dropout

def test_forward_propagation_with_dropout(nb):
    X, parameters = _seeded_case(True)
    np.random.seed(12345)
    A3, cache = nb.forward_propagation_with_dropout(X, parameters, 0.7)
    want = REG["forward_propagation_with_dropout"]
    np.testing.assert_allclose(A3, want["A3"], **PRINTED)
    assert len(cache) == 14
    named = dict(zip(("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2",
                      "b2", "Z3", "A3", "W3", "b3"), cache))
    for key in ("D1", "D2"):
        np.testing.assert_array_equal(named[key], want[key], err_msg=key)
    for key in ("A1", "A2", "Z3"):
        np.testing.assert_allclose(named[key], want[key], err_msg=key,
                                   **PRINTED)
    assert named["A3"] is A3
    # numpy's generator: seed 1, then the two masks' draws.
    rng = np.random.RandomState(1)
    rng.rand(2, 5)
    rng.rand(3, 5)
    np.testing.assert_array_equal(np.random.rand(3), rng.rand(3))


def test_dropout_masks_are_the_same_at_every_call(nb):
    X, parameters = _seeded_case(True)
    _, first = nb.forward_propagation_with_dropout(X, parameters, 0.5)
    np.random.rand(7)
    _, again = nb.forward_propagation_with_dropout(X, parameters, 0.5)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_keep_prob_1_is_forward_propagation(nb):
    X, parameters = _seeded_case(True)
    A3, cache = nb.forward_propagation(X, parameters)
    A3d, cached = nb.forward_propagation_with_dropout(X, parameters, 1)
    np.testing.assert_array_equal(A3d, A3)
    assert not (cached[1] - 1).any() and not (cached[6] - 1).any()


def test_backward_propagation_with_dropout(nb):
    X, parameters = _seeded_case(True)
    A3, cache = nb.forward_propagation_with_dropout(X, parameters, 0.5)
    want = REG["dropout cache"]
    np.testing.assert_array_equal(cache[1], want["D1"])
    np.testing.assert_array_equal(cache[6], want["D2"])
    np.testing.assert_allclose(A3, want["A3"], **PRINTED)
    grads = nb.backward_propagation_with_dropout(X, Y5, cache, 0.8)
    _check_grads(grads, REG["backward_propagation_with_dropout"],
                 **FROM_ROUNDED)


def test_both_backends_give_the_same_gradients():
    X, parameters = _seeded_case(True)
    results = []
    for backend in BACKENDS:
        nb = fastdnn.course.load("regularization", backend)
        _, cache = nb.forward_propagation_with_dropout(X, parameters, 0.6)
        results.append(nb.backward_propagation_with_dropout(X, Y5, cache,
                                                            0.6))
    for key in results[0]:
        np.testing.assert_allclose(results[1][key], results[0][key],
                                   rtol=1e-12, atol=1e-15, err_msg=key)


# ------------------------------------------------------------ bad input

@pytest.mark.parametrize("call, error, match", [
    (lambda nb, X, p, c: nb.compute_cost_with_regularization(
        np.array(REG["cost A3"]), Y5, p, -1), ValueError, "lambd"),
    (lambda nb, X, p, c: nb.backward_propagation_with_regularization(
        X, Y5, c, "0.7"), TypeError, "lambd"),
    (lambda nb, X, p, c: nb.forward_propagation_with_dropout(X, p, 0),
     ValueError, "keep_prob"),
    (lambda nb, X, p, c: nb.forward_propagation_with_dropout(X, p, 1.5),
     ValueError, "keep_prob"),
    (lambda nb, X, p, c: nb.backward_propagation_with_dropout(X, Y5, c, 0.8),
     TypeError, "cache must be the tuple of 14 arrays"),
    (lambda nb, X, p, c: nb.backward_propagation_with_regularization(
        X, Y5, c[:11], 0.7), TypeError, "cache must be the tuple of 12"),
    (lambda nb, X, p, c: nb.backward_propagation_with_regularization(
        X[:, :4], Y5, c, 0.7), ValueError, "X has 4 columns"),
    (lambda nb, X, p, c: nb.forward_propagation(
        X, {k: p[k] for k in ("W1", "b1", "W2", "b2")}), ValueError,
     "3-layer"),
])
def test_bad_input_is_refused_alike_in_both_backends(call, error, match):
    X, parameters = _seeded_case(True)
    messages = []
    for backend in BACKENDS:
        nb = fastdnn.course.load("regularization", backend)
        _, cache = nb.forward_propagation(X, parameters)
        with pytest.raises(error, match=match) as info:
            call(nb, X, parameters, cache)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# ------------------------------------------------------------ model

def _printed(out):
    return [(int(line.split(":")[0].rsplit(" ", 1)[1]),
             float(line.split(": ")[1])) for line in out.splitlines()]


def test_initialize_parameters(nb, backend):
    np.random.seed(12345)
    parameters = nb.initialize_parameters([2, 20, 3, 1])
    rng = np.random.RandomState(3)
    for l, (n, n_prev) in enumerate(((20, 2), (3, 20), (1, 3)), 1):
        np.testing.assert_array_equal(
            parameters["W%d" % l], rng.randn(n, n_prev) / np.sqrt(n_prev))
        np.testing.assert_array_equal(parameters["b%d" % l],
                                      np.zeros((n, 1)))
    np.testing.assert_array_equal(np.random.rand(2), rng.rand(2))


@pytest.mark.parametrize("lambd", [0, 0.7])
def test_model_without_dropout_is_the_backends_L_layer_model(
        nb, backend, moons, lambd):
    X, Y = moons
    got, out = _run(nb.model, X, Y, num_iterations=10001, lambd=lambd)
    want, costs = fastdnn.get_backend(backend).L_layer_model(
        X, Y, [2, 20, 3, 1], 0.3, 10001, seed=3, lambd=lambd)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert _printed(out) == [(0, float(costs[0])), (10000,
                                                    float(costs[100]))]


@pytest.mark.parametrize("kwargs", [dict(lambd=0.7), dict(keep_prob=0.86)])
def test_model_steps_are_the_notebooks_functions(nb, moons, kwargs):
    # Two iterations by hand with the namespace's own functions.
    X, Y = moons
    got, out = _run(nb.model, X, Y, num_iterations=2, **kwargs)
    parameters = nb.initialize_parameters([2, 20, 3, 1])
    costs = []
    for _ in range(2):
        if "lambd" in kwargs:
            a3, cache = nb.forward_propagation(X, parameters)
            costs.append(nb.compute_cost_with_regularization(
                a3, Y, parameters, 0.7))
            grads = nb.backward_propagation_with_regularization(X, Y, cache,
                                                                0.7)
        else:
            a3, cache = nb.forward_propagation_with_dropout(X, parameters,
                                                            0.86)
            costs.append(nb.compute_cost(a3, Y))
            grads = nb.backward_propagation_with_dropout(X, Y, cache, 0.86)
        parameters = nb.update_parameters(parameters, grads, 0.3)
    # With L2 the backend's training forms the same sums in another order.
    tol = dict(rtol=1e-12, atol=1e-15) if "lambd" in kwargs else dict(
        rtol=0, atol=0)
    for key in parameters:
        np.testing.assert_allclose(got[key], parameters[key], err_msg=key,
                                   **tol)
    (iteration, printed), = _printed(out)
    assert iteration == 0
    np.testing.assert_allclose(printed, costs[0], **tol)


@pytest.mark.parametrize("kwargs", [dict(lambd=0.7), dict(keep_prob=0.86)])
def test_model_regularizes_and_both_backends_agree(moons, kwargs):
    X, Y = moons
    runs = [_run(fastdnn.course.load("regularization", b).model, X, Y,
                 num_iterations=1001, print_cost=False, **kwargs)
            for b in BACKENDS]
    assert runs[0][1] == runs[1][1] == ""
    for key in runs[0][0]:
        np.testing.assert_allclose(runs[1][0][key], runs[0][0][key],
                                   rtol=1e-9, atol=1e-12, err_msg=key)
    # L2 shrinks the weights; dropout trains too.
    nb = fastdnn.course.load("regularization", BACKENDS[0])
    plain, _ = _run(nb.model, X, Y, num_iterations=1001, print_cost=False)
    if "lambd" in kwargs:
        assert sum(np.sum(runs[0][0]["W%d" % l] ** 2) for l in (1, 2, 3)) \
            < sum(np.sum(plain["W%d" % l] ** 2) for l in (1, 2, 3))
    p, out = _run(nb.predict, X, Y, runs[0][0])
    assert np.mean(p == Y) > 0.85


def test_model_refuses_l2_with_dropout(nb, moons):
    X, Y = moons
    with pytest.raises(ValueError, match="not both"):
        nb.model(X, Y, num_iterations=1, lambd=0.1, keep_prob=0.5)


def test_model_refuses_bad_data_alike_in_both_backends(moons):
    X, Y = moons
    for kwargs in ({}, {"lambd": 0.7}, {"keep_prob": 0.8}):
        for bad in ((X[0], Y), (X, Y * 2), (X, Y[:, :10])):
            errors = []
            for backend in BACKENDS:
                model = fastdnn.course.load("regularization", backend).model
                with pytest.raises((TypeError, ValueError)) as info:
                    model(*bad, num_iterations=1, **kwargs)
                errors.append((info.type, str(info.value)))
            assert errors[0] == errors[1]


# ------------------------------------------------------------ predict

def test_predict_and_predict_dec(nb, moons, capsys):
    X, Y = moons
    parameters = nb.initialize_parameters([2, 20, 3, 1])
    A3, _ = nb.forward_propagation(X, parameters)
    p = nb.predict(X, Y, parameters)
    assert p.dtype.kind == "i"
    np.testing.assert_array_equal(p, (A3 > 0.5).astype(int))
    assert capsys.readouterr().out == "Accuracy: %s\n" % np.mean(p == Y)
    dec = nb.predict_dec(parameters, X)
    assert dec.dtype == bool
    np.testing.assert_array_equal(dec, A3 > 0.5)


def test_plot_decision_boundary_returns_a_figure(nb, moons):
    from matplotlib.figure import Figure
    X, Y = moons
    parameters = nb.initialize_parameters([2, 20, 3, 1])
    fig = nb.plot_decision_boundary(
        lambda x: nb.predict_dec(parameters, x.T), X, Y)
    assert isinstance(fig, Figure)
    ax, = fig.axes
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    assert ax.get_xlim()[0] <= X[0].min() - 0.99
