"""Diverging and overflowing trainings end as the reference's do, in every
solver: the same exception type and message (same iteration), or the same
model when the reference trains on. The gram solver hands over to the
primal form where its own arithmetic cannot follow (an X^T X that
overflows, a pre-activation that is no longer finite) and emits no
RuntimeWarning (pytest turns warnings into errors)."""
import numpy as np
import pytest

from fastdnn import _gram, jit, reference

from test_gram import RTOL

SOLVERS = ["primal", "gram", "auto"]


def _outcome(train, *args, **kwargs):
    """``("ok", costs, parameters)`` or ``(exception type, message)``."""
    try:
        parameters, costs = train(*args, **kwargs)
    except (FloatingPointError, ValueError) as exc:
        return type(exc), str(exc)
    return "ok", costs, parameters


def _reference_outcome(*args):
    # The reference's own numpy overflow warnings are not under test here.
    with np.errstate(all="ignore"):
        return _outcome(reference.L_layer_model, *args)


def _assert_same_outcome(got, want, dtype):
    assert got[0] == want[0], (got[:2], want[:2])
    if want[0] != "ok":
        assert got[1] == want[1]
        return
    rtol = RTOL[np.dtype(dtype)]
    np.testing.assert_allclose(got[1], want[1], rtol=rtol)
    assert sorted(got[2]) == sorted(want[2])
    for key, value in want[2].items():
        assert got[2][key].dtype == value.dtype
        np.testing.assert_allclose(got[2][key], value, rtol=rtol,
                                   atol=rtol * np.abs(value).max(),
                                   err_msg=key)


DIVERGING = [
    # (dims, learning rate, scale of X): each diverges within a few
    # iterations, its output saturated on a wrong label or its weights
    # overflowing (a NaN cost; the gram solver's own sums would have given
    # an inf there, and another error, without the hand-over).
    ([20, 1], 1e2, 3.0),
    ([20, 1], 1e300, 1e5),
    ([20, 5, 1], 1e4, 3.0),
    ([20, 5, 1], 1e200, 3.0),
    ([20, 5, 1], 1e300, 3.0),
    ([20, 6, 4, 1], 1e3, 3.0),
    ([20, 6, 4, 1], 1e200, 1e5),
]

#: Cases whose reference run stops at a NaN cost (weights overflowing),
#: 1, 2 and 3 layers.
NAN_COST = [([20, 1], 1e300, 1e5), ([20, 5, 1], 1e200, 3.0),
            ([20, 5, 1], 1e300, 3.0), ([20, 6, 4, 1], 1e200, 1e5),
            ([20, 6, 4, 1], 1e300, 1e5)]


def _diverging_problem(dims, scale):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((dims[0], 12)) * scale
    Y = (rng.random_sample((1, 12)) > 0.5).astype(np.float64)
    return X, Y


@pytest.mark.parametrize("solver", ["gram", "auto"])
@pytest.mark.parametrize("dims,lr,scale", DIVERGING,
                         ids=["-".join(map(str, d)) + "_lr%g" % lr
                              for d, lr, _ in DIVERGING])
def test_divergence_ends_as_the_primal_solvers(dims, lr, scale, solver):
    X, Y = _diverging_problem(dims, scale)
    want = _outcome(jit.L_layer_model, X, Y, dims, lr, 50, solver="primal")
    got = _outcome(jit.L_layer_model, X, Y, dims, lr, 50, solver=solver)
    _assert_same_outcome(got, want, np.float64)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dims,lr,scale", NAN_COST,
                         ids=["-".join(map(str, d)) + "_lr%g" % lr
                              for d, lr, _ in NAN_COST])
def test_divergence_raises_the_references_error(dims, lr, scale, solver):
    X, Y = _diverging_problem(dims, scale)
    want = _reference_outcome(X, Y, dims, lr, 50)
    assert want[0] is FloatingPointError, want[:2]
    got = _outcome(jit.L_layer_model, X, Y, dims, lr, 50, solver=solver)
    _assert_same_outcome(got, want, np.float64)


@pytest.mark.parametrize("lr", [1e200, 1e300])
def test_two_layer_model_diverges_as_the_primal_solvers(lr):
    dims = [20, 5, 1]
    X, Y = _diverging_problem(dims, 3.0)
    want = _outcome(jit.two_layer_model, X, Y, dims, lr, 50,
                    solver="primal")
    assert want[0] is FloatingPointError
    for solver in ("gram", "auto"):
        got = _outcome(jit.two_layer_model, X, Y, dims, lr, 50,
                       solver=solver)
        _assert_same_outcome(got, want, np.float64)


# ------------------------------------------------ X^T X overflows

SCALES = {"float64": [1e160, 1e308], "float32": [1e20, 1e38]}


def _saturated_problem(dims, dtype, scale):
    """Inputs so large that every output saturates, with the labels the
    initial network predicts: every gradient is exactly 0 and the
    reference trains on without a change (or, where W1 X itself
    overflows, stops with its own error)."""
    rng = np.random.RandomState(len(dims))
    X = (rng.random_sample((dims[0], 9)) - 0.5).astype(dtype) * dtype(scale)
    parameters = reference.initialize_parameters_deep(dims)
    parameters = {k: p.astype(dtype) for k, p in parameters.items()}
    with np.errstate(all="ignore"):
        AL, _ = reference.L_model_forward(X, parameters)
    Y = (AL > 0.5).astype(dtype)
    return X, Y


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dims", [[30, 1], [30, 5, 1], [30, 6, 4, 1]],
                         ids=["1-layer", "2-layer", "3-layer"])
@pytest.mark.parametrize("dtype,scale",
                         [(d, s) for d in SCALES for s in SCALES[d]])
def test_overflowing_x_t_x_trains_as_the_reference(dtype, scale, dims,
                                                   solver):
    dtype = np.dtype(dtype).type
    X, Y = _saturated_problem(dims, dtype, scale)
    want = _reference_outcome(X, Y, dims, 0.0075, 30)
    got = _outcome(jit.L_layer_model, X, Y, dims, 0.0075, 30,
                   solver=solver)
    _assert_same_outcome(got, want, dtype)


def test_the_reference_trains_on_at_1e160():
    # The case above is a real training for the reference, not an error
    # that every solver would share anyway.
    X, Y = _saturated_problem([30, 5, 1], np.float64, 1e160)
    assert _reference_outcome(X, Y, [30, 5, 1], 0.0075, 30)[0] == "ok"


def test_gram_solver_hands_over_when_x_t_x_overflows():
    X, Y = _saturated_problem([30, 5, 1], np.float64, 1e160)
    p = reference.initialize_parameters_deep([30, 5, 1])
    solver = _gram.GramSolver(X, Y, [p["W1"], p["W2"]], [p["b1"], p["b2"]],
                              0.0075)
    assert solver._primal is not None
    costs = np.empty(3)
    solver.run(3, costs)
    assert solver.iteration == 3
    Ws, bs = solver.parameters()
    np.testing.assert_array_equal(Ws[0], p["W1"])


def test_gram_solver_hands_over_mid_run(monkeypatch):
    # Weights overflow at the second iteration: the gram solver redoes it
    # in the primal form, and counts iterations on.
    handed = []
    original = _gram.GramSolver._to_primal

    def spy(self):
        handed.append(self.iteration)
        original(self)

    monkeypatch.setattr(_gram.GramSolver, "_to_primal", spy)
    X, Y = _diverging_problem([20, 5, 1], 3.0)
    want = _reference_outcome(X, Y, [20, 5, 1], 1e200, 50)
    got = _outcome(jit.L_layer_model, X, Y, [20, 5, 1], 1e200, 50,
                   solver="gram")
    assert handed == [1]
    _assert_same_outcome(got, want, np.float64)
