"""fastdnn.course "gradient_checking": the Course 2 Week 1 notebook's
public-test values and printed verdicts on both backends.

The notebook's backward_propagation_n has two planted mistakes (dW2 twice
too large, db1 four times) for its gradient check to find; the namespace's
is correct, and the published value of the mistakes is reproduced by
planting them in a wrapper here.
"""
import inspect

import numpy as np
import pytest

import fastdnn
import fastdnn.course
from course_checks import (check_default_namespace, check_signatures,
                           check_star_import)
from fastdnn import gradcheck

BACKENDS = sorted(fastdnn.BACKENDS)

# The notebook's published values.
# gradient_check_test: x, theta = 2, 4 (the newest revision's cell uses 3,
# 4 and expects 7.81407531e-11).
GRADIENT_CHECK = {(2, 4): 2.919335883291695e-10, (3, 4): 7.81407531e-11}
# gradient_check_n_test on gradient_check_n_test_case(), epsilon 1e-7: with
# the planted mistakes, and with them fixed.
WITH_MISTAKES = 0.2850931567761623
CORRECT = 1.1890913024229996e-07
# The notebook's network.
SHAPES = [("W1", (5, 4)), ("b1", (5, 1)), ("W2", (3, 5)), ("b2", (3, 1)),
          ("W3", (1, 3)), ("b3", (1, 1))]
FINE = "Your backward propagation works perfectly fine! difference = "
MISTAKE = "There is a mistake in the backward propagation! difference = "


def _test_case():
    """The notebook's gradient_check_n_test_case: np.random.seed(1), then
    X (4, 3) and the parameters drawn in the order W1, b1, ..., b3; labels
    [1, 1, 0]."""
    rng = np.random.RandomState(1)
    X = rng.randn(4, 3)
    Y = np.array([1, 1, 0])
    return X, Y, {key: rng.randn(*shape) for key, shape in SHAPES}


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def nb(backend):
    return fastdnn.course.load("gradient_checking", backend)


# ------------------------------------------------------------ namespace

def test_import_gives_the_numba_namespace():
    import fastdnn.course.gradient_checking as gc
    check_default_namespace("gradient_checking", gc, "Gradient Checking")


def test_star_import_gives_the_notebooks_names():
    check_star_import("gradient_checking", [
        "forward_propagation", "backward_propagation", "gradient_check",
        "forward_propagation_n", "backward_propagation_n",
        "gradient_check_n", "dictionary_to_vector", "vector_to_dictionary",
        "gradients_to_vector"])


def test_the_notebooks_signatures(nb):
    check_signatures(nb, {
        "forward_propagation": "(x, theta)",
        "backward_propagation": "(x, theta)",
        "gradient_check": "(x, theta, epsilon=1e-07, print_msg=False)",
        "forward_propagation_n": "(X, Y, parameters)",
        "backward_propagation_n": "(X, Y, cache)",
        "gradient_check_n": "(parameters, gradients, X, Y, epsilon=1e-07, "
                            "print_msg=False)",
        "dictionary_to_vector": "(parameters)",
        "vector_to_dictionary": "(theta)",
        "gradients_to_vector": "(gradients)",
    })


# ------------------------------------------------------------ 1-D

def test_one_dimensional_functions(nb, capsys):
    assert nb.forward_propagation(2, 4) == 8
    assert nb.backward_propagation(2, 4) == 2
    assert nb.backward_propagation(3, 4) == 3
    for (x, theta), want in GRADIENT_CHECK.items():
        difference = nb.gradient_check(x, theta, print_msg=True)
        assert type(difference) is np.float64
        np.testing.assert_allclose(difference, want, rtol=1e-8)
        assert capsys.readouterr().out == FINE + str(difference) + "\n"
    assert nb.gradient_check(2, 4) == GRADIENT_CHECK[(2, 4)]
    assert capsys.readouterr().out == ""
    # x = 0: both derivatives are 0, they agree.
    assert nb.gradient_check(0, 4) == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda nb: nb.forward_propagation("2", 4), "x must be a real number"),
    (lambda nb: nb.forward_propagation(2, None),
     "theta must be a real number"),
    (lambda nb: nb.backward_propagation(2, True),
     "theta must be a real number"),
    (lambda nb: nb.gradient_check(2, 4, print_msg=1),
     "print_msg must be True or False"),
])
def test_one_dimensional_bad_input(nb, call, match):
    with pytest.raises(TypeError, match=match):
        call(nb)
    with pytest.raises(ValueError, match="epsilon must be finite and > 0"):
        nb.gradient_check(2, 4, epsilon=-1e-7)


# ------------------------------------------------------------ N-D

def test_forward_propagation_n(nb, backend):
    X, Y, parameters = _test_case()
    cost, cache = nb.forward_propagation_n(X, Y, parameters)
    assert type(cost) is np.float64
    assert isinstance(cache, tuple) and len(cache) == 12
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    for key, value in zip(["W1", "b1", "W2", "b2", "W3", "b3"],
                          [W1, b1, W2, b2, W3, b3]):
        np.testing.assert_array_equal(value, parameters[key])
    # The notebook's formulas, in plain numpy.
    np.testing.assert_allclose(Z1, parameters["W1"] @ X + parameters["b1"],
                               rtol=1e-13)
    np.testing.assert_array_equal(A1, np.maximum(Z1, 0))
    np.testing.assert_allclose(Z2, parameters["W2"] @ A1 + parameters["b2"],
                               rtol=1e-13)
    np.testing.assert_array_equal(A2, np.maximum(Z2, 0))
    np.testing.assert_allclose(Z3, parameters["W3"] @ A2 + parameters["b3"],
                               rtol=1e-13)
    np.testing.assert_allclose(A3, 1 / (1 + np.exp(-Z3)), rtol=1e-13)
    want = np.mean(-Y * np.log(A3) - (1 - Y) * np.log(1 - A3))
    np.testing.assert_allclose(cost, want, rtol=1e-13)
    # The backend's own functions.
    B = fastdnn.get_backend(backend)
    AL, _ = B.L_model_forward(X, parameters)
    np.testing.assert_array_equal(A3, AL)
    assert cost == B.compute_cost(AL, Y.reshape(1, -1))


def test_backward_propagation_n_is_correct(nb):
    X, Y, parameters = _test_case()
    _, cache = nb.forward_propagation_n(X, Y, parameters)
    gradients = nb.backward_propagation_n(X, Y, cache)
    assert list(gradients) == ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2",
                               "db2", "dA1", "dZ1", "dW1", "db1"]
    np.testing.assert_allclose(gradients["dZ3"], cache[9] - Y, rtol=1e-15)
    # The reference's L_model_backward of the same network.
    AL, caches = fastdnn.reference.L_model_forward(X, parameters)
    want = fastdnn.reference.L_model_backward(AL, Y, caches)
    for key in ("dW3", "db3", "dA2", "dW2", "db2", "dA1", "dW1", "db1"):
        np.testing.assert_allclose(gradients[key], want[key], rtol=1e-12,
                                   atol=1e-15, err_msg=key)
    # And central differences of the cost.
    assert gradcheck.gradient_check_n(parameters, gradients, X, Y) < 2e-7


def test_gradient_check_n_passes_the_correct_gradients(nb, backend, capsys):
    X, Y, parameters = _test_case()
    _, cache = nb.forward_propagation_n(X, Y, parameters)
    gradients = nb.backward_propagation_n(X, Y, cache)
    difference = nb.gradient_check_n(parameters, gradients, X, Y, 1e-7,
                                     True)
    assert type(difference) is np.float64
    assert capsys.readouterr().out == FINE + str(difference) + "\n"
    # The value is the costs' rounding over epsilon: the numpy backend's
    # float operations are the notebook's and give its number; the numba
    # kernels sum in another order and compute the sigmoid with their own
    # vectorised formula (within 3 ulps of numpy's), so their rounding
    # noise is of the same size but not the same number.
    if backend == "numpy":
        np.testing.assert_allclose(difference, CORRECT, rtol=1e-6)
    else:
        assert CORRECT / 10 < difference < 2e-7


def _with_the_notebooks_mistakes(nb):
    # The notebook's backward_propagation_n computes dW2 twice too large
    # and db1 four times too large.
    def backward_propagation_n(X, Y, cache):
        gradients = dict(nb.backward_propagation_n(X, Y, cache))
        gradients["dW2"] = gradients["dW2"] * 2
        gradients["db1"] = gradients["db1"] * 4
        return gradients
    return backward_propagation_n


def test_gradient_check_n_finds_the_notebooks_mistakes(nb, backend, capsys):
    X, Y, parameters = _test_case()
    _, cache = nb.forward_propagation_n(X, Y, parameters)
    gradients = _with_the_notebooks_mistakes(nb)(X, Y, cache)
    difference = nb.gradient_check_n(parameters, gradients, X, Y, 1e-7,
                                     True)
    # The mistakes' difference plus the check's rounding noise (~1e-7,
    # see above), which differs between the backends.
    np.testing.assert_allclose(difference, WITH_MISTAKES,
                               rtol=1e-9 if backend == "numpy" else 1e-6)
    assert capsys.readouterr().out == MISTAKE + str(difference) + "\n"
    # The directional check finds them too.
    assert gradcheck.directional_gradient_check(parameters, gradients, X,
                                                Y) > 2e-7


def test_the_vector_helpers_have_the_notebooks_shapes(nb):
    X, Y, parameters = _test_case()
    theta, keys = nb.dictionary_to_vector(parameters)
    assert theta.shape == (47, 1)
    assert keys[:20] == ["W1"] * 20 and keys[20:25] == ["b1"] * 5
    assert keys[-4:] == ["W3"] * 3 + ["b3"]
    back = nb.vector_to_dictionary(theta)
    assert [(k, v.shape) for k, v in back.items()] == SHAPES
    for key, value in parameters.items():
        np.testing.assert_array_equal(back[key], value)
    _, cache = nb.forward_propagation_n(X, Y, parameters)
    gradients = nb.backward_propagation_n(X, Y, cache)
    grad = nb.gradients_to_vector(gradients)
    np.testing.assert_array_equal(grad, np.concatenate(
        [gradients["d" + k].reshape(-1, 1) for k, _ in SHAPES]))
    with pytest.raises(ValueError, match=r"theta must be a column of shape "
                                         r"\(47, 1\)"):
        nb.vector_to_dictionary(np.zeros((46, 1)))


def test_other_depths_work_too(nb):
    # Any number of layers, RELU on the hidden ones: 4 entries of the flat
    # cache per layer.
    rng = np.random.RandomState(7)
    dims = [3, 4, 4, 2, 1]
    parameters = {"%s%d" % (k, l): rng.randn(dims[l], dims[l - 1]
                                             if k == "W" else 1)
                  for l in range(1, len(dims)) for k in "Wb"}
    X, Y = rng.randn(3, 5), np.array([[1, 0, 0, 1, 1]])
    cost, cache = nb.forward_propagation_n(X, Y, parameters)
    assert len(cache) == 16
    gradients = nb.backward_propagation_n(X, Y, cache)
    assert list(gradients)[:4] == ["dZ4", "dW4", "db4", "dA3"]
    assert nb.gradient_check_n(parameters, gradients, X, Y) < 2e-7


def test_bad_input_raises_the_same_errors_in_both_backends():
    X, Y, parameters = _test_case()
    _, cache = fastdnn.course.load("gradient_checking",
                                   "numpy").forward_propagation_n(
        X, Y, parameters)
    bad_calls = [
        lambda nb: nb.forward_propagation_n(X[:3], Y, parameters),
        lambda nb: nb.forward_propagation_n(X, np.array([1, 2, 0]),
                                            parameters),
        lambda nb: nb.forward_propagation_n(X, Y, dict(parameters, b3=None)),
        lambda nb: nb.backward_propagation_n(X, Y, cache[:11]),
        lambda nb: nb.backward_propagation_n(X, Y, list(cache[:8])),
        lambda nb: nb.backward_propagation_n(X, Y[:2], cache),
        lambda nb: nb.gradient_check_n(parameters, {}, X, Y),
        lambda nb: nb.gradient_check_n(parameters, None, X, Y),
    ]
    for call in bad_calls:
        errors = []
        for backend in BACKENDS:
            nb = fastdnn.course.load("gradient_checking", backend)
            with pytest.raises((TypeError, ValueError)) as info:
                call(nb)
            errors.append((info.type, str(info.value)))
        assert errors[0] == errors[1], inspect.getsource(call)
    nb = fastdnn.course.load("gradient_checking", "numpy")
    with pytest.raises(TypeError, match="cache must be forward_propagation_"
                                        "n's tuple.*a tuple of 11 entries"):
        nb.backward_propagation_n(X, Y, cache[:11])
    # Two layers of three output units: the labels would be broadcast.
    with pytest.raises(ValueError, match=r"one sigmoid unit, \(1, m\); the "
                                         r"cache's A2 has shape \(3, 3\)"):
        nb.backward_propagation_n(X, Y, cache[:8])
    with pytest.raises(ValueError, match=r"one sigmoid unit, \(1, m\); A2 "
                                         r"\(W2's rows\) has shape"):
        nb.forward_propagation_n(X, Y, {k: parameters[k] for k in
                                        ("W1", "b1", "W2", "b2")})
