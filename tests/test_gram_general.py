"""The dual-form (gram) solver on every network of the tables: every hidden
activation x output x depth (1 to 3 layers) x dtype trains as the primal
solver and the reference's training loop (the whole cost trajectory and
the final parameters), on shapes where ``solver="auto"`` picks it; a
10-class softmax problem and a regression problem train identically with
the primal and the gram solver; diverging and overflowing softmax and
identity networks end as the primal solver's do; every solver, primal and
dual, refuses bad layers with one message.

The tables are read from :data:`fastdnn.jit.ACT_CODES` and
:data:`fastdnn.jit.OUTPUT_CODES`, so that a new entry is tested here too.
"""
import re

import numpy as np
import pytest

from fastdnn import _gram, _jit_training, jit, reference
from fastdnn import _kernels as K
from fastdnn._primal import PrimalSolver
from fastdnn._reference_outputs import OUTPUTS

from fastdnn._gram_toolbox import GramToolboxSolver
from fastdnn._toolbox import ToolboxSolver
from fastdnn._toolbox_options import check_toolbox, learning_rates
from test_gram import RTOL, _assert_close, _reference_training
from test_gram_divergence import _assert_same_outcome, _outcome
from test_gram_toolbox import MB
from test_gram_toolbox import M as TOOLBOX_M
from test_gram_toolbox import _network as _toolbox_network

ACT_NAMES = sorted(jit.ACT_CODES)
OUTPUT_NAMES = sorted(jit.OUTPUT_CODES)
DTYPES = [np.float64, np.float32]
# Costs of a float64 run, relative, value by value (the spec's).
COST_RTOL = 1e-9
N_X, M = 10, 14   # m <= 2 n_x: the gram solver is the auto choice
N_ITER = 60


def _units(output):
    return {"sigmoid": 1, "softmax": 3}.get(output, 2)


def _network(act, output, depth, dtype, seed=0):
    """``(X, Y, Ws, bs, acts)``: a random problem for this network, Y as
    the solvers take it (one-hot for softmax), weights of 1.5x xavier so
    that the hidden activations leave their linear range, non-zero
    biases."""
    dtype = np.dtype(dtype)
    rng = np.random.RandomState(seed)
    dims = [N_X, 6, 5][:depth] + [_units(output)]
    X = rng.standard_normal((N_X, M)).astype(dtype)
    n_y = dims[-1]
    if output == "sigmoid":
        Y = (rng.random_sample((1, M)) > 0.5).astype(dtype)
    elif output == "softmax":
        Y = np.eye(n_y, dtype=dtype)[:, rng.randint(0, n_y, M)]
    else:
        Y = rng.standard_normal((n_y, M)).astype(dtype)
    p = reference.initialize_parameters_deep(dims, seed=seed)
    Ws = [(1.5 * p["W%d" % l]).astype(dtype) for l in range(1, depth + 1)]
    bs = [(rng.standard_normal((dims[l], 1)) * 0.1).astype(dtype)
          for l in range(1, depth + 1)]
    return X, Y, Ws, bs, (act,) * (depth - 1), dims


def _solver_run(cls, X, Y, Ws, bs, lr, n, acts, output):
    codes = tuple(jit.ACT_CODES[a] for a in acts)
    solver = cls(X, Y, Ws, bs, lr, codes, jit.OUTPUT_CODES[output])
    costs = np.full(n, np.nan)
    solver.run(n, costs)
    assert solver.iteration == n
    return solver.parameters() + (costs,)


def _assert_same_run(got, want, dtype, what):
    Ws, bs, costs = got
    want_Ws, want_bs, want_costs = want
    rtol = RTOL[np.dtype(dtype)]
    if np.dtype(dtype) == np.float64:
        np.testing.assert_allclose(costs, want_costs, rtol=COST_RTOL,
                                   err_msg=what + " costs")
    else:
        _assert_close(costs, want_costs, rtol, what + " costs")
    for l in range(len(want_Ws)):
        assert Ws[l].dtype == np.dtype(dtype) == bs[l].dtype
        _assert_close(Ws[l], want_Ws[l], rtol, "%s W%d" % (what, l + 1))
        _assert_close(bs[l], want_bs[l], rtol, "%s b%d" % (what, l + 1))


CASES = [(act, output, depth, dtype) for act in ACT_NAMES
         for output in OUTPUT_NAMES for depth in (1, 2, 3)
         for dtype in DTYPES
         # One layer has no hidden activation: once per output.
         if depth > 1 or act == ACT_NAMES[0]]


@pytest.mark.parametrize(
    "act,output,depth,dtype", CASES,
    ids=["%s-%s-L%d-%s" % (a, o, d, np.dtype(t).name)
         for a, o, d, t in CASES])
def test_gram_trains_as_primal_and_the_reference(act, output, depth, dtype):
    X, Y, Ws, bs, acts, dims = _network(act, output, depth, dtype)
    assert _jit_training._solver_class(
        "auto", N_X, M, dims) is _gram.GramSolver
    args = (X, Y, Ws, bs, 0.1, N_ITER, acts, output)
    gram = _solver_run(_gram.GramSolver, *args)
    assert np.all(np.isfinite(gram[2]))
    _assert_same_run(gram, _solver_run(PrimalSolver, *args), dtype,
                     "gram vs primal")
    _assert_same_run(gram, _reference_training(*args), dtype,
                     "gram vs reference")
    # It trains: the cost falls.
    assert gram[2][-1] < gram[2][0]


@pytest.mark.parametrize("output", OUTPUT_NAMES)
@pytest.mark.parametrize("act", ACT_NAMES)
def test_auto_and_gram_train_as_the_reference(act, output):
    # Through the public API: the reference's initialisation and labels
    # (class indices for softmax), the auto choice being the gram solver.
    X, _, _, _, _, dims = _network(act, output, 3, np.float64, seed=2)
    rng = np.random.RandomState(3)
    if output == "softmax":
        Y = rng.randint(0, dims[-1], (1, M))
    elif output == "sigmoid":
        Y = (rng.random_sample((1, M)) > 0.5).astype(float)
    else:
        Y = rng.standard_normal((dims[-1], M))
    kw = dict(activation=act, output=output, initialization="he")
    want = reference.L_layer_model(X, Y, dims, 0.05, 201, **kw)
    got = {}
    for solver in ("gram", "auto"):
        got[solver] = jit.L_layer_model(X, Y, dims, 0.05, 201, solver=solver,
                                        **kw)
        params, costs = got[solver]
        np.testing.assert_allclose(np.array(costs, dtype=float),
                                   np.array(want[1], dtype=float),
                                   rtol=COST_RTOL)
        for key, value in want[0].items():
            _assert_close(params[key], value, RTOL[value.dtype], key)
    for key in want[0]:
        np.testing.assert_array_equal(got["auto"][0][key],
                                      got["gram"][0][key])


# ------------------------------------------- the two problems

def _same_public_runs(got, want):
    (p_got, c_got), (p_want, c_want) = got, want
    np.testing.assert_allclose(np.array(c_got, dtype=float),
                               np.array(c_want, dtype=float), rtol=1e-9)
    for key, value in p_want.items():
        _assert_close(p_got[key], value, 1e-9, key)


def _blobs(n_classes=10, n_x=64, per_class=10, seed=5):
    # m = 100 examples of 64 features: the gram solver is the auto choice.
    rng = np.random.RandomState(seed)
    centers = rng.standard_normal((n_classes, n_x))
    y = np.repeat(np.arange(n_classes), per_class)
    X = (centers[y] + rng.standard_normal((y.size, n_x))).T
    return X, y.reshape(1, -1)


def test_ten_class_softmax_problem_trains_alike_with_primal_and_gram():
    X, y = _blobs()
    dims = [64, 16, 10]
    assert _gram.gram_pays(64, X.shape[1])
    for labels in (y, np.eye(10)[:, y[0]]):
        runs = {solver: jit.L_layer_model(
            X, labels, dims, 0.1, 301, activation="tanh", output="softmax",
            solver=solver) for solver in ("primal", "gram")}
        _same_public_runs(runs["gram"], runs["primal"])
    # The whole trajectory too, in the solvers.
    Y = np.eye(10)[:, y[0]]
    p = reference.initialize_parameters_deep(dims)
    args = (X, Y, [p["W1"], p["W2"]], [p["b1"], p["b2"]], 0.1, 301,
            ("tanh",), "softmax")
    gram = _solver_run(_gram.GramSolver, *args)
    primal = _solver_run(PrimalSolver, *args)
    np.testing.assert_allclose(gram[2], primal[2], rtol=1e-9)
    # It learns: the cost falls well below log(10), the accuracy is high.
    params, costs = runs["gram"]
    assert float(costs[0]) > 2 and float(costs[-1]) < 0.5
    pred = jit.predict(X, y, params, print_accuracy=False,
                       activation="tanh", output="softmax")
    assert np.mean(pred == y) > 0.9


def test_regression_problem_trains_alike_with_primal_and_gram():
    rng = np.random.RandomState(6)
    X = rng.uniform(-1, 1, (40, 60))
    Y = np.vstack([np.sin(2 * X[0]) + 0.5 * X[1], X[2] ** 2 - X[3]])
    dims = [40, 12, 8, 2]
    assert _gram.gram_pays(40, 60)
    kw = dict(activation="leaky_relu", output="identity")
    runs = {solver: jit.L_layer_model(X, Y, dims, 0.05, 501, solver=solver,
                                      **kw) for solver in ("primal", "gram")}
    _same_public_runs(runs["gram"], runs["primal"])
    p = reference.initialize_parameters_deep(dims)
    args = (X, Y, [p["W%d" % l] for l in (1, 2, 3)],
            [p["b%d" % l] for l in (1, 2, 3)], 0.05, 501,
            ("leaky_relu", "leaky_relu"), "identity")
    gram = _solver_run(_gram.GramSolver, *args)
    primal = _solver_run(PrimalSolver, *args)
    np.testing.assert_allclose(gram[2], primal[2], rtol=1e-9)
    costs = [float(c) for c in runs["gram"][1]]
    assert costs[-1] < costs[0] / 3


# ------------------------------------------- divergence and overflow

#: Diverging networks: a softmax and an identity output, each after an
#: unbounded and a bounded hidden activation.
DIVERGING = [("leaky_relu", "softmax"), ("identity", "softmax"),
             ("relu", "identity"), ("sigmoid", "identity")]


def _labels(output, n_y, m, rng):
    if output == "softmax":
        return rng.randint(0, n_y, (1, m))
    return rng.standard_normal((n_y, m))


def _overflow_agnostic(message):
    return re.sub(r"the cost is -?(inf|nan)", "the cost is <inf or nan>",
                  message)


def _diverging_problem(dims, output, scale):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((dims[0], 12)) * scale
    return X, _labels(output, dims[-1], 12, rng)


@pytest.mark.parametrize("dims,lr,scale", [([20, 3], 1e300, 1e5),
                                           ([20, 5, 3], 1e4, 3.0),
                                           ([20, 5, 3], 1e200, 3.0),
                                           ([20, 6, 4, 3], 1e300, 3.0)])
@pytest.mark.parametrize("act,output", DIVERGING)
def test_divergence_ends_as_the_primal_solvers_and_the_reference(
        act, output, dims, lr, scale):
    X, Y = _diverging_problem(dims, output, scale)
    kw = dict(activation=act, output=output)
    want = _outcome(jit.L_layer_model, X, Y, dims, lr, 50, solver="primal",
                    **kw)
    if lr >= 1e200:
        assert want[0] is FloatingPointError, want[:2]
        with np.errstate(all="ignore"):
            ref = _outcome(reference.L_layer_model, X, Y, dims, lr, 50,
                           **kw)
        # The same error at the same iteration; whether the cost is inf or
        # NaN there depends on the order of the sums that overflowed.
        assert ref[0] is want[0]
        assert _overflow_agnostic(ref[1]) == _overflow_agnostic(want[1])
    for solver in ("gram", "auto"):
        got = _outcome(jit.L_layer_model, X, Y, dims, lr, 50, solver=solver,
                       **kw)
        _assert_same_outcome(got, want, np.float64)


@pytest.mark.parametrize("act,output", [("leaky_relu", "softmax"),
                                        ("relu", "identity")])
def test_gram_hands_over_mid_run_to_the_same_network(monkeypatch, act,
                                                     output):
    # The weights overflow at the second iteration: the gram solver redoes
    # it in the primal form of the same network.
    handed = []
    original = _gram.GramSolver._to_primal

    def spy(self):
        original(self)
        handed.append((self.iteration, self._primal.acts,
                       self._primal.output))

    monkeypatch.setattr(_gram.GramSolver, "_to_primal", spy)
    dims = [20, 5, 3]
    X, Y = _diverging_problem(dims, output, 3.0)
    kw = dict(activation=act, output=output)
    want = _outcome(jit.L_layer_model, X, Y, dims, 1e200, 50,
                    solver="primal", **kw)
    got = _outcome(jit.L_layer_model, X, Y, dims, 1e200, 50, solver="gram",
                   **kw)
    assert handed == [(1, (jit.ACT_CODES[act],), jit.OUTPUT_CODES[output])]
    _assert_same_outcome(got, want, np.float64)


#: Networks of the overflow tests.
NETWORKS = [("tanh", "softmax"), ("leaky_relu", "softmax"),
            ("relu", "identity"), ("sigmoid", "identity")]


def _huge_problem(dims, act, output, dtype, scale):
    """Inputs so large that X^T X overflows. For softmax, the labels are
    the classes the initial network predicts and every output saturates:
    the gradient is exactly 0 and the reference trains on unchanged."""
    rng = np.random.RandomState(len(dims))
    X = (rng.random_sample((dims[0], 9)) - 0.5).astype(dtype) * dtype(scale)
    if output == "identity":
        return X, rng.standard_normal((dims[-1], 9)).astype(dtype)
    p = reference.initialize_parameters_deep(dims)
    p = {k: v.astype(dtype) for k, v in p.items()}
    with np.errstate(all="ignore"):
        AL, _ = reference.L_model_forward(X, p, activation=act,
                                          output=output)
    return X, np.argmax(AL, axis=0).reshape(1, -1)


@pytest.mark.parametrize("dims", [[30, 3], [30, 5, 3], [30, 6, 4, 3]],
                         ids=["1-layer", "2-layer", "3-layer"])
@pytest.mark.parametrize("dtype,scale", [(np.float64, 1e160),
                                         (np.float32, 1e20)])
@pytest.mark.parametrize("act,output", NETWORKS)
def test_overflowing_x_t_x_hands_over_to_the_same_network(act, output,
                                                          dtype, scale,
                                                          dims):
    X, Y = _huge_problem(dims, act, output, dtype, scale)
    kw = dict(activation=act, output=output)
    want = _outcome(jit.L_layer_model, X, Y, dims, 0.0075, 30,
                    solver="primal", **kw)
    for solver in ("gram", "auto"):
        got = _outcome(jit.L_layer_model, X, Y, dims, 0.0075, 30,
                       solver=solver, **kw)
        _assert_same_outcome(got, want, dtype)
    if output == "softmax":
        # A real training for the reference (not an error every solver
        # would share anyway), which the others equal.
        with np.errstate(all="ignore"):
            ref = _outcome(reference.L_layer_model, X, Y, dims, 0.0075, 30,
                           **kw)
        assert ref[0] == "ok"
        _assert_same_outcome(want, ref, dtype)
    # The solver itself: primal from the start, with this network.
    codes = (jit.ACT_CODES[act],) * (len(dims) - 2)
    onehot = OUTPUTS[output].labels(Y, (dims[-1], 9), X.dtype)
    p = reference.initialize_parameters_deep(dims)
    L = len(dims) - 1
    solver = _gram.GramSolver(
        X, onehot, [p["W%d" % l].astype(dtype) for l in range(1, L + 1)],
        [p["b%d" % l].astype(dtype) for l in range(1, L + 1)], 0.0075,
        codes, jit.OUTPUT_CODES[output])
    assert solver._primal is not None
    assert solver._primal.acts == codes
    assert solver._primal.output == jit.OUTPUT_CODES[output]


# ------------------------------------------- arguments

def test_bad_codes_and_labels():
    X, Y, Ws, bs, _, _ = _network("tanh", "softmax", 2, np.float64)
    G = _gram.GramSolver
    with pytest.raises(ValueError, match="one activation code per hidden"):
        G(X, Y, Ws, bs, 0.1, (), K.OUT_SOFTMAX)
    with pytest.raises(ValueError, match="acts must hold activation codes"):
        G(X, Y, Ws, bs, 0.1, (17,), K.OUT_SOFTMAX)
    with pytest.raises(ValueError, match="output must be an output code"):
        G(X, Y, Ws, bs, 0.1, (K.ACT_TANH,), 9)
    with pytest.raises(ValueError, match="one-hot"):
        G(X, Y * 2, Ws, bs, 0.1, (K.ACT_TANH,), K.OUT_SOFTMAX)
    with pytest.raises(ValueError, match="one unit"):
        G(X, Y[:1], Ws, bs, 0.1, (K.ACT_TANH,), K.OUT_SIGMOID)
    # Class indices are taken as the training functions take them.
    idx = np.argmax(Y, axis=0).reshape(1, -1)
    a = G(X, idx, Ws, bs, 0.1, (K.ACT_TANH,), K.OUT_SOFTMAX)
    b = G(X, Y, Ws, bs, 0.1, (K.ACT_TANH,), K.OUT_SOFTMAX)
    ca, cb = np.empty(5), np.empty(5)
    a.run(5, ca)
    b.run(5, cb)
    np.testing.assert_array_equal(ca, cb)


def _broken(case, Ws, bs):
    # A copy of the layers with one fault.
    Ws, bs = list(Ws), list(bs)
    if case == "b-length":
        bs[1] = bs[1][:-1]
    elif case == "b-row":
        bs[0] = bs[0].T
    elif case == "chain":
        Ws[1] = Ws[1][:, :-1]
    elif case == "lists":
        bs = bs[:-1]
    return Ws, bs


@pytest.mark.parametrize("case,message", [
    ("b-length", r"b2 must have shape \(5, 1\), got \(4, 1\)"),
    ("b-row", r"b1 must have shape \(6, 1\), got \(1, 6\)"),
    ("chain", "W2 has 5 columns but W1 has 6 rows"),
    ("lists", "same length, got 3 and 2"),
    ("X-rows", "X has 9 rows but W1 has 10 columns")])
def test_every_solver_refuses_bad_layers_alike(case, message):
    # The primal and dual solvers, full batch and with the toolbox, check
    # their layers with one rule (they copy them into flat buffers by
    # shape): the same ValueError for the same bad input, before any
    # compiled code runs.
    X, Y, Ws, bs, acts = _toolbox_network("relu", "sigmoid", 3)
    Ws, bs = _broken(case, Ws, bs)
    if case == "X-rows":
        X = X[:-1]
    tb = check_toolbox(optimizer="gd", mini_batch_size=MB, m=TOOLBOX_M)
    codes = tuple(jit.ACT_CODES[a] for a in acts)
    rates = learning_rates(0.1, 3, tb)
    makers = [
        lambda: _gram.GramSolver(X, Y, Ws, bs, 0.1, acts=codes),
        lambda: GramToolboxSolver(X, Y, Ws, bs, codes, 0, tb, rates),
        lambda: PrimalSolver(X, Y, Ws, bs, 0.1, acts=codes),
        lambda: ToolboxSolver(X, Y, Ws, bs, codes, 0, tb, rates)]
    for make in makers:
        with pytest.raises(ValueError, match=message):
            make()
