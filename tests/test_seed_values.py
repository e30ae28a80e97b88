"""Every function reproduces the values the seed document prints, with the
course's seeds, in every backend."""
import numpy as np
import pytest

import fastdnn

from seed_values import (
    EXPECTED, case_L_model_backward, case_L_model_forward_2hidden,
    case_compute_cost, case_linear_activation_backward,
    case_linear_activation_forward, case_linear_backward,
    case_linear_forward, case_update_parameters)

# The document prints 8 decimals.
PRINTED = dict(rtol=0, atol=5e-9)


@pytest.fixture(params=sorted(fastdnn.BACKENDS))
def B(request):
    return fastdnn.get_backend(request.param)


def test_initialize_parameters(B):
    p = B.initialize_parameters(3, 2, 1)
    exp = EXPECTED["initialize_parameters"]
    np.testing.assert_allclose(p["W1"], exp["W1"], **PRINTED)
    np.testing.assert_allclose(p["W2"], exp["W2"], **PRINTED)
    assert np.array_equal(p["b1"], np.zeros((2, 1)))
    assert np.array_equal(p["b2"], np.zeros((1, 1)))


def test_initialize_parameters_leaves_global_random_state(B):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    B.initialize_parameters(3, 2, 1)
    B.initialize_parameters_deep([5, 4, 3])
    assert np.array_equal(np.random.get_state()[1], before)


def test_initialize_parameters_deep(B):
    p = B.initialize_parameters_deep([5, 4, 3])
    exp = EXPECTED["initialize_parameters_deep"]
    np.testing.assert_allclose(p["W1"], exp["W1"], **PRINTED)
    np.testing.assert_allclose(p["W2"], exp["W2"], **PRINTED)
    assert sorted(p) == ["W1", "W2", "b1", "b2"]
    assert p["b2"].shape == (3, 1) and not p["b2"].any()


def test_initialize_parameters_deep_course_notebook_scale(B):
    # The step-by-step notebook: np.random.seed(3), randn * 0.01.
    p = B.initialize_parameters_deep([5, 4, 3], seed=3, scale=0.01)
    r = np.random.RandomState(3)
    np.testing.assert_array_equal(p["W1"], r.randn(4, 5) * 0.01)
    np.testing.assert_array_equal(p["W2"], r.randn(3, 4) * 0.01)
    np.testing.assert_allclose(p["W1"][0, :2], [0.01788628, 0.0043651],
                               atol=5e-9)


def test_initialize_parameters_deep_accepts_generators(B):
    g = B.initialize_parameters_deep([3, 2, 1], seed=np.random.default_rng(0))
    r = np.random.default_rng(0)
    np.testing.assert_array_equal(g["W1"],
                                  r.standard_normal((2, 3)) / np.sqrt(3))
    s = B.initialize_parameters_deep([3, 2, 1],
                                     seed=np.random.RandomState(1))
    np.testing.assert_array_equal(s["W1"],
                                  B.initialize_parameters_deep([3, 2, 1])
                                  ["W1"])


def test_linear_forward(B):
    A, W, b = case_linear_forward()
    Z, cache = B.linear_forward(A, W, b)
    np.testing.assert_allclose(Z, EXPECTED["linear_forward"], **PRINTED)
    assert isinstance(cache, tuple) and len(cache) == 3
    for got, want in zip(cache, (A, W, b)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_forward(B, activation):
    A_prev, W, b = case_linear_activation_forward()
    A, cache = B.linear_activation_forward(A_prev, W, b, activation)
    exp = EXPECTED["linear_activation_forward"]
    np.testing.assert_allclose(A, exp[activation], **PRINTED)
    (cA, cW, cb), Z = cache
    np.testing.assert_allclose(Z, exp["Z"], **PRINTED)
    np.testing.assert_array_equal(cA, A_prev)


def test_L_model_forward(B):
    X, parameters = case_L_model_forward_2hidden()
    AL, caches = B.L_model_forward(X, parameters)
    exp = EXPECTED["L_model_forward"]
    np.testing.assert_allclose(AL, exp["AL"], **PRINTED)
    assert len(caches) == 3
    for l, cache in enumerate(caches, start=1):
        (A_prev, W, b), Z = cache
        np.testing.assert_allclose(Z, exp["Z%d" % l], **PRINTED)
        np.testing.assert_array_equal(W, parameters["W%d" % l])
    np.testing.assert_array_equal(caches[1][0][0],
                                  np.maximum(0, caches[0][1]))


def test_compute_cost(B):
    AL, Y = case_compute_cost()
    cost = B.compute_cost(AL, Y)
    assert isinstance(cost, np.ndarray) and cost.shape == ()
    assert cost.dtype == np.float64
    np.testing.assert_allclose(cost, EXPECTED["compute_cost"], rtol=1e-15)
    assert np.isclose(cost, -np.mean(np.log(AL)), rtol=1e-15)


def test_linear_backward(B):
    dZ, cache = case_linear_backward()
    dA_prev, dW, db = B.linear_backward(dZ, cache)
    exp = EXPECTED["linear_backward"]
    np.testing.assert_allclose(dA_prev, exp["dA_prev"], **PRINTED)
    np.testing.assert_allclose(dW, exp["dW"], **PRINTED)
    np.testing.assert_allclose(db, dZ.mean(axis=1, keepdims=True),
                               rtol=1e-15)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_backward(B, activation):
    dA, cache = case_linear_activation_backward()
    dA_prev, dW, db = B.linear_activation_backward(dA, cache, activation)
    exp = EXPECTED["linear_activation_backward"][activation]
    np.testing.assert_allclose(dA_prev, exp["dA_prev"], **PRINTED)
    np.testing.assert_allclose(dW, exp["dW"], **PRINTED)
    assert db.shape == (1, 1)


@pytest.mark.parametrize("as_list", [False, True])
def test_L_model_backward(B, as_list):
    AL, Y, caches = case_L_model_backward()
    if as_list:
        caches = list(caches)
    grads = B.L_model_backward(AL, Y, caches)
    exp = EXPECTED["L_model_backward"]
    assert sorted(grads) == sorted(exp)
    for key, want in exp.items():
        np.testing.assert_allclose(grads[key], want, err_msg=key, **PRINTED)


def test_update_parameters(B):
    parameters, grads = case_update_parameters()
    before = {k: v.copy() for k, v in parameters.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    new = B.update_parameters(parameters, grads, 0.1)
    exp = EXPECTED["update_parameters"]
    for key in ("W1", "W2", "b2"):
        np.testing.assert_allclose(new[key], exp[key], **PRINTED)
    np.testing.assert_allclose(new["b1"][[0, 2]], exp["b1_rows_0_2"],
                               **PRINTED)
    for k in parameters:
        np.testing.assert_array_equal(parameters[k], before[k])
        np.testing.assert_array_equal(grads["d" + k], grads_before["d" + k])
