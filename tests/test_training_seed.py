"""The seed's cat-training table, on the real data, in every backend."""
import numpy as np
import pytest

import fastdnn

from seed_values import COSTS_4_LAYER, TRAINING_TABLE

# Float64 training amplifies rounding differences (BLAS summation order) by
# a few orders of magnitude over 2500 iterations; 1e-9 relative is far above
# that and far below any real change in the algorithm.
COST_RTOL = 1e-9

pytestmark = [pytest.mark.slow, pytest.mark.data]


def _accuracy(B, x, y, parameters):
    p = B.predict(x, y, parameters, print_accuracy=False)
    return np.sum(p == y) / y.shape[1]


@pytest.mark.parametrize("backend", sorted(fastdnn.BACKENDS))
@pytest.mark.parametrize("model,dims,c0,c2400,train_acc,test_acc",
                         TRAINING_TABLE, ids=["2layer", "L3", "L5"])
def test_seed_training_table(cat_data, reference_seed_run, backend, model,
                             dims, c0, c2400, train_acc, test_acc):
    B = fastdnn.get_backend(backend)
    train_x, train_y, test_x, test_y, _ = cat_data
    want_parameters, _ = reference_seed_run(model, dims)
    if B is fastdnn.reference:
        parameters, costs = reference_seed_run(model, dims)
    else:
        parameters, costs = getattr(B, model)(train_x, train_y, dims,
                                              0.0075, 2500)
        # The final parameters agree with the reference's, relative to
        # each array's largest entry.
        assert sorted(parameters) == sorted(want_parameters)
        for key, want in want_parameters.items():
            np.testing.assert_allclose(
                parameters[key], want, rtol=0,
                atol=COST_RTOL * np.abs(want).max(), err_msg=key)
    assert len(costs) == 25
    np.testing.assert_allclose(costs[0], c0, rtol=COST_RTOL)
    np.testing.assert_allclose(costs[24], c2400, rtol=COST_RTOL)
    if len(dims) == 5:
        np.testing.assert_allclose(costs, COSTS_4_LAYER, rtol=COST_RTOL)
    assert _accuracy(B, train_x, train_y, parameters) == train_acc
    assert _accuracy(B, test_x, test_y, parameters) == test_acc


@pytest.mark.parametrize("solver", ["auto", "primal", "gram"])
def test_single_layer_cat_training_matches_the_reference(
        cat_data, reference_seed_run, solver):
    # Logistic regression on the cat images ([12288, 1]: m = 209 <= 2 n_x,
    # so "auto" trains it in the dual form), every recorded cost and the
    # final parameters against the reference's own run.
    dims = [12288, 1]
    want, want_costs = reference_seed_run("L_layer_model", dims)
    parameters, costs = fastdnn.jit.L_layer_model(
        cat_data[0], cat_data[1], dims, 0.0075, 2500, solver=solver)
    assert len(costs) == 25
    np.testing.assert_allclose(costs, want_costs, rtol=COST_RTOL)
    for key, value in want.items():
        np.testing.assert_allclose(parameters[key], value, rtol=0,
                                   atol=COST_RTOL * np.abs(value).max(),
                                   err_msg=key)
