"""fastdnn.jit's optimizer building blocks (fastdnn._jit_optimizers, the
training loop's fused update) against the reference's: the same results
bit for bit (the same formulas in the same operation order, no fused
multiply-adds), inputs left unchanged, the same errors."""
import numpy as np
import pytest

from fastdnn import _toolbox_step_kernels as SK
from fastdnn import jit, reference

NAMES = ["update_parameters_with_gd", "initialize_velocity",
         "update_parameters_with_momentum", "update_parameters_with_nesterov",
         "initialize_rmsprop", "update_parameters_with_rmsprop",
         "initialize_adam", "update_parameters_with_adam",
         "random_mini_batches", "update_lr", "schedule_lr_decay"]


def setup(dtype, dims=(5, 4, 3), seed=0):
    rng = np.random.RandomState(seed)
    params, grads, state = {}, {}, {}
    for l in range(1, len(dims)):
        for key, shape in (("W", (dims[l], dims[l - 1])),
                           ("b", (dims[l], 1))):
            params[key + str(l)] = rng.randn(*shape).astype(dtype)
            grads["d%s%d" % (key, l)] = rng.randn(*shape).astype(dtype)
            state["d%s%d" % (key, l)] = rng.rand(*shape).astype(dtype)
    return params, grads, state


def snapshot(*dicts):
    return [{k: a.copy() for k, a in d.items()} for d in dicts]


def same(a, b):
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
        assert np.array_equal(a[k], b[k]), k


def test_jit_exports_every_building_block_of_the_reference():
    for name in NAMES:
        assert name in reference.__all__ or not hasattr(reference, name)
        assert callable(getattr(jit, name))
    # The optimizers are the jit's own, not the reference's re-exported.
    assert jit.update_parameters_with_adam is not \
        reference.update_parameters_with_adam


CALLS = {
    "gd": lambda m, p, g, s: m.update_parameters_with_gd(p, g, 0.1),
    "momentum": lambda m, p, g, s: m.update_parameters_with_momentum(
        p, g, s, 0.8, 0.1),
    "nesterov": lambda m, p, g, s: m.update_parameters_with_nesterov(
        p, g, s, 0.8, 0.1),
    "rmsprop": lambda m, p, g, s: m.update_parameters_with_rmsprop(
        p, g, s, 0.99, 0.1, 1e-7),
    "adam": lambda m, p, g, s: m.update_parameters_with_adam(
        p, g, s, {k: 2 * a for k, a in s.items()}, 3, 0.02, 0.85, 0.99,
        1e-6),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_building_blocks_are_the_references_bit_for_bit(name, dtype):
    params, grads, state = setup(dtype)
    before = snapshot(params, grads, state)
    got = CALLS[name](jit, params, grads, state)
    want = CALLS[name](reference, params, grads, state)
    if isinstance(want, dict):
        got, want = (got,), (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        same(a, b)
    for d, b in zip((params, grads, state), before):
        same(d, b)


def test_big_parameter_takes_the_threaded_update():
    params, grads, state = setup(np.float64, dims=(400, 300, 1))
    assert params["W1"].size >= SK.UPDATE_PARALLEL_MIN
    got = CALLS["adam"](jit, params, grads, state)
    want = CALLS["adam"](reference, params, grads, state)
    for a, b in zip(got, want):
        same(a, b)


def test_initializers_match():
    params, _, _ = setup(np.float32)
    same(jit.initialize_velocity(params),
         reference.initialize_velocity(params))
    same(jit.initialize_rmsprop(params),
         reference.initialize_rmsprop(params))
    for a, b in zip(jit.initialize_adam(params),
                    reference.initialize_adam(params)):
        same(a, b)


def _bad_cases():
    params, grads, state = setup(np.float64)
    missing = dict(state)
    del missing["db2"]
    return [
        ("gd", (params, grads, -1.0)),
        ("momentum", (params, grads, state, 1.0, 0.1)),
        ("momentum", (params, grads, missing, 0.9, 0.1)),
        ("nesterov", (params, grads, [1], 0.9, 0.1)),
        ("rmsprop", (params, grads, state, 0.9, 0.1, 0.0)),
        ("adam", (params, grads, state, state, 0)),
        ("adam", (params, grads, state, state, 1, 0.01, 1.5)),
        ("adam", (params, {"dW1": grads["dW1"]}, state, state, 1)),
        ("adam", ({"W1": params["W1"]}, grads, state, state, 1)),
    ]


FUNCS = {"gd": "update_parameters_with_gd",
         "momentum": "update_parameters_with_momentum",
         "nesterov": "update_parameters_with_nesterov",
         "rmsprop": "update_parameters_with_rmsprop",
         "adam": "update_parameters_with_adam"}


@pytest.mark.parametrize("case", range(len(_bad_cases())))
def test_bad_input_raises_the_references_error(case):
    name, args = _bad_cases()[case]
    with pytest.raises((TypeError, ValueError)) as want:
        getattr(reference, FUNCS[name])(*args)
    with pytest.raises(type(want.value)) as got:
        getattr(jit, FUNCS[name])(*args)
    assert str(got.value) == str(want.value)
