"""The stateful trainer: parameters and optimizer state kept between
calls (a run in pieces is the run in one), the caller's orders and rates,
the same numbers on both backends, multi-label sigmoid costs."""
import numpy as np
import pytest

from fastdnn._toolbox_options import check_toolbox
from fastdnn._trainer import Trainer

BACKENDS = ["numpy"]
try:
    import numba  # noqa: F401
    BACKENDS.append("numba")
except ImportError:  # pragma: no cover
    pass


def _problem(output="sigmoid", n_y=1, m=23, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(3, m)
    if output == "identity":
        Y = rng.randn(n_y, m)
    elif output == "softmax":
        Y = np.eye(n_y)[rng.randint(n_y, size=m)].T.copy()
    else:
        Y = (rng.rand(n_y, m) > 0.5).astype(float)
    params = {"W1": rng.randn(4, 3) * 0.5, "b1": rng.randn(4, 1) * 0.1,
              "W2": rng.randn(n_y, 4) * 0.5, "b2": rng.randn(n_y, 1) * 0.1}
    return X, Y, params


def _trainer(backend, optimizer, output="sigmoid", n_y=1, mb=5, **kw):
    X, Y, params = _problem(output, n_y)
    tb = check_toolbox(optimizer=optimizer, mini_batch_size=mb,
                       lambd=kw.pop("lambd", 0.1), seed=3, **kw)
    return Trainer(backend, X, Y, params, ("tanh",), output, tb)


OPTS = ["gd", "momentum", "adam", "sgd_sklearn", "nesterov_sklearn",
        "adam_sklearn"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer", OPTS)
def test_a_run_in_pieces_is_the_run_in_one(backend, optimizer):
    rates = [0.1, 0.05, 0.05, 0.02, 0.01]
    one = _trainer(backend, optimizer)
    c1 = one.run(rates)
    two = _trainer(backend, optimizer)
    c2 = np.concatenate([two.run(rates[:2]), two.run(rates[2:])])
    np.testing.assert_allclose(c2, c1, rtol=1e-13)
    for k, a in one.parameters().items():
        np.testing.assert_allclose(two.parameters()[k], a, rtol=1e-13)
    assert two.passes == 5 and two.steps == 5 * 5
    # The state is really carried: a fresh trainer for the second piece
    # from the first piece's parameters trains differently.
    if optimizer != "gd":
        X, Y, _ = _problem()
        fresh = _trainer(backend, optimizer)
        fresh.run(rates[:2])
        three = Trainer(backend, X, Y, fresh.parameters(), ("tanh",),
                        "sigmoid", fresh.toolbox)
        three.passes = 2  # the same permutation as the third pass
        assert not np.allclose(three.run(rates[2:3]), c1[2:3], rtol=1e-9)


@pytest.mark.skipif(len(BACKENDS) < 2, reason="numba missing")
@pytest.mark.parametrize("output,n_y", [("sigmoid", 1), ("sigmoid", 3),
                                        ("softmax", 3), ("identity", 2)])
@pytest.mark.parametrize("optimizer", OPTS)
def test_backends_agree_with_given_orders(optimizer, output, n_y):
    rng = np.random.RandomState(5)
    orders = np.array([rng.permutation(23) for _ in range(4)])
    rates = [0.1, 0.08, 0.06, 0.05]
    got = {}
    for backend in BACKENDS:
        t = _trainer(backend, optimizer, output, n_y)
        got[backend] = (t.run(rates, orders), t.parameters())
    np.testing.assert_allclose(got["numba"][0], got["numpy"][0], rtol=1e-10)
    for k, a in got["numpy"][1].items():
        np.testing.assert_allclose(got["numba"][1][k], a, rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_orders_are_used(backend):
    rates = [0.1, 0.1]
    a = _trainer(backend, "sgd_sklearn").run(rates)
    ident = np.tile(np.arange(23), (2, 1))
    b = _trainer(backend, "sgd_sklearn").run(rates, ident)
    assert not np.allclose(a, b, rtol=1e-9)
    with pytest.raises(ValueError, match="orders must have shape"):
        _trainer(backend, "gd").run(rates, ident[:1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_multilabel_cost_is_the_sum_of_the_units_cross_entropies(backend):
    X, Y, params = _problem("sigmoid", 3)
    tb = check_toolbox(optimizer="gd")
    cost = Trainer(backend, X, Y, params, ("tanh",), "sigmoid",
                   tb).run([0.1])[0]
    A1 = np.tanh(params["W1"] @ X + params["b1"])
    AL = 1 / (1 + np.exp(-(params["W2"] @ A1 + params["b2"])))
    want = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / X.shape[1]
    np.testing.assert_allclose(cost, want, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_stops_the_run(backend):
    t = _trainer(backend, "sgd_sklearn", "identity", 1, lambd=0.0)
    costs = t.run([1e6] * 40)
    bad = np.flatnonzero(~np.isfinite(costs))
    assert bad.size and np.isnan(costs[bad[0] + 1:]).all()
    assert t.passes == bad[0]


def test_bad_arguments():
    X, Y, params = _problem()
    tb = check_toolbox(optimizer="sgd_sklearn")
    with pytest.raises(ValueError, match="backend must be"):
        Trainer("torch", X, Y, params, ("tanh",), "sigmoid", tb)
    with pytest.raises(ValueError, match="form='gram' needs"):
        Trainer("numpy", X, Y, params, ("tanh",), "sigmoid", tb, "gram")
    with pytest.raises(ValueError, match="needs form='primal'"):
        Trainer("numba", X, Y, params, ("tanh",), "sigmoid", tb, "gram")
    with pytest.raises(TypeError, match="toolbox must be a Toolbox"):
        Trainer("numpy", X, Y, params, ("tanh",), "sigmoid", {})


@pytest.mark.skipif(len(BACKENDS) < 2, reason="numba missing")
def test_gram_form_agrees_with_primal():
    rates = [0.1, 0.05, 0.05]
    rng = np.random.RandomState(1)
    orders = np.array([rng.permutation(23) for _ in range(3)])
    X, Y, params = _problem()
    tb = check_toolbox(optimizer="momentum", mini_batch_size=5, lambd=0.1,
                       seed=3)
    a = Trainer("numba", X, Y, params, ("tanh",), "sigmoid", tb, "gram")
    b = Trainer("numpy", X, Y, params, ("tanh",), "sigmoid", tb)
    ca = np.concatenate([a.run(rates[:1], orders[:1]),
                         a.run(rates[1:], orders[1:])])
    np.testing.assert_allclose(ca, b.run(rates, orders), rtol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer", ["sgd_sklearn", "adam_sklearn",
                                       "rmsprop"])
def test_state_carries_to_a_new_trainer(backend, optimizer):
    # partial_fit's case: a new trainer (on other data) continues the
    # optimizer's state; on the same data it is the run in one.
    rates = [0.1, 0.05, 0.05]
    X, Y, params = _problem()
    orders = np.tile(np.arange(23), (3, 1))
    one = _trainer(backend, optimizer)
    c1 = one.run(rates, orders)
    a = _trainer(backend, optimizer)
    first = a.run(rates[:1], orders[:1])
    b = Trainer(backend, X, Y, a.parameters(), ("tanh",), "sigmoid",
                a.toolbox, state=a.state())
    c2 = np.concatenate([first, b.run(rates[1:], orders[1:])])
    np.testing.assert_allclose(c2, c1, rtol=1e-13)
    assert b.steps == one.steps
    cold = Trainer(backend, X, Y, a.parameters(), ("tanh",), "sigmoid",
                   a.toolbox)
    assert not np.allclose(cold.run(rates[1:], orders[1:]), c1[1:],
                           rtol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cost_scale_scales_the_data_cost_only(backend):
    X, Y, params = _problem("identity", 2)
    kw = dict(optimizer="sgd_sklearn", mini_batch_size=5, lambd=0.3,
              seed=3)
    orders = np.tile(np.arange(23), (3, 1))
    runs = [Trainer(backend, X, Y, params, ("tanh",), "identity",
                    check_toolbox(**{**kw, "lambd": lambd}),
                    cost_scale=scale)
            for lambd in (0.3, 0.0) for scale in (1.0, 0.5)]
    costs = [t.run([0.05] * 3, orders) for t in runs]
    # Without L2 the cost halves; the weights never change.
    np.testing.assert_allclose(costs[3], costs[2] / 2, rtol=1e-14)
    # With L2 the L2 term is kept: 1 * D + R and 0.5 * D + R.
    assert np.all(costs[1] > costs[0] / 2) and np.all(costs[1] < costs[0])
    for k, a in runs[0].parameters().items():
        np.testing.assert_array_equal(runs[1].parameters()[k], a)
    if backend == "numba":
        with pytest.raises(ValueError, match="cost_scale 1"):
            Trainer(backend, X, Y, params, ("tanh",), "identity",
                    check_toolbox(optimizer="gd"), "gram", cost_scale=0.5)
