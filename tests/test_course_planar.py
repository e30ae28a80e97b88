"""fastdnn.course "planar": the Course 1 Week 3 notebook's public-test
values, printed costs and flower accuracy on both backends.

The values are in tests/course_values_c2.py; each test case's inputs are
drawn here from its seed and shapes, as the course's tests draw them.
"""
import contextlib
import io

import numpy as np
import pytest

import fastdnn
import fastdnn.course
import fastdnn.datasets
from course_checks import (PRINTED, check_default_namespace,
                           check_parameters, check_signatures,
                           check_star_import)
from course_values_c2 import (
    FLOWER_ACCURACY_PERCENT, FLOWER_COSTS, FLOWER_EXACT_UNTIL, PLANAR,
    PLANAR_PARAMETERS)

BACKENDS = sorted(fastdnn.BACKENDS)


def _draws(seed, *shapes):
    """``randn`` arrays of the given shapes, drawn in turn after
    ``np.random.seed(seed)``."""
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape) for shape in shapes]


def _arrays(values):
    return {k: np.array(v) for k, v in values.items()}


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def nb(backend):
    return fastdnn.course.load("planar", backend)


# ------------------------------------------------------------ namespace

def test_import_gives_the_numba_namespace():
    import fastdnn.course.planar as planar
    check_default_namespace(
        "planar", planar,
        "Planar data classification with one hidden layer")


def test_star_import_gives_the_notebooks_names():
    ns = check_star_import("planar", [
        "load_planar_dataset", "layer_sizes", "initialize_parameters",
        "forward_propagation", "compute_cost", "backward_propagation",
        "update_parameters", "nn_model", "predict"])
    assert ns["load_planar_dataset"] is fastdnn.datasets.load_planar_dataset


def test_the_notebooks_signatures(nb):
    signatures = {
        "layer_sizes": "(X, Y)",
        "initialize_parameters": "(n_x, n_h, n_y)",
        "forward_propagation": "(X, parameters)",
        "compute_cost": "(A2, Y)",
        "backward_propagation": "(parameters, cache, X, Y)",
        "update_parameters": "(parameters, grads, learning_rate=1.2)",
        "nn_model": "(X, Y, n_h, num_iterations=10000, print_cost=False)",
        "predict": "(parameters, X)",
    }
    check_signatures(nb, signatures)


# ------------------------------------------------------------ public tests

def test_layer_sizes(nb):
    X, Y, X2, Y2 = _draws(1, (5, 3), (2, 3), (7, 5), (5, 5))
    for (x, y), want in zip(((X, Y), (X2, Y2)), PLANAR["layer_sizes"]):
        got = nb.layer_sizes(x, y)
        assert type(got) is tuple and got == want
        assert all(type(n) is int for n in got)


@pytest.mark.parametrize("dims", [(3, 5, 2), (2, 4, 1)])
def test_initialize_parameters_after_the_cells_seed(nb, dims):
    want = PLANAR["initialize_parameters(%d, %d, %d)" % dims]
    np.random.seed(2)
    got = nb.initialize_parameters(*dims)
    check_parameters(got, dict(_arrays(want), b1=np.zeros((dims[1], 1)),
                               b2=np.zeros((dims[2], 1))))


def test_initialize_parameters_draws_without_seeding(nb):
    # It continues numpy's global stream and leaves it advanced by its
    # draws: two calls give different weights, and the next draw is the
    # one after them.
    np.random.seed(12345)
    first = nb.initialize_parameters(3, 2, 1)
    second = nb.initialize_parameters(3, 2, 1)
    rng = np.random.RandomState(12345)
    for p in (first, second):
        np.testing.assert_array_equal(p["W1"], rng.randn(2, 3) * 0.01)
        np.testing.assert_array_equal(p["W2"], rng.randn(1, 2) * 0.01)
    np.testing.assert_array_equal(np.random.randn(3), rng.randn(3))


def _forward_case():
    X, b1 = _draws(1, (2, 3), (4, 1))
    older = PLANAR["initialize_parameters(2, 4, 1)"]
    want = PLANAR["forward_propagation"]
    parameters = {"W1": np.array(older["W1"]), "b1": b1,
                  "W2": np.array(older["W2"]), "b2": np.array(want["b2"])}
    return X, parameters, want


def test_forward_propagation(nb):
    X, parameters, want = _forward_case()
    A2, cache = nb.forward_propagation(X, parameters)
    np.testing.assert_allclose(A2, want["A2"], **PRINTED)
    assert type(cache) is dict and sorted(cache) == ["A1", "A2", "Z1", "Z2"]
    for key in cache:
        assert type(cache[key]) is np.ndarray
        np.testing.assert_allclose(cache[key], want[key], err_msg=key,
                                   **PRINTED)


def test_forward_propagation_runs_on_the_backends_kernels(nb, backend):
    # Bit for bit the backend's own linear_activation_forward (the two
    # backends differ in the last bits).
    B = fastdnn.get_backend(backend)
    X, p, _ = _forward_case()
    A1, _ = B.linear_activation_forward(X, p["W1"], p["b1"], "tanh")
    A2, _ = B.linear_activation_forward(A1, p["W2"], p["b2"], "sigmoid")
    got, cache = nb.forward_propagation(X, p)
    np.testing.assert_array_equal(cache["A1"], A1)
    np.testing.assert_array_equal(got, A2)


def test_compute_cost(nb):
    Y5, = _draws(1, (1, 5))
    Y3, = _draws(1, (1, 3))
    A2 = np.array([PLANAR["compute_cost A2"]])
    for Y, A, want in ((Y5 > 0, A2, PLANAR["compute_cost"]),
                       (Y3 > 0, A2[:, :3], PLANAR["compute_cost older"])):
        cost = nb.compute_cost(A, Y)
        assert type(cost) is float
        # Also the notebook's unclipped formula, to rounding.
        by_hand = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
        np.testing.assert_allclose(cost, [want, by_hand], rtol=1e-14)


def _backward_case():
    X, Y, W1, W2, A1, A2, Z1, Z2 = _draws(
        1, (3, 7), (1, 7), (9, 3), (1, 9), (9, 7), (1, 7), (9, 7), (1, 7))
    parameters = {"W1": W1, "W2": W2, "b1": np.zeros((9, 1)),
                  "b2": np.zeros((1, 1))}
    cache = {"A1": A1, "A2": A2, "Z1": Z1, "Z2": Z2}
    return parameters, cache, X, Y > 0


def test_backward_propagation(nb):
    # The test's cache holds an A1 that is not tanh(Z1): the notebook's
    # dZ1 uses A1.
    grads = nb.backward_propagation(*_backward_case())
    check_parameters(grads, _arrays(PLANAR["backward_propagation"]))


def test_backward_propagation_of_a_forward_pass_is_the_gradient(nb):
    # On a cache from forward_propagation: the central difference of the
    # cost.
    rng = np.random.RandomState(0)
    X = rng.randn(3, 5)
    Y = (rng.randn(1, 5) > 0).astype(float)
    p = {"W1": rng.randn(4, 3), "b1": rng.randn(4, 1),
         "W2": rng.randn(1, 4), "b2": rng.randn(1, 1)}
    A2, cache = nb.forward_propagation(X, p)
    grads = nb.backward_propagation(p, cache, X, Y)
    h = 1e-6
    for key in p:
        numeric = np.zeros_like(p[key])
        for idx in np.ndindex(p[key].shape):
            costs = []
            for step in (h, -h):
                q = {k: v.copy() for k, v in p.items()}
                q[key][idx] += step
                costs.append(nb.compute_cost(nb.forward_propagation(X, q)[0],
                                             Y))
            numeric[idx] = (costs[0] - costs[1]) / (2 * h)
        np.testing.assert_allclose(grads["d" + key], numeric, rtol=1e-5,
                                   atol=1e-8, err_msg=key)


def test_update_parameters(nb):
    parameters = _arrays(PLANAR_PARAMETERS)
    before = {k: v.copy() for k, v in parameters.items()}
    got = nb.update_parameters(parameters,
                               _arrays(PLANAR["update_parameters grads"]))
    check_parameters(got, _arrays(PLANAR["update_parameters"]))
    for key in before:
        np.testing.assert_array_equal(parameters[key], before[key])


def test_predict(nb):
    X, = _draws(1, (2, 3))
    got = nb.predict(_arrays(PLANAR_PARAMETERS), X)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, PLANAR["predict"])


def _nn_model_case():
    X, Y = _draws(1, (2, 3), (1, 3))
    return X, Y > 0


def test_nn_model_public_test(nb):
    X, Y = _nn_model_case()
    got = nb.nn_model(X, Y, 4)
    check_parameters(got, _arrays(PLANAR["nn_model"]))


def test_nn_model_seeds_3_and_prints_every_thousand(nb, backend, capsys):
    B = fastdnn.get_backend(backend)
    X, Y = _nn_model_case()
    np.random.seed(12345)
    got = nb.nn_model(X, Y, 4, num_iterations=2001, print_cost=True)
    # numpy's generator: seed 3, then W1 (4, 2) and W2 (1, 4) drawn.
    rng = np.random.RandomState(3)
    rng.randn(4, 2)
    rng.randn(1, 4)
    np.testing.assert_array_equal(np.random.randn(3), rng.randn(3))
    # The backend's own training with the notebook's seed, bit for bit.
    want, costs = B.two_layer_model(
        X, Y, (2, 4, 1), 1.2, 2001, seed=3, activation="tanh",
        initialization="random", scale=0.01)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert capsys.readouterr().out == "".join(
        "Cost after iteration %i: %f\n" % (i, costs[i // 100])
        for i in (0, 1000, 2000))
    nb.nn_model(X, Y, 4, num_iterations=2001)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------ the flower

@pytest.fixture(scope="module", params=BACKENDS)
def flower_run(request):
    """The notebook's run on its flower: ``(namespace, X, Y, parameters,
    printed lines)``, once per backend."""
    nb = fastdnn.course.load("planar", request.param)
    X, Y = nb.load_planar_dataset()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        parameters = nb.nn_model(X, Y, n_h=4, num_iterations=10000,
                                 print_cost=True)
    return nb, X, Y, parameters, out.getvalue().splitlines()


def test_flower_printed_costs(flower_run):
    lines = flower_run[4]
    assert [line.split(":")[0] for line in lines] == [
        "Cost after iteration %d" % i for i in range(0, 10000, 1000)]
    costs = [float(line.split(": ")[1]) for line in lines]
    exact = FLOWER_EXACT_UNTIL // 1000 + 1
    # Six decimals as the notebook prints them, up to where the run becomes
    # sensitive to rounding; after it, as close as published copies are to
    # one another.
    assert lines[:exact] == ["Cost after iteration %d: %.6f" % (i * 1000, c)
                             for i, c in enumerate(FLOWER_COSTS[:exact])]
    np.testing.assert_allclose(costs[exact:], FLOWER_COSTS[exact:], rtol=0,
                               atol=2e-4)


def test_flower_accuracy(flower_run):
    nb, X, Y, parameters, _ = flower_run
    predictions = nb.predict(parameters, X)
    # The notebook's formula and "%d" print.
    accuracy = float((np.dot(Y, predictions.T) + np.dot(1 - Y,
                      1 - predictions.T)).item() / Y.size * 100)
    assert int(accuracy) == FLOWER_ACCURACY_PERCENT


# ------------------------------------------------------------ bad input

def _bad_cases():
    X, p, _ = _forward_case()
    p3 = dict(p, W3=np.ones((1, 1)), b3=np.zeros((1, 1)))
    parameters, cache, Xb, Yb = _backward_case()
    return [
        ("layer_sizes", (X[0], X)),
        ("layer_sizes", (X, np.ones((1, 4)))),
        ("layer_sizes", ("X", X)),
        ("forward_propagation", (X, p3)),
        ("forward_propagation", (X[:1], p)),
        ("forward_propagation", (X, [p])),
        ("compute_cost", (np.full((1, 3), 0.5), np.ones((1, 4)))),
        ("backward_propagation", (parameters, [cache], Xb, Yb)),
        ("backward_propagation", (parameters, {"A2": cache["A2"]}, Xb, Yb)),
        ("backward_propagation", (parameters, cache, Xb, Yb.T)),
        ("backward_propagation", (parameters, cache, Xb[:2], Yb)),
        ("nn_model", (X, np.array([[0, 1, 2]]), 4)),
        ("nn_model", (X, np.array([[0, 1, 1]]), 0)),
        ("predict", (p, X.T)),
        ("initialize_parameters", (2, -4, 1)),
    ]


@pytest.mark.parametrize("case", range(len(_bad_cases())))
def test_bad_input_is_refused_alike_by_both_backends(case):
    name, args = _bad_cases()[case]
    errors = []
    for backend in BACKENDS:
        fn = getattr(fastdnn.course.load("planar", backend), name)
        with pytest.raises((TypeError, ValueError)) as info:
            fn(*args)
        errors.append((info.type, str(info.value)))
    assert errors[0] == errors[1]
