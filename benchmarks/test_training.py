"""End-to-end training of the seed's 4-layer network on the cat shape
(synthetic images, so that no dataset is needed): the numpy reference, the
numba primal and gram solvers, float64 and float32; and, in float32, one
network per other entry of the tables (each activation with the sigmoid
output, each output with relu hidden layers, each initializer of the
course's network).

Under ``--benchmark-disable`` each trains for 2 iterations (the networks of
the tables' other entries on :data:`SMOKE_SHAPE`: a smoke run of each entry,
while the course's network covers the cat shape's code paths); enabled, for
500 (``fastdnn bench`` runs the seed's full 2500 and checks the targets).
"""
import numpy as np
import pytest

from fastdnn.registry import (CAT, OPERATIONS, REGISTRY, Shape, make_labels,
                              output_units)

from conftest import group

TWO_LAYER = Shape((12288, 7, 1), 209)

#: The cat network's widths on 300 features: more features than examples,
#: as the cat images (auto picks the gram solver), at a fortieth of the cost.
SMOKE_SHAPE = Shape((300,) + CAT.dims[1:], CAT.m)

CASES = [(model, dtype, backend)
         for model in ("L_layer_model", "two_layer_model")
         for dtype in ("float64", "float32")
         for backend in REGISTRY[model]]


def _one_entry_away(op):
    # L_layer_model with one name of the tables other than the course's.
    network = OPERATIONS[op]
    course = OPERATIONS["L_layer_model"]
    return (network.function == course.function
            and sum(a != b for a, b in zip(network, course)) == 1)


#: (operation, backend): float32 only, and the solvers explicitly (auto
#: picks one of them).
TABLE_CASES = [(op, backend) for op in sorted(REGISTRY)
               if _one_entry_away(op)
               for backend in sorted(REGISTRY[op]) if backend != "numba"]


@pytest.fixture(scope="module")
def cat_like():
    """Cat-shaped inputs: X (12288, 209) in [0, 1), 0/1 labels."""
    rng = np.random.RandomState(0)
    X = rng.random_sample((CAT.dims[0], CAT.m))
    Y = (rng.random_sample((1, CAT.m)) > 0.5).astype(np.float64)
    return X, Y


def _train(benchmark, train, X, Y, dims, name, shape, dtype, backend,
           iterations):
    train(X, Y, dims, 0.0075, 1)  # compile / load outside the timing
    benchmark.group = group(name, shape, dtype, "x%dit" % iterations)
    benchmark.extra_info.update(backend=backend, iterations=iterations)
    parameters, costs = benchmark.pedantic(
        train, args=(X, Y, dims, 0.0075, iterations),
        rounds=3, iterations=1, warmup_rounds=0)
    assert np.isfinite(costs).all()
    assert parameters["W1"].dtype == np.dtype(dtype)


@pytest.mark.parametrize("model,dtype,backend", CASES,
                         ids=["%s-%s-%s" % c for c in CASES])
def test_training(benchmark, cat_like, training_iterations, model, dtype,
                  backend):
    shape = CAT if model == "L_layer_model" else TWO_LAYER
    X, Y = cat_like
    X = np.ascontiguousarray(X, dtype=dtype)
    _train(benchmark, REGISTRY[model][backend], X, Y, list(shape.dims),
           model, shape, dtype, backend, training_iterations)


@pytest.mark.parametrize("op,backend", TABLE_CASES,
                         ids=["%s-%s" % c for c in TABLE_CASES])
def test_training_per_table_entry(benchmark, cat_like, enabled,
                                  training_iterations, op, backend):
    shape = CAT if enabled else SMOKE_SHAPE
    output = OPERATIONS[op].output
    dims = list(shape.dims[:-1]) + [output_units(output, shape.dims[-1])]
    X = np.ascontiguousarray(cat_like[0][:dims[0]], dtype="float32")
    Y = make_labels(np.random.RandomState(1), output, dims[-1], shape.m)
    _train(benchmark, REGISTRY[op][backend], X, Y, dims, op,
           Shape(tuple(dims), shape.m), "float32", backend,
           training_iterations)
