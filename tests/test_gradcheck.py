"""Central-difference gradient checks, in float64, of the reference's
backward passes for every hidden activation and output (both taken from the
tables, so a new entry is checked without editing this file)."""
import itertools

import numpy as np
import pytest

from fastdnn import reference as R
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_core import _L_model_backward_fused
from fastdnn._reference_outputs import OUTPUTS

H = 1e-6
COMBOS = list(itertools.product(ACTIVATIONS, OUTPUTS, [1, 2, 3]))


def _problem(activation, output, n_layers, m=7):
    seed = (sorted(ACTIVATIONS).index(activation) * 10
            + sorted(OUTPUTS).index(output)) * 10 + n_layers
    rng = np.random.RandomState(seed)
    n_out = {"sigmoid": 1, "softmax": 3}.get(output, 2)
    dims = [4] + [5, 3][:n_layers - 1] + [n_out]
    X = rng.randn(dims[0], m)
    parameters = {}
    for l in range(1, len(dims)):
        parameters["W%d" % l] = rng.randn(dims[l], dims[l - 1]) * 0.8
        parameters["b%d" % l] = rng.randn(dims[l], 1) * 0.3
    if output == "sigmoid":
        Y = (rng.rand(1, m) > 0.5).astype(float)
    elif output == "softmax":
        Y = rng.randint(0, n_out, (1, m))
    else:
        Y = rng.randn(n_out, m)
    return X, Y, parameters


def _cost(X, Y, parameters, activation, output):
    AL, _ = R.L_model_forward(X, parameters, activation=activation,
                              output=output)
    return float(R.compute_cost(AL, Y, output=output))


def _numerical_grads(X, Y, parameters, activation, output):
    grads = {}
    for key, P in parameters.items():
        G = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            plus = {k: v.copy() for k, v in parameters.items()}
            minus = {k: v.copy() for k, v in parameters.items()}
            plus[key][idx] += H
            minus[key][idx] -= H
            G[idx] = (_cost(X, Y, plus, activation, output)
                      - _cost(X, Y, minus, activation, output)) / (2 * H)
        grads["d" + key] = G
    return grads


def _relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b),
                                       1e-12)


@pytest.mark.parametrize("activation,output,n_layers", COMBOS)
def test_L_model_backward_matches_central_differences(activation, output,
                                                      n_layers):
    X, Y, parameters = _problem(activation, output, n_layers)
    AL, caches = R.L_model_forward(X, parameters, activation=activation,
                                   output=output)
    grads = R.L_model_backward(AL, Y, caches, activation=activation,
                               output=output)
    numerical = _numerical_grads(X, Y, parameters, activation, output)
    # The training loops' fused path, dZ_L = AL - Y (Y one-hot), is the
    # same gradient.
    Y1 = OUTPUTS[output].labels(Y, AL.shape, AL.dtype)
    fused = _L_model_backward_fused(AL, Y1, caches,
                                    (activation,) * (n_layers - 1), output)
    assert list(grads) == list(fused)
    for key, G in numerical.items():
        assert _relative_error(grads[key], G) < 1e-7, key
        assert _relative_error(fused[key], G) < 1e-7, key
        np.testing.assert_allclose(fused[key], grads[key], rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_fused_output_gradient_is_the_cost_derivative(output):
    # m * dcost/dZ_L == AL - Y for each output's own cost.
    X, Y, parameters = _problem("relu", output, 1, m=5)
    Z = parameters["W1"] @ X + parameters["b1"]
    out = OUTPUTS[output]
    Y1 = out.labels(Y, Z.shape, Z.dtype)

    def cost(Z):
        return float(R.compute_cost(out.forward(Z), Y1, output=output))

    numerical = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        plus, minus = Z.copy(), Z.copy()
        plus[idx] += H
        minus[idx] -= H
        numerical[idx] = (cost(plus) - cost(minus)) / (2 * H)
    dZ = out.dZ(out.forward(Z), Y1)
    np.testing.assert_allclose(dZ, numerical * Z.shape[1], rtol=1e-6,
                               atol=1e-8)
