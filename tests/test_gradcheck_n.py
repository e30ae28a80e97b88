"""fastdnn.gradcheck: the per-parameter and the directional gradient checks
for every hidden activation and output of the tables (iterated, so a new
entry is checked without editing this file), with and without L2, 1 to 3
layers; the roll/unroll helpers; argument checks; the cat shape."""
import itertools
import time

import numpy as np
import pytest

from fastdnn import reference as R
from fastdnn import gradcheck as G
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_outputs import OUTPUTS

LAMBDS = [0.0, 0.7]
COMBOS = list(itertools.product(ACTIVATIONS, OUTPUTS, [1, 2, 3], LAMBDS))
CHECKS = [G.gradient_check_n, G.directional_gradient_check]


def _problem(activation, output, n_layers, lambd, m=6):
    """A small network, its data and its exact gradients (with the L2 term
    when ``lambd > 0``)."""
    seed = (list(ACTIVATIONS).index(activation) * 10
            + list(OUTPUTS).index(output)) * 10 + n_layers
    rng = np.random.RandomState(seed)
    n_out = {"sigmoid": 1, "softmax": 3}.get(output, 2)
    dims = [3] + [4, 3][:n_layers - 1] + [n_out]
    X = rng.randn(dims[0], m)
    parameters = {}
    for l in range(1, len(dims)):
        parameters["W%d" % l] = rng.randn(dims[l], dims[l - 1])
        parameters["b%d" % l] = rng.randn(dims[l], 1) * 0.5
    if output == "sigmoid":
        Y = (rng.rand(1, m) > 0.5).astype(float)
    elif output == "softmax":
        Y = rng.randint(0, n_out, (1, m))
    else:
        Y = rng.randn(n_out, m)
    AL, caches = R.L_model_forward(X, parameters, activation=activation,
                                   output=output)
    grads = R.L_model_backward(AL, Y, caches, activation=activation,
                               output=output)
    for l in range(1, n_layers + 1):
        grads["dW%d" % l] = grads["dW%d" % l] + lambd / m * parameters[
            "W%d" % l]
    return X, Y, parameters, grads


def _perturbed(grads, key, index, delta=1e-3):
    bad = dict(grads)
    bad[key] = grads[key].copy()
    bad[key][index] += delta
    return bad


def _options(activation, output, lambd):
    return dict(activation=activation, output=output, lambd=lambd)


# ------------------------------------------------------------ the checks

@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("activation,output,n_layers,lambd", COMBOS)
def test_correct_gradients_pass_and_one_wrong_entry_fails(
        check, activation, output, n_layers, lambd):
    X, Y, parameters, grads = _problem(activation, output, n_layers, lambd)
    kw = _options(activation, output, lambd)
    good = check(parameters, grads, X, Y, **kw)
    assert type(good) is np.float64
    # The course's verdict (the correct gradients' differences are the
    # costs' rounding over the step: up to ~7e-8 here at epsilon 1e-7).
    assert good < G.THRESHOLD
    # One entry of one dW off by 1e-3, in the first and in the last layer.
    for l in sorted({1, n_layers}):
        bad = _perturbed(grads, "dW%d" % l, (0, 0))
        assert check(parameters, bad, X, Y, **kw) > G.THRESHOLD, l


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_the_l2_term_is_in_the_checked_cost(check, output):
    X, Y, parameters, with_l2 = _problem("tanh", output, 2, 0.7)
    _, _, _, without = _problem("tanh", output, 2, 0.0)
    kw = dict(activation="tanh", output=output)
    assert check(parameters, with_l2, X, Y, lambd=0.7, **kw) < G.THRESHOLD
    assert check(parameters, without, X, Y, **kw) < G.THRESHOLD
    assert check(parameters, with_l2, X, Y, **kw) > G.THRESHOLD
    assert check(parameters, without, X, Y, lambd=0.7, **kw) > G.THRESHOLD


def test_the_difference_is_the_courses_formula():
    X, Y, parameters, grads = _problem("relu", "sigmoid", 2, 0.0)
    theta, _ = G.dictionary_to_vector(parameters)
    grad = G.gradients_to_vector(grads)
    eps = 1e-7

    def J(t):
        AL, _ = R.L_model_forward(X, G.vector_to_dictionary(t, parameters))
        return float(R.compute_cost(AL, Y))

    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += eps
        minus[i] -= eps
        approx[i] = (J(plus) - J(minus)) / (2 * eps)
    want = np.linalg.norm(grad - approx) / (np.linalg.norm(grad)
                                            + np.linalg.norm(approx))
    assert G.gradient_check_n(parameters, grads, X, Y) == want


def test_the_directional_check_compares_directional_derivatives():
    X, Y, parameters, grads = _problem("tanh", "identity", 3, 0.0)
    theta, _ = G.dictionary_to_vector(parameters)
    grad = G.gradients_to_vector(grads)
    eps, n = 1e-6, 4

    def J(t):
        AL, _ = R.L_model_forward(X, G.vector_to_dictionary(t, parameters),
                                  activation="tanh", output="identity")
        return float(R.compute_cost(AL, Y, output="identity"))

    rng = np.random.RandomState(5)
    a, b = np.zeros(n), np.zeros(n)
    for k in range(n):
        d = rng.randn(theta.shape[0], 1)
        d /= np.linalg.norm(d)
        a[k] = (J(theta + eps * d) - J(theta - eps * d)) / (2 * eps)
        b[k] = grad[:, 0] @ d[:, 0]
    want = np.linalg.norm(b - a) / (np.linalg.norm(b) + np.linalg.norm(a))
    got = G.directional_gradient_check(parameters, grads, X, Y, n, eps, 5,
                                       activation="tanh", output="identity")
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
def test_print_msg_prints_the_courses_verdicts(check, capsys):
    X, Y, parameters, grads = _problem("relu", "sigmoid", 3, 0.0)
    good = check(parameters, grads, X, Y, print_msg=True)
    assert capsys.readouterr().out == (
        "Your backward propagation works perfectly fine! difference = %s\n"
        % good)
    bad = check(parameters, _perturbed(grads, "dW2", (1, 2)), X, Y,
                print_msg=True)
    assert capsys.readouterr().out == (
        "There is a mistake in the backward propagation! difference = %s\n"
        % bad)
    check(parameters, grads, X, Y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
def test_zero_gradients_give_zero(check):
    # X = 0, b1 = 0 and Y = 0: the cost is b1's square, even in each
    # entry, so every gradient and every central difference is exactly 0;
    # the difference is 0, not 0/0.
    parameters = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))}
    X = np.zeros((3, 4))
    Y = np.zeros((2, 4))
    grads = {"dW1": np.zeros((2, 3)), "db1": np.zeros((2, 1))}
    assert check(parameters, grads, X, Y, output="identity") == 0.0


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
def test_inputs_are_left_unchanged(check):
    X, Y, parameters, grads = _problem("relu", "softmax", 3, 0.0)
    before = {k: v.copy() for k, v in parameters.items()}
    check(parameters, grads, X, Y, output="softmax")
    for key, value in before.items():
        np.testing.assert_array_equal(parameters[key], value)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_the_numba_backend_computes_the_same_costs(check, output):
    X, Y, parameters, grads = _problem("leaky_relu", output, 2, 0.7)
    kw = _options("leaky_relu", output, 0.7)
    numpy = check(parameters, grads, X, Y, **kw)
    numba = check(parameters, grads, X, Y, backend="numba", **kw)
    # Both are the rounding noise of the costs, far below the bound.
    assert numba < G.THRESHOLD / 10 and numpy < G.THRESHOLD / 10
    bad = _perturbed(grads, "dW1", (2, 1))
    np.testing.assert_allclose(
        check(parameters, bad, X, Y, backend="numba", **kw),
        check(parameters, bad, X, Y, backend="numpy", **kw), rtol=1e-4)


def test_the_directional_check_costs_two_passes_per_direction(monkeypatch):
    X, Y, parameters, grads = _problem("relu", "sigmoid", 3, 0.0)
    calls = []
    forward = G._reference_forward

    def counting(*args):
        calls.append(1)
        return forward(*args)

    monkeypatch.setattr(G, "_reference_forward", counting)
    G.directional_gradient_check(parameters, grads, X, Y, n_directions=5)
    assert len(calls) == 10
    calls.clear()
    G.gradient_check_n(parameters, grads, X, Y)
    n = G.dictionary_to_vector(parameters)[0].shape[0]
    assert len(calls) == 2 * n


def test_the_directions_come_from_the_seed():
    X, Y, parameters, grads = _problem("tanh", "sigmoid", 2, 0.0)
    bad = _perturbed(grads, "dW1", (0, 0))
    first = G.directional_gradient_check(parameters, bad, X, Y, seed=3)
    assert first == G.directional_gradient_check(
        parameters, bad, X, Y, seed=np.random.RandomState(3))
    assert first != G.directional_gradient_check(parameters, bad, X, Y,
                                                 seed=4)


def test_cat_shape_directional_check_is_cheap():
    # The cat network's shape, 12288-20-7-5-1 with m = 209 (246k
    # parameters), on random images: three directions, six forward passes.
    rng = np.random.RandomState(0)
    dims = [12288, 20, 7, 5, 1]
    X = np.asfortranarray(rng.rand(dims[0], 209))
    Y = (rng.rand(1, 209) > 0.5).astype(float)
    parameters = R.initialize_parameters_deep(dims, seed=1)
    AL, caches = R.L_model_forward(X, parameters)
    grads = R.L_model_backward(AL, Y, caches)
    start = time.perf_counter()
    good = G.directional_gradient_check(parameters, grads, X, Y)
    elapsed = time.perf_counter() - start
    print("cat-shape directional check (3 directions): %.3f s, difference "
          "%.3g" % (elapsed, good))
    assert good < G.THRESHOLD / 10
    # An entry of dW1 doubled: one of 245760 weights.
    bad = _perturbed(grads, "dW1", (3, 100), grads["dW1"][3, 100])
    assert G.directional_gradient_check(parameters, bad, X, Y) > G.THRESHOLD


# ------------------------------------------------------------ vectors

def _network(dims, rng, dtype=np.float64):
    return {"%s%d" % (k, l): rng.randn(dims[l], dims[l - 1] if k == "W"
                                       else 1).astype(dtype)
            for l in range(1, len(dims)) for k in "Wb"}


@pytest.mark.parametrize("dims", [[3, 1], [4, 5, 2], [4, 5, 3, 1],
                                  [2, 3, 3, 2, 4]])
def test_vector_round_trips(dims):
    parameters = _network(dims, np.random.RandomState(len(dims)))
    theta, keys = G.dictionary_to_vector(parameters)
    n = sum(dims[l] * (dims[l - 1] + 1) for l in range(1, len(dims)))
    assert theta.shape == (n, 1) and len(keys) == n
    order = ["%s%d" % (k, l) for l in range(1, len(dims)) for k in "Wb"]
    assert list(dict.fromkeys(keys)) == order
    # Each parameter flattened in C order, in the order W1, b1, W2, ...
    np.testing.assert_array_equal(
        theta[:, 0], np.concatenate([parameters[k].ravel() for k in order]))
    assert [keys.count(k) for k in order] == [parameters[k].size
                                              for k in order]
    for template in (dims, parameters):
        back = G.vector_to_dictionary(theta, template)
        assert list(back) == order
        for key in order:
            np.testing.assert_array_equal(back[key], parameters[key])
    np.testing.assert_array_equal(
        G.vector_to_dictionary(theta[:, 0], dims)["W1"], parameters["W1"])
    grads = {"d" + k: v for k, v in parameters.items()}
    grads["dA1"] = np.ones((7, 7))  # ignored, as in the course
    np.testing.assert_array_equal(G.gradients_to_vector(grads), theta)


def test_vector_to_dictionary_copies_and_keeps_the_dtype():
    dims = [3, 2, 1]
    parameters = _network(dims, np.random.RandomState(0), np.float32)
    theta, _ = G.dictionary_to_vector(parameters)
    assert theta.dtype == np.float32
    back = G.vector_to_dictionary(theta, dims)
    theta[:] = 0
    assert back["W1"].dtype == np.float32
    np.testing.assert_array_equal(back["W1"], parameters["W1"])
    mixed = dict(parameters, b2=parameters["b2"].astype(np.float64))
    assert G.dictionary_to_vector(mixed)[0].dtype == np.float64


# ------------------------------------------------------------ bad arguments

def _good():
    X, Y, parameters, grads = _problem("relu", "sigmoid", 2, 0.0)
    return parameters, grads, X, Y


def _call(check, **changes):
    parameters, grads, X, Y = _good()
    args = dict(parameters=parameters, gradients=grads, X=X, Y=Y)
    args.update(changes)
    return check(args.pop("parameters"), args.pop("gradients"),
                 args.pop("X"), args.pop("Y"), **args)


def _without(d, key):
    return {k: v for k, v in d.items() if k != key}


BAD_CHECK_ARGUMENTS = [
    (dict(parameters=[1, 2]), TypeError, "parameters must be a dict"),
    (dict(parameters={"W1": np.ones((2, 3))}), ValueError,
     "parameters must hold exactly W1, b1, ..., WL, bL"),
    (dict(gradients=None), TypeError, "gradients must be a dict"),
    (dict(gradients={"dW1": np.ones((4, 3))}), ValueError,
     r"gradients must hold dW1, db1.*missing \['db1'\]"),
    (dict(gradients={"dW1": np.ones((4, 3)), "db1": np.ones((4, 1)),
                     "dW3": np.ones((1, 4)), "db3": np.ones((1, 1))}),
     ValueError, r"unexpected \['dW3', 'db3'\]"),
    (dict(gradients={"dW1": np.ones((3, 3)), "db1": np.ones((3, 1)),
                     "dW2": np.ones((1, 3)), "db2": np.ones((1, 1))}),
     ValueError, r"gradients\['dW1'\] has shape \(3, 3\) but "
                 r"parameters\['W1'\] has shape \(4, 3\)"),
    (dict(gradients={"dW1": np.ones((4, 3)), "db1": np.ones((4, 1))}),
     ValueError, r"gradients holds 1 layer\(s\) \(dW1 .. dW1\) but "
                 "parameters 2"),
    (dict(gradients={"dW1": np.ones((4, 3)), "db1": np.ones((4, 2)),
                     "dW2": np.ones((1, 4)), "db2": np.ones((1, 1))}),
     ValueError, r"gradients\['db1'\] must have shape \(4, 1\)"),
    (dict(gradients={"dW1": np.full((4, 3), np.nan), "db1": np.ones((4, 1)),
                     "dW2": np.ones((1, 4)), "db2": np.ones((1, 1))}),
     ValueError, "the gradients contains 12 NaN"),
    (dict(X=np.ones((2, 6))), ValueError, "X has 2 rows but W1 has 3"),
    (dict(X="x"), TypeError, "X must be a numeric array"),
    (dict(Y=np.array([[0, 2, 1, 0, 1, 1]])), ValueError, "Y"),
    (dict(Y=np.ones((1, 5))), ValueError, r"Y must have shape \(1, m\)"),
    (dict(epsilon=0), ValueError, "epsilon must be finite and > 0"),
    (dict(epsilon="1e-7"), TypeError, "epsilon must be a real number"),
    (dict(print_msg="yes"), TypeError, "print_msg must be True or False"),
    (dict(activation="softplus"), ValueError, "unknown activation"),
    (dict(output="softmax"), ValueError, "must end with C >= 2"),
    (dict(lambd=-1.0), ValueError, r"lambd must be in \[0, inf\)"),
    (dict(lambd="0.1"), TypeError, "lambd must be a real number"),
    (dict(backend="torch"), ValueError, "unknown backend 'torch'"),
    (dict(backend=1), TypeError, "backend must be a name"),
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("changes,error,match", BAD_CHECK_ARGUMENTS)
def test_bad_arguments_are_named(check, changes, error, match):
    with pytest.raises(error, match=match):
        _call(check, **changes)


@pytest.mark.parametrize("changes,error,match", [
    (dict(n_directions=0), ValueError, "n_directions must be >= 1"),
    (dict(n_directions=2.0), TypeError, "n_directions must be an integer"),
    (dict(seed=-1), ValueError, "seed must be >= 0"),
])
def test_bad_directional_arguments_are_named(changes, error, match):
    with pytest.raises(error, match=match):
        _call(G.directional_gradient_check, **changes)


@pytest.mark.parametrize("call,error,match", [
    (lambda: G.dictionary_to_vector({"W1": np.ones((2, 2)),
                                     "W2": np.ones((2, 2))}), ValueError,
     r"missing \['b1', 'b2'\], unexpected none"),
    (lambda: G.dictionary_to_vector({"W1": np.ones((2, 2)),
                                     "b1": np.ones((3, 1))}), ValueError,
     r"b1 must have shape \(2, 1\)"),
    (lambda: G.vector_to_dictionary(np.ones((8, 1)), [2, 2]), ValueError,
     r"theta must be a column of shape \(6, 1\) \(or \(6,\)\), got \(8, 1\)"),
    (lambda: G.vector_to_dictionary(np.ones((3, 2)), [2, 2]), ValueError,
     "theta must be a column"),
    (lambda: G.vector_to_dictionary(np.ones((6, 1)), [2]), ValueError,
     "at least two sizes"),
    (lambda: G.vector_to_dictionary(np.ones((6, 1)), "2, 2"), TypeError,
     "layer_dims must be a sequence"),
    (lambda: G.vector_to_dictionary(["a"], [2, 2]), TypeError,
     "theta must be a real numeric array"),
    (lambda: G.gradients_to_vector({"W1": np.ones((2, 2))}), ValueError,
     r"missing \['dW1'\]"),
    (lambda: G.gradients_to_vector(np.ones(3)), TypeError,
     "gradients must be a dict"),
])
def test_bad_vector_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_not_exported_by_the_backends():
    import fastdnn.jit
    for name in G.__all__:
        assert not hasattr(R, name) and not hasattr(fastdnn.jit, name), name
