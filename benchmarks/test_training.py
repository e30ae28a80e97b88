"""End-to-end training of the seed's 4-layer network on the cat shape
(synthetic images, so that no dataset is needed): the numpy reference, the
numba primal and gram solvers, float64 and float32.

Under ``--benchmark-disable`` each trains for 2 iterations; enabled, for
500 (``fastdnn bench`` runs the seed's full 2500 and checks the targets).
"""
import numpy as np
import pytest

from fastdnn.registry import CAT, REGISTRY, Shape

from conftest import group

TWO_LAYER = Shape((12288, 7, 1), 209)

CASES = [(model, dtype, backend)
         for model in ("L_layer_model", "two_layer_model")
         for dtype in ("float64", "float32")
         for backend in REGISTRY[model]]


@pytest.fixture(scope="module")
def cat_like():
    """Cat-shaped inputs: X (12288, 209) in [0, 1), 0/1 labels."""
    rng = np.random.RandomState(0)
    X = rng.random_sample((CAT.dims[0], CAT.m))
    Y = (rng.random_sample((1, CAT.m)) > 0.5).astype(np.float64)
    return X, Y


@pytest.mark.parametrize("model,dtype,backend", CASES,
                         ids=["%s-%s-%s" % c for c in CASES])
def test_training(benchmark, cat_like, training_iterations, model, dtype,
                  backend):
    shape = CAT if model == "L_layer_model" else TWO_LAYER
    X, Y = cat_like
    X = np.ascontiguousarray(X, dtype=dtype)
    train = REGISTRY[model][backend]
    dims = list(shape.dims)
    train(X, Y, dims, 0.0075, 1)  # compile / load outside the timing
    benchmark.group = group(model, shape, dtype,
                            "x%dit" % training_iterations)
    benchmark.extra_info.update(backend=backend,
                                iterations=training_iterations)
    parameters, costs = benchmark.pedantic(
        train, args=(X, Y, dims, 0.0075, training_iterations),
        rounds=3, iterations=1, warmup_rounds=0)
    assert np.isfinite(costs).all()
    assert parameters["W1"].dtype == np.dtype(dtype)
