"""The reference's toolbox training loop: L2 and dropout gradients against
central finite differences, the dropout masks, the defaults' unchanged
path, a mini-batch run against an independent recomputation, and the
toolbox's argument checks."""
import itertools

import numpy as np
import pytest

from fastdnn import _reference_toolbox as T
from fastdnn import _toolbox_options as O
from fastdnn import jit, reference as R
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_outputs import OUTPUTS
from fastdnn._reference_training import _initial_parameters, _train


def _units(output):
    # Two output units where the output takes them, else one.
    try:
        OUTPUTS[output].check_units(2, "layers_dims")
        return 2
    except ValueError:
        return 1


def _labels(output, n_L, m, rng):
    # Class indices 0/1 where the output takes them (sigmoid, softmax),
    # else real targets; in the layout the training loops use.
    idx = (rng.rand(1, m) > 0.5).astype(float)
    try:
        return OUTPUTS[output].labels(idx, (n_L, m), np.float64)
    except ValueError:
        return OUTPUTS[output].labels(rng.randn(n_L, m), (n_L, m),
                                      np.float64)


def _network(n_layers, output, seed=0, m=6):
    rng = np.random.RandomState(seed)
    n_L = _units(output)
    dims = [4] + [3, 5][:n_layers - 1] + [n_L]
    params = {}
    for l in range(1, len(dims)):
        params["W%d" % l] = rng.randn(dims[l], dims[l - 1]) * 0.5
        params["b%d" % l] = rng.randn(dims[l], 1) * 0.1
    X = rng.randn(dims[0], m)
    return X, _labels(output, n_L, m, rng), params


def _cost(X, Y, params, acts, output, lambd, keep_prob, step, seed=5):
    AL, _, _ = T._forward(X, params, acts, output, keep_prob, seed, step)
    cost = OUTPUTS[output].cost(AL, Y)
    return float(cost + T._l2_cost(params, lambd, X.shape[1]))


def _finite_differences(X, Y, params, acts, output, lambd, keep_prob,
                        step, h=1e-6):
    grads = {}
    for key, P in params.items():
        g = np.zeros_like(P)
        for idx in np.ndindex(*P.shape):
            values = []
            for sign in (1, -1):
                moved = dict(params)
                moved[key] = P.copy()
                moved[key][idx] += sign * h
                values.append(_cost(X, Y, moved, acts, output, lambd,
                                    keep_prob, step))
            g[idx] = (values[0] - values[1]) / (2 * h)
        grads["d" + key] = g
    return grads


# (layers, hidden activation, output, lambd, keep_prob): L2 for every
# network, dropout where there is a hidden layer to drop.
CASES = ([(1, "relu", output, 0.7, 1.0) for output in OUTPUTS]
         + [(n, act, output, lambd, keep_prob) for n in (2, 3)
            for act in ACTIVATIONS for output in OUTPUTS
            for lambd, keep_prob in ((0.7, 1.0), (0.7, 0.6), (0.0, 0.6))])


@pytest.mark.parametrize("n_layers, act, output, lambd, keep_prob", CASES)
def test_gradients_match_finite_differences(n_layers, act, output, lambd,
                                            keep_prob):
    X, Y, params = _network(n_layers, output)
    acts = (act,) * (n_layers - 1)
    step = 3
    AL, caches, masks = T._forward(X, params, acts, output, keep_prob, 5,
                                   step)
    assert len(masks) == (n_layers - 1 if keep_prob < 1 else 0)
    grads = T._backward(AL, Y, caches, acts, output, masks, keep_prob,
                        lambd, params)
    fd = _finite_differences(X, Y, params, acts, output, lambd, keep_prob,
                             step)
    got = np.concatenate([grads[k].ravel() for k in sorted(fd)])
    want = np.concatenate([fd[k].ravel() for k in sorted(fd)])
    err = np.linalg.norm(got - want) / (np.linalg.norm(got)
                                        + np.linalg.norm(want))
    assert err < 1e-7, err


def test_l2_cost_is_the_courses():
    _, _, params = _network(3, "sigmoid")
    total = sum(np.sum(params[k] ** 2) for k in ("W1", "W2", "W3"))
    assert T._l2_cost(params, 0.7, 6) == pytest.approx(0.7 / 12 * total,
                                                       rel=1e-14)
    # Biases are not decayed.
    params["b1"] = params["b1"] + 100.0
    assert T._l2_cost(params, 0.7, 6) == pytest.approx(0.7 / 12 * total,
                                                       rel=1e-14)


# ------------------------------------------------------------ dropout

def test_dropout_masks_come_from_the_seed_layer_and_step():
    X, _, params = _network(3, "sigmoid", m=50)
    acts = ("relu", "relu")
    _, caches, masks = T._forward(X, params, acts, "sigmoid", 0.5, 11, 4)
    _, _, again = T._forward(X, params, acts, "sigmoid", 0.5, 11, 4)
    _, _, later = T._forward(X, params, acts, "sigmoid", 0.5, 11, 5)
    _, _, other = T._forward(X, params, acts, "sigmoid", 0.5, 12, 4)
    for l, D in enumerate(masks, start=1):
        np.testing.assert_array_equal(D, again[l - 1])
        np.testing.assert_array_equal(
            D, O.dropout_mask(11, l, 4, D.shape[0], 50, 0.5))
        assert not np.array_equal(D, later[l - 1])
        assert not np.array_equal(D, other[l - 1])
        # About half kept.
        assert 0.3 < D.mean() < 0.7
    assert not np.array_equal(masks[0][:3], masks[1][:3])
    # The next layer's input is the dropped, rescaled activation.
    A1 = np.maximum(0, params["W1"] @ X + params["b1"])
    np.testing.assert_array_equal(caches[1][0][0],
                                  np.where(masks[0], A1 / 0.5, 0.0))


def test_training_draws_the_mask_of_each_update():
    # One full-batch update with dropout: the pass cost is the cost of the
    # forward pass with the masks of step 0.
    X, Y, _ = _network(3, "sigmoid", m=9)
    dims = [4, 3, 5, 1]
    params = _initial_parameters(dims, 2, None, "xavier", ("relu",) * 2,
                                 np.float64)
    costs = []
    R.L_layer_model(X, Y, dims, 0.1, 2, seed=2, keep_prob=0.7,
                    callback=lambda i, c: costs.append(c))
    acts = ("relu",) * 2
    assert costs[0] == _cost(X, Y, params, acts, "sigmoid", 0.0, 0.7, 0, 2)
    assert costs[0] != _cost(X, Y, params, acts, "sigmoid", 0.0, 0.7, 1, 2)
    assert costs[0] != _cost(X, Y, params, acts, "sigmoid", 0.0, 0.7, 0, 3)


# ------------------------------------------------------------ defaults

@pytest.mark.parametrize("model, dims, init", [
    (R.two_layer_model, [4, 3, 1], "random"),
    (R.L_layer_model, [4, 3, 5, 1], "xavier")])
def test_defaults_run_todays_loop_bit_for_bit(model, dims, init):
    X, Y, _ = _network(3, "sigmoid", m=9)
    params, costs = model(X, Y, dims, 0.05, 250, optimizer="gd",
                          mini_batch_size=None, lambd=0.0, keep_prob=1.0,
                          decay=None, beta=0.5)
    start = _initial_parameters(dims, 1, None, init,
                                ("relu",) * (len(dims) - 2), np.float64)
    want_params, want_costs = _train(X, Y, dims, 0.05, 250, False, None,
                                     start, ("relu",) * (len(dims) - 2),
                                     "sigmoid")
    for k in want_params:
        np.testing.assert_array_equal(params[k], want_params[k])
    assert [c.tobytes() for c in costs] == [c.tobytes() for c in want_costs]
    # The toolbox loop with a decay that keeps the rate is the same
    # arithmetic: the same bits.
    params2, costs2 = model(X, Y, dims, 0.05, 250,
                            decay=lambda lr0, epoch, rate: lr0)
    for k in want_params:
        np.testing.assert_array_equal(params2[k], want_params[k])
    assert [float(c) for c in costs2] == [float(c) for c in want_costs]


# ------------------------------------------------- an independent run

def _independent_run(X, Y, W1, b1, W2, b2, passes, lr0, size, seed, lambd,
                     keep_prob, beta1, beta2, eps, decay_rate):
    # LINEAR -> RELU -> (dropout) -> LINEAR -> SIGMOID with Adam, written
    # from the course's formulas; the masks and permutations from the
    # shared module; returns every pass's cost and the final weights.
    m = X.shape[1]
    P = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    v = {k: np.zeros_like(a) for k, a in P.items()}
    s = {k: np.zeros_like(a) for k, a in P.items()}
    t = 0
    pass_costs = []
    for p in range(passes):
        lr = lr0 if p == 0 else lr0 / (1 + decay_rate * (p - 1))
        perm = np.random.RandomState(seed + p + 1).permutation(m)
        total = 0.0
        for start in range(0, m, size):
            cols = perm[start:start + size]
            x, y, mb = X[:, cols], Y[:, cols], len(cols)
            z1 = P["W1"] @ x + P["b1"]
            D = O.dropout_uniform(seed, 1, t, z1.shape[0], mb) < keep_prob
            a1 = np.maximum(z1, 0) * D / keep_prob
            a2 = 1 / (1 + np.exp(-(P["W2"] @ a1 + P["b2"])))
            cost = (-np.mean(y * np.log(a2) + (1 - y) * np.log(1 - a2))
                    + lambd / (2 * mb) * (np.sum(P["W1"] ** 2)
                                          + np.sum(P["W2"] ** 2)))
            total += cost * mb
            dz2 = a2 - y
            g = {"W2": dz2 @ a1.T / mb + lambd / mb * P["W2"],
                 "b2": dz2.sum(axis=1, keepdims=True) / mb}
            dz1 = (P["W2"].T @ dz2) * D / keep_prob * (z1 > 0)
            g["W1"] = dz1 @ x.T / mb + lambd / mb * P["W1"]
            g["b1"] = dz1.sum(axis=1, keepdims=True) / mb
            t += 1
            for k in P:
                v[k] = beta1 * v[k] + (1 - beta1) * g[k]
                s[k] = beta2 * s[k] + (1 - beta2) * g[k] ** 2
                P[k] = P[k] - lr * (v[k] / (1 - beta1 ** t)) / (
                    np.sqrt(s[k] / (1 - beta2 ** t)) + eps)
        pass_costs.append(total / m)
    return pass_costs, P


def test_mini_batch_adam_run_matches_an_independent_recomputation():
    rng = np.random.RandomState(4)
    X = rng.randn(4, 23)
    Y = (rng.rand(1, 23) > 0.5).astype(float)
    kw = dict(mini_batch_size=5, lambd=0.4, keep_prob=0.75, beta1=0.8,
              beta2=0.95, epsilon=1e-6, decay_rate=0.5)
    costs = []
    params, recorded = R.two_layer_model(
        X, Y, [4, 6, 1], 0.02, 3, seed=9, optimizer="adam",
        decay=R.update_lr, callback=lambda i, c: costs.append(c), **kw)
    start = _initial_parameters([4, 6, 1], 9, None, "random", ("relu",),
                                np.float64)
    want, P = _independent_run(
        X, Y, start["W1"], start["b1"], start["W2"], start["b2"], 3, 0.02,
        5, 9, kw["lambd"], kw["keep_prob"], kw["beta1"], kw["beta2"],
        kw["epsilon"], kw["decay_rate"])
    # Passes 0 and 2 (the last) are reported; 0 is recorded.
    np.testing.assert_allclose(costs, [want[0], want[2]], rtol=1e-12)
    assert len(recorded) == 1 and float(recorded[0]) == costs[0]
    for k in P:
        np.testing.assert_allclose(params[k], P[k], rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("optimizer", O.OPTIMIZER_NAMES)
def test_float32_stays_float32(optimizer):
    X, Y, _ = _network(3, "sigmoid", m=9)
    params, costs = R.L_layer_model(
        X.astype(np.float32), Y.astype(np.float32), [4, 3, 1], 0.01, 3,
        optimizer=optimizer, mini_batch_size=4, lambd=0.1, keep_prob=0.9)
    assert {p.dtype for p in params.values()} == {np.dtype(np.float32)}
    assert costs[0].dtype == np.float32 and costs[0].shape == ()


def test_print_and_callback_every_100_passes(capsys):
    X, Y, _ = _network(2, "sigmoid", m=9)
    seen = []
    _, costs = R.L_layer_model(X, Y, [4, 3, 1], 0.01, 201,
                               optimizer="momentum", mini_batch_size=4,
                               print_cost=True,
                               callback=lambda i, c: seen.append((i, c)))
    assert [i for i, _ in seen] == [0, 100, 200]
    assert [c for _, c in seen] == [float(c) for c in costs]
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["Cost after iteration %d: %s" % (i, c)
                     for i, c in zip((0, 100, 200), costs)]


def test_a_diverging_run_raises():
    X, Y, _ = _network(2, "identity", m=9)
    with pytest.raises(FloatingPointError, match="training diverged"):
        R.L_layer_model(X, Y, [4, 3, 2], 1e150, 20, output="identity",
                        optimizer="momentum", mini_batch_size=4)


# ---------------------------------------------------- argument checks

BAD = [dict(optimizer="sgd"), dict(optimizer=3), dict(beta=1.0),
       dict(beta1=-0.1), dict(beta2=float("nan")), dict(epsilon=0.0),
       dict(mini_batch_size=0), dict(mini_batch_size=2.5),
       dict(lambd=-1.0), dict(keep_prob=0.0), dict(keep_prob=1.5),
       dict(decay="update_lr"), dict(decay_rate=-1.0),
       dict(mini_batch_size=4, seed=np.random.RandomState(0)),
       dict(keep_prob=0.5, seed=-3)]


def _case_id(bad):
    # An object's repr holds its address, which differs between processes
    # (pytest-xdist's workers must collect the same ids): name its type.
    return "-".join("%s=%s" % (k, repr(v) if isinstance(v, (int, float, str))
                               else type(v).__name__)
                    for k, v in bad.items())


@pytest.mark.parametrize("backend", [R, jit], ids=["numpy", "numba"])
@pytest.mark.parametrize("bad", BAD, ids=_case_id)
def test_bad_toolbox_arguments_raise_the_shared_messages(backend, bad):
    X, Y, _ = _network(2, "sigmoid", m=9)
    with pytest.raises((TypeError, ValueError)) as expected:
        O.check_toolbox(m=9, **bad)
    for model, dims in ((backend.two_layer_model, [4, 3, 1]),
                        (backend.L_layer_model, [4, 3, 2, 1])):
        with pytest.raises(expected.type) as got:
            model(X, Y, dims, 0.01, 2, **bad)
        assert str(got.value) == str(expected.value)


def test_existing_checks_come_first():
    X, Y, _ = _network(2, "sigmoid", m=9)
    for backend, flag in itertools.product((R, jit), (False, True)):
        with pytest.raises(ValueError, match="learning_rate"):
            backend.L_layer_model(X, Y, [4, 3, 1], -1.0, 2, optimizer="x")
        with pytest.raises(ValueError, match="optimizer"):
            backend.L_layer_model(X, Y, [4, 3, 1], 0.1, 2, optimizer="x",
                                  lambd=-1.0 if flag else 0.0)
