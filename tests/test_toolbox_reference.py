"""The reference's training-toolbox building blocks: the optimizers (the
OPTIMIZERS table and the course's functions), random_mini_batches and the
learning-rate decays, against hand computations and the course's
published values ("Optimization Methods", Course 2 Week 2)."""
import copy

import numpy as np
import pytest

from course_values_c2_toolbox import OPT
from fastdnn import jit, reference as R
from fastdnn._reference_optimizers import OPTIMIZERS
from fastdnn._toolbox_options import (COURSE_OPTIMIZERS, OPTIMIZER_NAMES,
                                      batch_bounds, batch_starts_stops,
                                      check_toolbox)

# ------------------------------------------------------------ hand steps
# One layer, W1 (1, 2) and b1 (1, 1), every number chosen so that the
# step is exact in binary and written out by hand below.
P = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[0.5]])}
G = {"dW1": np.array([[0.5, -1.0]]), "db1": np.array([[2.0]])}
# A velocity from an earlier step.
V0 = {"dW1": np.array([[1.0, 1.0]]), "db1": np.array([[-2.0]])}
LR = 0.1


def _zeros():
    return {"dW1": np.zeros((1, 2)), "db1": np.zeros((1, 1))}


def _close(got, expected, rtol=0.0):
    assert set(got) == set(expected)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=rtol, atol=0,
                                   err_msg=k)


def test_gd_step_by_hand():
    # W - 0.1 * dW: 1 - 0.05, -2 + 0.1; b: 0.5 - 0.2.
    _close(R.update_parameters_with_gd(P, G, LR),
           {"W1": [[0.95, -1.9]], "b1": [[0.3]]})


def test_momentum_step_by_hand():
    # From zero: v = 0.5 * dP = [0.25, -0.5], [1.0]; W -= 0.1 * v.
    new, v = R.update_parameters_with_momentum(P, G, _zeros(), 0.5, LR)
    _close(v, {"dW1": [[0.25, -0.5]], "db1": [[1.0]]})
    _close(new, {"W1": [[0.975, -1.95]], "b1": [[0.4]]})
    # From V0: v = 0.5 * [1, 1] + 0.5 * [0.5, -1] = [0.75, 0];
    # 0.5 * -2 + 0.5 * 2 = 0.
    new, v = R.update_parameters_with_momentum(P, G, V0, 0.5, LR)
    _close(v, {"dW1": [[0.75, 0.0]], "db1": [[0.0]]})
    _close(new, {"W1": [[0.925, -2.0]], "b1": [[0.5]]})


def test_nesterov_step_by_hand():
    # The same velocity as momentum from V0, [0.75, 0], [0]; the step is
    # 0.5 * v + 0.5 * dP = [0.625, -0.5], [1.0].
    new, v = R.update_parameters_with_nesterov(P, G, V0, 0.5, LR)
    _close(v, {"dW1": [[0.75, 0.0]], "db1": [[0.0]]})
    _close(new, {"W1": [[0.9375, -1.95]], "b1": [[0.4]]})


def test_rmsprop_step_by_hand():
    # s = 0.25 * dP**2 = [0.0625, 0.25], [1]; dP / sqrt(s) = [2, -2], [2]
    # (epsilon 1e-8 changes the step by ~1e-8 relative).
    new, s = R.update_parameters_with_rmsprop(P, G, _zeros(), 0.75, LR,
                                              epsilon=1e-8)
    _close(s, {"dW1": [[0.0625, 0.25]], "db1": [[1.0]]})
    _close(new, {"W1": [[0.8, -1.8]], "b1": [[0.3]]}, rtol=1e-7)


def test_adam_step_by_hand():
    # t = 1: v = 0.5 dP, v_c = v / 0.5 = dP; s = 0.25 dP**2, s_c = dP**2;
    # the step is dP / |dP| = sign(dP).
    new, v, s, vc, sc = R.update_parameters_with_adam(
        P, G, _zeros(), _zeros(), 1, LR, 0.5, 0.75, 1e-8)
    _close(v, {"dW1": [[0.25, -0.5]], "db1": [[1.0]]})
    _close(s, {"dW1": [[0.0625, 0.25]], "db1": [[1.0]]})
    _close(vc, G)
    _close(sc, {"dW1": [[0.25, 1.0]], "db1": [[4.0]]})
    _close(new, {"W1": [[0.9, -1.9]], "b1": [[0.4]]}, rtol=1e-7)
    # t = 2 from zero moments: v_c = 0.5 dP / 0.75, s_c = 0.25 dP**2 /
    # 0.4375, so the step is sign(dP) * (2/3) / (2 / sqrt(7)) = sqrt(7) / 3.
    new, _, _, vc, _ = R.update_parameters_with_adam(
        P, G, _zeros(), _zeros(), 2, LR, 0.5, 0.75, 1e-8)
    _close(vc, {"dW1": [[1 / 3, -2 / 3]], "db1": [[4 / 3]]}, rtol=1e-15)
    k = 0.8819171036881969  # sqrt(7) / 3
    _close(new, {"W1": [[1 - 0.1 * k, -2 + 0.1 * k]],
                 "b1": [[0.5 - 0.1 * k]]}, rtol=1e-7)


@pytest.mark.parametrize("name", COURSE_OPTIMIZERS)
def test_table_matches_the_course_functions(name):
    # The table's update is the course function of the same optimizer,
    # over two steps (t = 1, 2) from its own zero state.
    toolbox = check_toolbox(optimizer=name, beta=0.5, beta1=0.6, beta2=0.7,
                            epsilon=1e-3)
    opt = OPTIMIZERS[name]
    state = opt.init_state(P)
    params, v, s = P, _zeros(), _zeros()
    got = P
    for t in (1, 2):
        got, state = opt.update(got, G, state, t, LR, toolbox)
        if name == "gd":
            params = R.update_parameters_with_gd(params, G, LR)
        elif name == "momentum":
            params, v = R.update_parameters_with_momentum(params, G, v, 0.5,
                                                          LR)
        elif name == "nesterov":
            params, v = R.update_parameters_with_nesterov(params, G, v, 0.5,
                                                          LR)
        elif name == "rmsprop":
            params, s = R.update_parameters_with_rmsprop(params, G, s, 0.7,
                                                         LR, 1e-3)
        else:
            params, v, s, _, _ = R.update_parameters_with_adam(
                params, G, v, s, t, LR, 0.6, 0.7, 1e-3)
        for k in params:
            np.testing.assert_array_equal(got[k], params[k])
    assert got["W1"][0, 0] != P["W1"][0, 0]


def test_table_names_and_states():
    assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES
    keys = {"gd": set(), "momentum": {"v"}, "nesterov": {"v"},
            "rmsprop": {"s"}, "adam": {"v", "s"}, "sgd_sklearn": {"v"},
            "nesterov_sklearn": {"v"}, "adam_sklearn": {"v", "s"}}
    for name, opt in OPTIMIZERS.items():
        state = opt.init_state(P)
        assert set(state) == keys[name]
        for part in state.values():
            _close(part, _zeros())


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_updates_leave_their_inputs_alone_and_keep_float32(name):
    p32 = {k: a.astype(np.float32) for k, a in P.items()}
    g32 = {k: a.astype(np.float32) for k, a in G.items()}
    opt = OPTIMIZERS[name]
    state = opt.init_state(p32)
    saved = copy.deepcopy((p32, g32, state))
    new, new_state = opt.update(p32, g32, state, 1, LR, check_toolbox())
    for a, b in zip((p32, g32, state), saved):
        assert a.keys() == b.keys()
    for k in p32:
        np.testing.assert_array_equal(p32[k], saved[0][k])
        assert new[k].dtype == np.float32
    for part in new_state:
        for k, a in state[part].items():
            np.testing.assert_array_equal(a, 0)
            assert new_state[part][k].dtype == np.float32


def test_course_functions_leave_their_inputs_alone():
    v, s = R.initialize_adam(P)
    saved = copy.deepcopy((P, G, v, s))
    R.update_parameters_with_adam(P, G, v, s, 1)
    R.update_parameters_with_momentum(P, G, v, 0.9, LR)
    for a, b in zip((P, G, v, s), saved):
        for k in b:
            np.testing.assert_array_equal(a[k], b[k])


def test_initializers_are_zeros_like_the_parameters():
    params = {"W1": np.ones((3, 2)), "b1": np.ones((3, 1)),
              "W2": np.ones((1, 3), dtype=np.float32),
              "b2": np.ones((1, 1), dtype=np.float32)}
    v = R.initialize_velocity(params)
    s = R.initialize_rmsprop(params)
    va, sa = R.initialize_adam(params)
    for d in (v, s, va, sa):
        assert sorted(d) == ["dW1", "dW2", "db1", "db2"]
        for k, a in d.items():
            assert a.shape == params[k[1:]].shape
            assert not a.any()
    assert va["dW1"] is not sa["dW1"]


# ------------------------------------------------ the course's values

def _course_draws(w2_shape=(3, 2)):
    # W1, b1, W2, b2, then their gradients, drawn in turn after
    # np.random.seed(1) (RandomState(1) draws the same numbers).
    rng = np.random.RandomState(1)
    shapes = [("W1", (2, 3)), ("b1", (2, 1)), ("W2", w2_shape),
              ("b2", (w2_shape[0], 1))]
    params = {k: rng.randn(*shape) for k, shape in shapes}
    grads = {"d" + k: rng.randn(*shape) for k, shape in shapes}
    return params, grads


def _published(got, expected, rows=False):
    # The course prints 8 decimals.
    for k, e in expected.items():
        g = got[k][0] if rows else got[k]
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-7, err_msg=k)


def test_course_gd_values():
    params, grads = _course_draws()
    _published(R.update_parameters_with_gd(params, grads, 0.01),
               OPT["update_parameters_with_gd"])


def test_course_momentum_values():
    params, grads = _course_draws()
    v = R.initialize_velocity(params)
    new, v = R.update_parameters_with_momentum(params, grads, v, 0.9, 0.01)
    _published(new, OPT["update_parameters_with_momentum"])
    _published(v, OPT["update_parameters_with_momentum v"])


def test_course_adam_values():
    params, grads = _course_draws()
    v, s = R.initialize_adam(params)
    new, v, s, vc, sc = R.update_parameters_with_adam(
        params, grads, v, s, 2, 0.02, 0.8, 0.888, 1e-2)
    expected = OPT["adam first rows"]
    _published(new, expected["parameters"], rows=True)
    _published(v, expected["v"], rows=True)
    _published(s, expected["s"], rows=True)
    for k in v:
        np.testing.assert_allclose(vc[k], v[k] / (1 - 0.8 ** 2), rtol=1e-15)
        np.testing.assert_allclose(sc[k], s[k] / (1 - 0.888 ** 2),
                                   rtol=1e-15)


# ------------------------------------------------------------ validation

@pytest.mark.parametrize("call, error, match", [
    (lambda: R.update_parameters_with_momentum(P, G, {"dW1": V0["dW1"]},
                                               0.9, LR),
     ValueError, "v has no 'db1'"),
    (lambda: R.update_parameters_with_momentum(P, G, V0, 1.0, LR),
     ValueError, r"beta must be in \[0, 1\)"),
    (lambda: R.update_parameters_with_momentum(P, G, [1], 0.9, LR),
     TypeError, "v must be a dict"),
    (lambda: R.update_parameters_with_nesterov(P, G, V0, 0.9, -1.0),
     ValueError, "learning_rate must be finite and > 0"),
    (lambda: R.update_parameters_with_rmsprop(
        P, G, {"dW1": np.zeros((2, 1)), "db1": V0["db1"]}, 0.9, LR),
     ValueError, r"s\['dW1'\]"),
    (lambda: R.update_parameters_with_rmsprop(P, G, V0, 0.9, LR, 0.0),
     ValueError, "epsilon must be finite and > 0"),
    (lambda: R.update_parameters_with_adam(P, G, V0, V0, 0),
     ValueError, "t must be >= 1"),
    (lambda: R.update_parameters_with_adam(P, G, V0, V0, 1.5),
     TypeError, "t must be an integer"),
    (lambda: R.update_parameters_with_adam(P, G, V0, V0, 1, beta2=-0.1),
     ValueError, r"beta2 must be in \[0, 1\)"),
    (lambda: R.update_parameters_with_adam(P, G, V0,
                                           {"dW1": V0["dW1"]}, 1),
     ValueError, "s has no 'db1'"),
    (lambda: R.update_parameters_with_gd(P, {"dW1": G["dW1"]}, LR),
     ValueError, "grads has no 'db1'"),
    (lambda: R.initialize_adam({"W1": P["W1"]}),
     ValueError, "parameters must hold exactly"),
    (lambda: R.initialize_velocity("W1"), TypeError, "parameters must be"),
])
def test_bad_input_is_refused_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_both_backends_export_the_blocks():
    for name in ("update_parameters_with_gd", "initialize_velocity",
                 "update_parameters_with_momentum", "initialize_adam",
                 "update_parameters_with_adam", "random_mini_batches",
                 "update_lr", "schedule_lr_decay"):
        assert name in R.__all__ and name in jit.__all__
        assert callable(getattr(jit, name))


# ------------------------------------------------------------ mini-batches

def test_course_random_mini_batches_values():
    rng = np.random.RandomState(1)
    X = rng.randn(5, 7)
    Y = rng.randn(1, 7) < 0.5
    batches = R.random_mini_batches(X, Y, 2)
    expected = OPT["random_mini_batches"]
    assert len(batches) == len(expected)
    for (bx, by), (ex, ey) in zip(batches, expected):
        np.testing.assert_allclose(bx, ex, rtol=0, atol=1e-8)
        np.testing.assert_array_equal(by, ey)
        assert by.dtype == bool


def test_course_random_mini_batches_shapes():
    rng = np.random.RandomState(1)
    X = rng.randn(12288, 148)
    Y = rng.randn(1, 148) < 0.5
    batches = R.random_mini_batches(X, Y, 64)
    assert [bx.shape[1] for bx, _ in batches] == OPT[
        "random_mini_batches widths"]
    assert [by.shape for _, by in batches] == [(1, 64), (1, 64), (1, 20)]
    np.testing.assert_allclose(batches[0][0][0][0:3],
                               OPT["random_mini_batches sanity"], atol=1e-8)


def test_random_mini_batches_layout_with_a_remainder():
    # Column j of X holds j, 100 + j, 200 + j; Y's two rows -j and j.
    m = 10
    X = np.arange(m) + 100 * np.arange(3)[:, None]
    Y = np.vstack([-np.arange(m), np.arange(m)])
    before = np.random.get_state()
    batches = R.random_mini_batches(X, Y, mini_batch_size=4, seed=7)
    after = np.random.get_state()
    # numpy's global random state is untouched.
    assert before[0] == after[0] and np.array_equal(before[1], after[1])
    assert [bx.shape for bx, _ in batches] == [(3, 4), (3, 4), (3, 2)]
    order = np.concatenate([bx[0] for bx, _ in batches])
    np.testing.assert_array_equal(
        order, np.random.RandomState(7).permutation(m))
    for bx, by in batches:
        np.testing.assert_array_equal(bx, X[:, bx[0]])
        np.testing.assert_array_equal(by, Y[:, bx[0]])


def test_random_mini_batches_is_the_courses_global_seed_permutation():
    saved = np.random.get_state()
    try:
        np.random.seed(3)
        course = np.random.permutation(9)
    finally:
        np.random.set_state(saved)
    X = np.arange(9.0).reshape(1, 9)
    batches = R.random_mini_batches(X, np.zeros(9), 4, seed=3)
    np.testing.assert_array_equal(
        np.concatenate([bx[0] for bx, _ in batches]), course)
    # A vector of labels is taken as (1, m), as the course reshapes it.
    assert batches[0][1].shape == (1, 4)


@pytest.mark.parametrize("m, size, widths", [
    (8, 4, [4, 4]), (3, 5, [3]), (5, 5, [5]), (5, 1, [1] * 5)])
def test_random_mini_batches_widths(m, size, widths):
    batches = R.random_mini_batches(np.ones((2, m)), np.ones((1, m)), size)
    assert [bx.shape[1] for bx, _ in batches] == widths


def test_batch_arrays_are_the_batch_bounds():
    # The compiled loops' (starts, stops) against the list of pairs that
    # the reference and random_mini_batches cut by, and both against the
    # course's rule: complete batches of the size, then the remainder.
    for m in (1, 2, 5, 31, 32, 33, 64, 100, 6400, 60000):
        for size in (None, 1, 3, 31, 32, 33, 64, 128, m, m + 1):
            starts, stops = batch_starts_stops(m, size)
            assert starts.dtype == stops.dtype == np.int64
            assert list(zip(starts.tolist(), stops.tolist())) == \
                batch_bounds(m, size), (m, size)
            k = m if size is None else min(size, m)
            course = [(j * k, (j + 1) * k) for j in range(m // k)]
            if m % k:
                course.append((m - m % k, m))
            assert batch_bounds(m, size) == course, (m, size)
            assert all(type(x) is int for pair in batch_bounds(m, size)
                       for x in pair), (m, size)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(Y=np.ones((1, 4))), ValueError, r"Y must have shape \(n_y, 5\)"),
    (dict(mini_batch_size=0), ValueError, "mini_batch_size must be >= 1"),
    (dict(mini_batch_size=2.0), TypeError, "mini_batch_size must be an "
     "integer"),
    (dict(seed=-1), ValueError, "seed must be >= 0"),
    (dict(X=np.ones(5)), ValueError, "X must be a non-empty 2-D array"),
    (dict(X="abc"), TypeError, "X must be a numeric array"),
])
def test_random_mini_batches_refuses_bad_input(kwargs, error, match):
    args = dict(X=np.ones((2, 5)), Y=np.ones((1, 5)))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        R.random_mini_batches(**args)


# ---------------------------------------------------- learning-rate decay

def test_course_decay_values():
    for args, expected in OPT["update_lr"]:
        assert R.update_lr(*args) == pytest.approx(expected, rel=1e-15)
    for args, expected in OPT["schedule_lr_decay"]:
        # The notebook prints 0.085714285 for one of them.
        assert R.schedule_lr_decay(*args) == pytest.approx(expected,
                                                           rel=1e-8)


def test_decay_formulas():
    assert R.update_lr(0.3, 4, 0.5) == 0.3 / 3
    assert R.update_lr(0.3, 0, 7.0) == 0.3
    # Constant within each interval, stepping at its multiples.
    assert [R.schedule_lr_decay(1.0, e, 1.0, 10) for e in (0, 9, 10, 25)] \
        == [1.0, 1.0, 0.5, 1 / 3]
    # time_interval defaults to 1000.
    assert R.schedule_lr_decay(0.3, 2000, 1.0) == 0.3 / 3


@pytest.mark.parametrize("call, error, match", [
    (lambda: R.update_lr(0, 1, 1), ValueError, "learning_rate0"),
    (lambda: R.update_lr(0.1, -1, 1), ValueError, "epoch_num must be >= 0"),
    (lambda: R.update_lr(0.1, 1, -1), ValueError, "decay_rate must be in"),
    (lambda: R.schedule_lr_decay(0.1, 1, 1, 0), ValueError,
     "time_interval must be >= 1"),
    (lambda: R.schedule_lr_decay(0.1, 1.5, 1), TypeError,
     "epoch_num must be an integer"),
])
def test_decays_refuse_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
