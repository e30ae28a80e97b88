"""The two backends train the same toolbox runs: every optimizer x (full
batch, mini-batches with a remainder) x L2 x dropout, the whole cost
trajectory and the final parameters (float64 to 1e-9 relative; float32
to its rounding)."""
import itertools

import numpy as np
import pytest

from fastdnn import jit, reference as R
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_outputs import OUTPUTS
from fastdnn._reference_training import _initial_parameters
from fastdnn._toolbox_options import OPTIMIZER_NAMES

RUNS = list(itertools.product(OPTIMIZER_NAMES, (None, 7), (0.0, 0.3),
                              (1.0, 0.8)))


def _data(dtype):
    rng = np.random.RandomState(0)
    X = rng.randn(5, 23).astype(dtype)
    Y = (rng.rand(1, 23) > 0.5).astype(dtype)
    return X, Y


def _run(backend, X, Y, optimizer, size, lambd, keep_prob, **extra):
    seen = []
    params, costs = backend.L_layer_model(
        X, Y, [5, 4, 3, 1], 0.01, 121, optimizer=optimizer,
        mini_batch_size=size, lambd=lambd, keep_prob=keep_prob, seed=3,
        decay=R.schedule_lr_decay, decay_rate=0.5,
        callback=lambda i, c: seen.append(c), **extra)
    return params, costs, seen


def _agree(X, Y, run, rtol):
    p_ref, c_ref, s_ref = _run(R, X, Y, *run)
    p_jit, c_jit, s_jit = _run(jit, X, Y, *run, solver="primal")
    assert len(s_ref) == len(s_jit) == 3
    np.testing.assert_allclose(s_jit, s_ref, rtol=rtol)
    assert [c.dtype for c in c_jit] == [c.dtype for c in c_ref]
    np.testing.assert_allclose(np.asarray(c_jit, dtype=float),
                               np.asarray(c_ref, dtype=float), rtol=rtol)
    for k in p_ref:
        assert p_jit[k].dtype == p_ref[k].dtype
        np.testing.assert_allclose(p_jit[k], p_ref[k], rtol=rtol,
                                   atol=rtol * np.abs(p_ref[k]).max(),
                                   err_msg=k)
    # The run did move the weights.
    start = _initial_parameters([5, 4, 3, 1], 3, None, "xavier",
                                ("relu", "relu"), X.dtype)
    assert not np.allclose(p_ref["W1"], start["W1"], rtol=1e-3)


@pytest.mark.parametrize("run", RUNS, ids=lambda r: "-".join(map(str, r)))
def test_backends_agree_float64(run):
    _agree(*_data(np.float64), run, rtol=1e-9)


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_backends_agree_float32(optimizer):
    _agree(*_data(np.float32), (optimizer, 7, 0.3, 0.8), rtol=2e-3)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backends_agree_for_every_output_and_activation(output, activation):
    rng = np.random.RandomState(1)
    X = rng.randn(4, 17)
    n_L = 1 if output == "sigmoid" else 3
    if output == "identity":
        Y = rng.randn(n_L, 17)
    else:
        Y = rng.randint(0, 2 if n_L == 1 else n_L, (1, 17)).astype(float)
    kw = dict(optimizer="adam", mini_batch_size=5, lambd=0.2, keep_prob=0.8,
              seed=4, activation=activation, output=output)
    p_ref, c_ref = R.L_layer_model(X, Y, [4, 5, 3, n_L], 0.01, 101, **kw)
    p_jit, c_jit = jit.L_layer_model(X, Y, [4, 5, 3, n_L], 0.01, 101,
                                     solver="primal", **kw)
    np.testing.assert_allclose(np.asarray(c_jit), np.asarray(c_ref),
                               rtol=1e-9)
    for k in p_ref:
        np.testing.assert_allclose(p_jit[k], p_ref[k], rtol=1e-9,
                                   atol=1e-12, err_msg=k)
