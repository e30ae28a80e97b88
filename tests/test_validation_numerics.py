"""Numerics at the edges, the same on every backend: the sigmoid, the cost
and the backward pass stay finite at saturation (or refuse a saturated and
wrong output), a diverging training stops with the iteration and advice,
and the finite check of large inputs made after the kernel reports the
first bad value in order, every bad value and no good one."""
import warnings

import numpy as np
import pytest

import fastdnn
from test_validation import _caches


@pytest.fixture(params=sorted(fastdnn.BACKENDS))
def B(request):
    return fastdnn.get_backend(request.param)


# ---------------------------------------------------------------- numerics

def test_sigmoid_is_stable_for_huge_inputs(B):
    Z = np.array([[-1e308, -1000., -40., 0., 40., 1000., 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A, _ = B.sigmoid(Z)
        dZ = B.sigmoid_backward(np.ones_like(Z), Z)
    assert np.isfinite(A).all() and np.isfinite(dZ).all()
    assert A[0, 0] == 0 and A[0, -1] == 1 and A[0, 3] == 0.5
    assert 0 < A[0, 2] < 1e-17


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cost_is_finite_at_saturation(B, dtype):
    AL = np.array([[0., 1., 1., 0.]], dtype=dtype)
    Y = np.array([[0, 1, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = B.compute_cost(AL, Y)
    assert cost.dtype == dtype and np.isfinite(cost)
    # The two wrong answers each cost -log(eps).
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(cost, -2 * np.log(eps) / 4, rtol=1e-6)


def test_backward_saturated_but_right_is_finite(B):
    AL, caches = _caches()
    AL = np.where(np.arange(4) % 2 == 0, 1.0, 0.0).reshape(1, 4)
    Y = AL.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = B.L_model_backward(AL, Y, caches)
    assert all(np.isfinite(g).all() for g in grads.values())


def test_backward_saturated_and_wrong_is_refused(B):
    _, caches = _caches()
    AL = np.array([[1.0, .5, .5, .5]])
    with pytest.raises(ValueError, match="saturated sigmoid"):
        B.L_model_backward(AL, np.array([[0, 1, 1, 1]]), caches)


def test_divergent_training_stops_with_iteration_and_advice(B):
    rng = np.random.RandomState(0)
    X = rng.rand(5, 20) * 1e3
    Y = (rng.rand(1, 20) > 0.5).astype(float)
    with pytest.raises(FloatingPointError,
                       match=r"iteration \d+.*try a smaller learning rate"):
        # (a saturated output alone is no divergence: weights that
        # overflow to a NaN cost are)
        B.L_layer_model(X, Y, [5, 4, 1], learning_rate=1e200,
                        num_iterations=200)


# ------------------------------------- the deferred check of large inputs

@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_single_bad_value_in_A_prev_is_reported_after_the_kernel(
        order, bad):
    # The jit backend checks A_prev through the result (no extra pass);
    # one bad value anywhere, even facing a zero column of W (0 * inf is
    # NaN), must still give the reference's error.
    from fastdnn import jit, reference
    rng = np.random.RandomState(0)
    W = rng.standard_normal((5, 300))
    W[:, 123] = 0.0
    b = np.zeros((5, 1))
    for k, j in ((0, 0), (123, 4), (299, 6)):
        A = np.array(rng.random_sample((300, 7)), order=order)
        A[k, j] = bad
        dA = np.ones((5, 7))
        Z = np.ones((5, 7))
        for call in (
                lambda m: m.linear_forward(A, W, b),
                lambda m: m.linear_activation_forward(A, W, b, "relu"),
                lambda m: m.linear_activation_backward(
                    dA, ((A, W, b), Z), "relu")):
            messages = []
            for module in (reference, jit):
                with pytest.raises(ValueError) as info:
                    call(module)
                messages.append(str(info.value))
            assert messages[0] == messages[1]
            assert "contains" in messages[0] and "A" in messages[0]


def test_an_overflowing_product_of_finite_inputs_is_not_an_input_error():
    from fastdnn import jit, reference
    A = np.full((2, 3), 1e200)
    W = np.full((1, 2), 1e200)
    b = np.zeros((1, 1))
    with warnings.catch_warnings():  # numpy warns of the overflow
        warnings.simplefilter("ignore", RuntimeWarning)
        want, _ = reference.linear_forward(A, W, b)
    got, _ = jit.linear_forward(A, W, b)
    assert np.isinf(want).all()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("where", ["W", "b", "W and A", "b and A"])
def test_forward_values_are_checked_in_order_through_Z(where):
    # W, then b, then A: the reference's order, also when the jit backend
    # finds the bad value through Z.
    from fastdnn import jit, reference
    rng = np.random.RandomState(1)
    A = rng.random_sample((50, 6))
    W = rng.standard_normal((4, 50))
    b = np.zeros((4, 1))
    if "W" in where:
        W[2, 7] = np.inf
    if "b" in where:
        b[3, 0] = np.nan
    if "A" in where:
        A[9, 1] = np.nan
    messages = []
    for module in (reference, jit):
        for call in (lambda: module.linear_forward(A, W, b),
                     lambda: module.linear_activation_forward(
                         np.asfortranarray(A), W, b, "sigmoid")):
            with pytest.raises(ValueError) as info:
                call()
            messages.append(str(info.value))
    assert len(set(m.replace("A_prev", "A") for m in messages)) == 1
    assert messages[0].startswith(where.split()[0] + " contains")


BACKWARD_INPUTS = ("dA", "W", "b", "Z", "A_prev")


@pytest.mark.parametrize("shape", [(5, 300, 7), (20, 3000, 60),
                                   (64, 256, 128)])
@pytest.mark.parametrize("where", [
    ("W",), ("W", "A_prev"), ("W", "b"), ("W", "Z"), ("dA", "W"),
    ("b", "A_prev"), ("Z", "A_prev")])
def test_backward_values_are_checked_in_order_after_the_kernel(shape, where):
    # The jit backend checks W and A_prev through its kernel's flag (a
    # sweep of W, and dW), after the kernel has run: its error must still
    # be the reference's, for the first bad input in the order dA, W, b, Z,
    # A_prev, on the serial, parallel and BLAS kernels (by shape), with
    # dA_prev (the public function) and without it (the first layer's
    # backward op).
    from fastdnn import jit, reference
    from fastdnn.registry import REGISTRY
    n, n_prev, m = shape
    rng = np.random.RandomState(2)
    arrays = {"dA": rng.standard_normal((n, m)),
              "W": rng.standard_normal((n, n_prev)),
              "b": np.zeros((n, 1)), "Z": rng.standard_normal((n, m)),
              "A_prev": rng.random_sample((n_prev, m))}
    for name in where:
        arr = arrays[name]
        arr.flat[arr.size // 2 if name == "W" else 0] = np.nan
    cache = ((arrays["A_prev"], arrays["W"], arrays["b"]), arrays["Z"])
    op = REGISTRY["first_layer_backward[relu]"]
    calls = [lambda: module.linear_activation_backward(arrays["dA"], cache,
                                                       "relu")
             for module in (reference, jit)]
    calls += [lambda: op[backend](arrays["dA"], cache)
              for backend in ("numpy", "numba")]
    messages = []
    for call in calls:
        with pytest.raises(ValueError) as info:
            call()
        messages.append(str(info.value))
    first = min(where, key=BACKWARD_INPUTS.index)
    assert len(set(messages)) == 1
    assert messages[0].startswith(first + " contains 1 NaN")


@pytest.mark.parametrize("shape", [(5, 300, 7), (20, 3000, 60),
                                   (64, 256, 128)])
@pytest.mark.parametrize("where", [
    ("A_prev",), ("W",), ("A_prev", "W"), ("W", "b"), ("dZ", "W"),
    ("A_prev", "b")])
def test_linear_backward_values_are_checked_in_order_after_the_kernel(
        shape, where):
    # linear_backward's values, dZ, A_prev, W, b, found through the
    # kernel's flag in the jit backend: the reference's error.
    from fastdnn import jit, reference
    n, n_prev, m = shape
    rng = np.random.RandomState(3)
    arrays = {"dZ": rng.standard_normal((n, m)),
              "A_prev": rng.random_sample((n_prev, m)),
              "W": rng.standard_normal((n, n_prev)), "b": np.zeros((n, 1))}
    for name in where:
        arrays[name].flat[-1] = np.inf
    cache = (arrays["A_prev"], arrays["W"], arrays["b"])
    messages = []
    for module in (reference, jit):
        with pytest.raises(ValueError) as info:
            module.linear_backward(arrays["dZ"], cache)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith(where[0] + " contains 0 NaN and 1 inf")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [(3, 3), (300, 300)])
def test_the_finite_check_finds_every_bad_value_and_no_good_one(dtype, size):
    # Small arrays are checked by their min and max, large ones by their
    # sum first: a large finite array whose sum overflows still passes,
    # quietly; a NaN, an inf or both infinities are still found.
    from fastdnn._validation_arrays import FINITE_SUM_MIN, check_finite
    assert (np.prod(size) >= FINITE_SUM_MIN) == (size[0] == 300)
    huge = np.finfo(dtype).max / 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in (huge, -huge):
            check_finite(np.full(size, value, dtype), "X")
    for bad in ([np.nan], [np.inf], [-np.inf], [np.inf, -np.inf]):
        X = np.ones(size, dtype)
        X.flat[[1, 5][:len(bad)]] = bad
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="X contains"):
                check_finite(X, "X")


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_the_finite_check_of_a_large_array_in_two_halves(layout):
    # From FINITE_THREADS_MIN elements an array in C or Fortran order is
    # summed in two halves at once: a bad value in either half is found,
    # a finite array whose halves overflow passes, and an array in neither
    # order is summed in one pass, with the same results.
    from fastdnn._validation_arrays import FINITE_THREADS_MIN, check_finite
    n = int(np.sqrt(FINITE_THREADS_MIN)) + 2
    shape = (n, 2 * n) if layout == "strided" else (n, n)

    def make(value=1.0):
        X = np.full(shape, value, np.float32,
                    order="F" if layout == "F" else "C")
        return X[:, ::2] if layout == "strided" else X
    assert make().size >= FINITE_THREADS_MIN
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_finite(make(np.finfo(np.float32).max / 2), "X")
        for where in ((0, 0), (n - 1, n - 1), (n // 2, 1), (1, n // 2)):
            for bad in (np.nan, np.inf, -np.inf):
                X = make()
                X[where] = bad
                with pytest.raises(ValueError, match="X contains"):
                    check_finite(X, "X")
