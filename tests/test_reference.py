"""The reference backend on its own: activations, gradients by finite
differences, predict, the training loops' bookkeeping, data loading."""
import numpy as np
import pytest

import fastdnn
from fastdnn import reference as R


def test_activation_table_has_the_course_names():
    assert {"relu", "sigmoid"} <= set(R.ACTIVATIONS)


def test_sigmoid_relu_return_value_and_cache():
    Z = np.array([[-2., 0., 3.]])
    A, cache = R.sigmoid(Z)
    np.testing.assert_allclose(A, 1 / (1 + np.exp(-Z)), rtol=1e-15)
    np.testing.assert_array_equal(cache, Z)
    A, cache = R.relu(Z)
    np.testing.assert_array_equal(A, [[0., 0., 3.]])


def test_activation_backward_matches_formulas():
    Z = np.array([[-1., 0., 2.]])
    dA = np.array([[0.5, -1., 3.]])
    s = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(R.sigmoid_backward(dA, Z), dA * s * (1 - s),
                               rtol=1e-15)
    np.testing.assert_array_equal(R.relu_backward(dA, Z), [[0., 0., 3.]])


def _network(rng, dims, m):
    X = rng.randn(dims[0], m)
    Y = (rng.rand(1, m) > 0.5).astype(float)
    parameters = R.initialize_parameters_deep(dims, seed=rng)
    for l in range(1, len(dims)):
        parameters["b%d" % l] = rng.randn(dims[l], 1) * 0.1
    return X, Y, parameters


def _cost(X, Y, parameters):
    AL, _ = R.L_model_forward(X, parameters)
    return float(R.compute_cost(AL, Y))


def test_L_model_backward_matches_finite_differences(rng):
    X, Y, parameters = _network(rng, [4, 5, 3, 1], 6)
    AL, caches = R.L_model_forward(X, parameters)
    grads = R.L_model_backward(AL, Y, caches)
    h = 1e-6
    for key, P in parameters.items():
        numeric = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            plus = {k: v.copy() for k, v in parameters.items()}
            minus = {k: v.copy() for k, v in parameters.items()}
            plus[key][idx] += h
            minus[key][idx] -= h
            numeric[idx] = (_cost(X, Y, plus) - _cost(X, Y, minus)) / (2 * h)
        np.testing.assert_allclose(grads["d" + key], numeric, rtol=1e-5,
                                   atol=1e-8, err_msg=key)
    # dA0 is the gradient with respect to the input itself.
    numeric = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[idx] += h
        Xm[idx] -= h
        numeric[idx] = (_cost(Xp, Y, parameters)
                        - _cost(Xm, Y, parameters)) / (2 * h)
    # The course's dA0 is the gradient of m * cost (no 1/m on dA).
    np.testing.assert_allclose(grads["dA0"] / X.shape[1], numeric,
                               rtol=1e-5, atol=1e-8)


def test_predict_prints_accuracy_and_can_be_silenced(capsys):
    rng = np.random.RandomState(1)
    X, Y, parameters = _network(rng, [3, 4, 1], 10)
    AL, _ = R.L_model_forward(X, parameters)
    p = R.predict(X, Y, parameters)
    assert p.shape == (1, 10)
    np.testing.assert_array_equal(p, (AL > 0.5).astype(float))
    out = capsys.readouterr().out
    assert out == "Accuracy: %s\n" % (np.sum(p == Y) / 10)
    R.predict(X, Y, parameters, print_accuracy=False)
    R.predict(X, None, parameters)
    assert capsys.readouterr().out == ""
    # The course passes a plain list of labels for a single image.
    R.predict(X[:, :1], [1], parameters)
    assert capsys.readouterr().out.startswith("Accuracy: ")


@pytest.mark.parametrize("model,dims", [("two_layer_model", (6, 4, 1)),
                                        ("L_layer_model", [6, 4, 3, 1])])
def test_training_records_and_prints_costs(capsys, model, dims):
    rng = np.random.RandomState(2)
    X = rng.rand(6, 30)
    Y = (X.sum(axis=0, keepdims=True) > 3).astype(int)
    calls = []
    parameters, costs = getattr(R, model)(
        X, Y, dims, 0.05, 250, print_cost=True,
        callback=lambda i, c: calls.append((i, c)))
    # As the course records them: np.squeeze(cost), 0-d float64 arrays.
    assert len(costs) == 3
    assert all(type(c) is np.ndarray and c.shape == () and
               c.dtype == np.float64 for c in costs)
    assert all(type(c) is float for _, c in calls)
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(":")[0] for ln in lines] == [
        "Cost after iteration 0", "Cost after iteration 100",
        "Cost after iteration 200", "Cost after iteration 249"]
    assert [i for i, _ in calls] == [0, 100, 200, 249]
    assert [c for _, c in calls][:3] == costs
    assert costs[-1] < costs[0]
    assert set(parameters) == {"W%d" % l for l in range(1, len(dims))} | {
        "b%d" % l for l in range(1, len(dims))}


def test_training_keeps_float32():
    rng = np.random.RandomState(2)
    X = rng.rand(6, 30).astype(np.float32)
    Y = (X.sum(axis=0, keepdims=True) > 3).astype(int)
    parameters, costs = R.L_layer_model(X, Y, [6, 4, 1], 0.05, 101)
    assert all(P.dtype == np.float32 for P in parameters.values())
    f32 = np.dtype(np.float32)
    assert [(c.shape, c.dtype) for c in costs] == [((), f32)] * 2


def test_training_stops_on_divergence():
    rng = np.random.RandomState(0)
    X = rng.rand(5, 20) * 1e3
    Y = (rng.rand(1, 20) > 0.5).astype(float)
    # A saturated output alone is no divergence (the fused gradient AL - Y
    # stays finite); weights that overflow to a NaN cost are.
    with pytest.raises(FloatingPointError, match="learning rate"):
        R.L_layer_model(X, Y, [5, 4, 1], learning_rate=1e200,
                        num_iterations=50)


def test_top_level_exports_the_course_api():
    for name in R.__all__:
        assert callable(getattr(fastdnn, name))
    with pytest.raises(ValueError, match="'numpy'"):
        fastdnn.get_backend("tensorflow")
