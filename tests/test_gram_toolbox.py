"""The dual form with the training toolbox (fastdnn._gram_toolbox): every
exact combination (gd / momentum / Nesterov x full batch / mini-batches
with a remainder x L2 x dropout x decay, activations and outputs of the
tables, 1 to 3 layers) trains as a plain numpy loop written from the spec
(docs: notes' issue-15 spec), the whole cost trajectory and the final
parameters to 1e-9 relative in float64; Adam and RMSprop are refused with
the reason. (The dropout masks' generator: test_dropout_kernels.py.)"""
import numba
import numpy as np
import pytest

from fastdnn import _gram, jit, reference
from fastdnn import _numba_config as cfg
from fastdnn import _gram_toolbox_kernels as tk
from fastdnn._gram_toolbox import GramToolboxSolver, toolbox_gram_pays
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_outputs import OUTPUTS
from fastdnn._toolbox_options import (batch_bounds, check_toolbox,
                                      dropout_mask,
                                      learning_rates, pass_permutation)

from test_gram import _assert_close

ACT_NAMES = sorted(jit.ACT_CODES)
OUTPUT_NAMES = sorted(jit.OUTPUT_CODES)
RTOL = 1e-9
N_X, M = 10, 14       # mini-batches of 4: three, then a remainder of 2
MB = 4
N_PASS = 40


def _decay(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 / (1.0 + decay_rate * epoch_num)


def _network(act, output, depth, seed=0):
    rng = np.random.RandomState(seed)
    n_y = {"sigmoid": 1, "softmax": 3}.get(output, 2)
    dims = [N_X, 6, 5][:depth] + [n_y]
    X = rng.standard_normal((N_X, M))
    if output == "sigmoid":
        Y = (rng.random_sample((1, M)) > 0.5).astype(float)
    elif output == "softmax":
        Y = np.eye(n_y)[:, rng.randint(0, n_y, M)]
    else:
        Y = rng.standard_normal((n_y, M))
    p = reference.initialize_parameters_deep(dims, seed=seed)
    Ws = [1.5 * p["W%d" % l] for l in range(1, depth + 1)]
    bs = [rng.standard_normal((dims[l], 1)) * 0.1
          for l in range(1, depth + 1)]
    return X, Y, Ws, bs, (act,) * (depth - 1)


def _numpy_training(X, Y, Ws, bs, acts, output, tb, rates):
    """The spec's toolbox loop, plainly, in numpy: per batch the forward
    pass with inverted dropout on the hidden layers, the cost plus
    ``lambd/(2 mb) sum ||W||^2``, ``dZ_L = AL - Y``, the backward pass with
    ``dW += lambd/mb W``, the optimizer on every parameter."""
    Ws = [W.copy() for W in Ws]
    bs = [b.copy() for b in bs]
    L = len(Ws)
    vW = [np.zeros_like(W) for W in Ws]
    vb = [np.zeros_like(b) for b in bs]
    m = X.shape[1]
    out = OUTPUTS[output]
    costs = np.empty(rates.shape[0])
    step = 0
    for p, lr in enumerate(rates):
        if tb.mini_batch_size is None:
            batches = [np.arange(m)]
        else:
            perm = pass_permutation(tb.seed, p, m)
            batches = [perm[s:e] for s, e in
                       batch_bounds(m, tb.mini_batch_size)]
        total = 0.0
        for idx in batches:
            mb = idx.size
            A = X[:, idx]
            As, Zs, Ds = [A], [], []
            for l in range(L):
                Z = Ws[l] @ A + bs[l]
                Zs.append(Z)
                if l < L - 1:
                    A = ACTIVATIONS[acts[l]][0](Z)
                    if tb.keep_prob < 1:
                        D = dropout_mask(tb.seed, l + 1, step, Z.shape[0],
                                         mb, tb.keep_prob)
                        A = A * D
                        A = A / tb.keep_prob
                        Ds.append(D)
                else:
                    A = out.forward(Z)
                As.append(A)
            Yb = Y[:, idx]
            cost = float(out.cost(A, Yb))
            if tb.lambd > 0:
                cost += (1 / mb) * (tb.lambd / 2) * sum(
                    np.sum(W ** 2) for W in Ws)
            total = cost if tb.mini_batch_size is None else total + cost * mb
            dZ = A - Yb
            for l in reversed(range(L)):
                dW = 1 / mb * (dZ @ As[l].T) + tb.lambd / mb * Ws[l]
                db = 1 / mb * np.sum(dZ, axis=1, keepdims=True)
                if l > 0:
                    dA = Ws[l].T @ dZ
                    if tb.keep_prob < 1:
                        dA = dA * Ds[l - 1]
                        dA = dA / tb.keep_prob
                    dZ = ACTIVATIONS[acts[l - 1]][1](dA, Zs[l - 1])
                for P, V, G in ((Ws, vW, dW), (bs, vb, db)):
                    if tb.optimizer == "gd":
                        P[l] = P[l] - lr * G
                        continue
                    V[l] = tb.beta * V[l] + (1 - tb.beta) * G
                    if tb.optimizer == "momentum":
                        P[l] = P[l] - lr * V[l]
                    else:
                        P[l] = P[l] - lr * (tb.beta * V[l]
                                            + (1 - tb.beta) * G)
            step += 1
        costs[p] = total if tb.mini_batch_size is None else total / m
    return Ws, bs, costs


def _gram_training(X, Y, Ws, bs, acts, output, tb, rates, chunks=(None,)):
    codes = tuple(jit.ACT_CODES[a] for a in acts)
    solver = GramToolboxSolver(X, Y, Ws, bs, codes, jit.OUTPUT_CODES[output],
                               tb, rates)
    n = rates.shape[0]
    costs = np.full(n, np.nan)
    p = 0
    for size in chunks:
        size = n - p if size is None else size
        solver.run(p, size, costs[p:p + size])
        p += size
    assert solver.passes == n
    assert solver.steps == n * len(batch_bounds(X.shape[1],
                                                tb.mini_batch_size))
    return solver.parameters() + (costs,)


def _assert_same(got, want, what):
    np.testing.assert_allclose(got[2], want[2], rtol=RTOL,
                               err_msg=what + " costs")
    for l in range(len(want[0])):
        _assert_close(got[0][l], want[0][l], RTOL, "%s W%d" % (what, l + 1))
        _assert_close(got[1][l], want[1][l], RTOL, "%s b%d" % (what, l + 1))


# Every exact combination; the network cycles through the tables'
# activations, outputs and depths so that each appears with many of them.
COMBOS = [(opt, mb, lambd, kp, decay)
          for opt in ("gd", "momentum", "nesterov")
          for mb in (None, MB) for lambd in (0.0, 0.3)
          for kp in (1.0, 0.75) for decay in (False, True)]


def _combo_network(i):
    act = ACT_NAMES[i % len(ACT_NAMES)]
    output = OUTPUT_NAMES[(i // 2) % len(OUTPUT_NAMES)]
    depth = 1 + i % 3
    return act, output, depth


@pytest.mark.parametrize(
    "i,combo", list(enumerate(COMBOS)),
    ids=["%s-mb%s-l2_%g-kp%g-decay%d-%s-%s-L%d" % (c + _combo_network(i))
         for i, c in enumerate(COMBOS)])
def test_every_exact_combination_trains_as_the_spec(i, combo):
    opt, mb, lambd, kp, decay = combo
    act, output, depth = _combo_network(i)
    X, Y, Ws, bs, acts = _network(act, output, depth, seed=i)
    tb = check_toolbox(optimizer=opt, beta=0.8, mini_batch_size=mb,
                       lambd=lambd, keep_prob=kp,
                       decay=_decay if decay else None, decay_rate=0.5,
                       seed=3 + i, m=M)
    rates = learning_rates(0.05, N_PASS, tb)
    want = _numpy_training(X, Y, Ws, bs, acts, output, tb, rates)
    got = _gram_training(X, Y, Ws, bs, acts, output, tb, rates)
    assert np.all(np.isfinite(got[2]))
    _assert_same(got, want, "gram vs numpy")
    # It trains (the comparison is not between two idle runs): the cost
    # falls, where dropout's noise does not hide it.
    if kp == 1.0:
        assert got[2][-1] < got[2][0]
    assert np.ptp(got[2]) > 1e-3


NETWORKS = [(act, output, depth) for act in ACT_NAMES
            for output in OUTPUT_NAMES for depth in (1, 2, 3)
            if depth > 1 or act == ACT_NAMES[0]]


@pytest.mark.parametrize("act,output,depth", NETWORKS,
                         ids=["%s-%s-L%d" % n for n in NETWORKS])
def test_every_network_with_the_whole_toolbox(act, output, depth):
    X, Y, Ws, bs, acts = _network(act, output, depth, seed=7)
    tb = check_toolbox(optimizer="nesterov", mini_batch_size=MB, lambd=0.2,
                       keep_prob=0.8, decay=_decay, decay_rate=0.3, seed=11,
                       m=M)
    rates = learning_rates(0.05, N_PASS, tb)
    want = _numpy_training(X, Y, Ws, bs, acts, output, tb, rates)
    _assert_same(_gram_training(X, Y, Ws, bs, acts, output, tb, rates),
                 want, "gram vs numpy")


def test_chunks_give_the_run_of_one_call():
    X, Y, Ws, bs, acts = _network("tanh", "softmax", 3, seed=2)
    tb = check_toolbox(optimizer="momentum", mini_batch_size=5, lambd=0.1,
                       keep_prob=0.7, seed=4, m=M)
    rates = learning_rates(0.1, 30, tb)
    one = _gram_training(X, Y, Ws, bs, acts, "softmax", tb, rates)
    chunked = _gram_training(X, Y, Ws, bs, acts, "softmax", tb, rates,
                             chunks=(1, 12, 7, None))
    np.testing.assert_array_equal(one[2], chunked[2])
    for a, b in zip(one[0] + one[1], chunked[0] + chunked[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [0, 10, 2 ** 32 - 3])
def test_permutations_are_pass_permutations(seed):
    X, Y, Ws, bs, acts = _network("relu", "sigmoid", 2)
    tb = check_toolbox(optimizer="gd", mini_batch_size=MB, seed=seed, m=M)
    solver = GramToolboxSolver(X, Y, Ws, bs, (1,), 0, tb,
                               learning_rates(0.1, 9, tb))
    perms = solver._permutations(3, 6)
    assert perms.shape == (6, M) and perms.dtype == np.int64
    for k in range(6):
        np.testing.assert_array_equal(perms[k],
                                      pass_permutation(seed, 3 + k, M))


def test_passes_split_into_compiled_calls_give_the_same_run():
    # Long runs split into several compiled calls (the permutations' memory
    # bound): the same numbers as one call.
    X, Y, Ws, bs, acts = _network("sigmoid", "identity", 2, seed=4)
    tb = check_toolbox(optimizer="nesterov", mini_batch_size=3,
                       keep_prob=0.6, lambd=0.05, seed=9, m=M)
    rates = learning_rates(0.05, 23, tb)
    runs = []
    for chunk in (None, 5):
        solver = GramToolboxSolver(X, Y, Ws, bs, (2,), 2, tb, rates)
        if chunk:
            solver._chunk = chunk
        costs = np.empty(23)
        solver.run(0, 23, costs)
        runs.append((costs,) + solver.parameters())
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1] + runs[0][2], runs[1][1] + runs[1][2]):
        np.testing.assert_array_equal(a, b)


def test_mini_batch_larger_than_m_is_one_shuffled_batch():
    X, Y, Ws, bs, acts = _network("relu", "sigmoid", 2, seed=1)
    tb = check_toolbox(optimizer="momentum", mini_batch_size=100, seed=5,
                       m=M)
    rates = learning_rates(0.1, 20, tb)
    _assert_same(_gram_training(X, Y, Ws, bs, acts, "sigmoid", tb, rates),
                 _numpy_training(X, Y, Ws, bs, acts, "sigmoid", tb, rates),
                 "gram vs numpy")


def test_inputs_are_not_modified():
    X, Y, Ws, bs, acts = _network("relu", "sigmoid", 3)
    copies = [a.copy() for a in [X, Y] + Ws + bs]
    tb = check_toolbox(optimizer="nesterov", mini_batch_size=MB, lambd=0.1,
                       keep_prob=0.5, seed=2, m=M)
    _gram_training(X, Y, Ws, bs, acts, "sigmoid", tb,
                   learning_rates(0.1, 5, tb))
    for a, c in zip([X, Y] + Ws + bs, copies):
        np.testing.assert_array_equal(a, c)


# ------------------------------------------------------------ refusals

@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_adam_and_rmsprop_are_refused_with_the_reason(optimizer):
    X, Y, Ws, bs, acts = _network("relu", "sigmoid", 2)
    tb = check_toolbox(optimizer=optimizer, mini_batch_size=MB, m=M)
    with pytest.raises(ValueError, match="not exact in the dual form.*"
                       "per-coordinate scaling.*solver='primal'"):
        GramToolboxSolver(X, Y, Ws, bs, (1,), 0, tb,
                          learning_rates(0.1, 5, tb))
    assert not toolbox_gram_pays(1000, 100, [1000, 5, 1], tb)


def test_toolbox_gram_pays_by_cost():
    tb = check_toolbox(optimizer="momentum", mini_batch_size=64, m=209)
    assert toolbox_gram_pays(12288, 209, [12288, 20, 7, 5, 1], tb)
    # m far above n_x: the m x m products cost more than the primal form.
    assert not toolbox_gram_pays(20, 5000, [20, 5, 1], tb)
    full = check_toolbox(m=50)
    assert toolbox_gram_pays(40, 50, [40, 3, 1], full) == _gram.gram_pays(
        40, 50)


def test_toolbox_must_be_a_toolbox():
    X, Y, Ws, bs, acts = _network("relu", "sigmoid", 2)
    with pytest.raises(TypeError, match="toolbox must be a Toolbox"):
        GramToolboxSolver(X, Y, Ws, bs, (1,), 0, {"optimizer": "gd"},
                          np.full(3, 0.1))
    with pytest.raises(TypeError, match="toolbox must be a Toolbox"):
        toolbox_gram_pays(10, 5, [10, 1], "momentum")


def test_p0_must_be_the_next_pass():
    X, Y, Ws, bs, acts = _network("relu", "sigmoid", 2)
    tb = check_toolbox(optimizer="gd", mini_batch_size=MB, m=M)
    solver = GramToolboxSolver(X, Y, Ws, bs, (1,), 0, tb,
                               learning_rates(0.1, 5, tb))
    with pytest.raises(ValueError, match="p0 must be the next pass, 0"):
        solver.run(1, 2, np.empty(2))
    with pytest.raises(ValueError, match="learning_rates has 5 passes"):
        solver.run(0, 6, np.empty(6))


def test_divergence_raises_the_reference_error_at_its_pass():
    X, Y, Ws, bs, acts = _network("relu", "identity", 2)
    X = X * 1e3
    tb = check_toolbox(optimizer="momentum", mini_batch_size=MB, m=M)
    rates = learning_rates(1.0, 50, tb)
    with np.errstate(all="ignore"):
        want = _numpy_training(X, Y, Ws, bs, acts, "identity", tb, rates)[2]
    first = int(np.flatnonzero(~np.isfinite(want))[0])
    solver = GramToolboxSolver(X, Y, Ws, bs, (jit.ACT_CODES["relu"],),
                               jit.OUTPUT_CODES["identity"], tb, rates)
    costs = np.full(50, -1.0)
    with pytest.raises(FloatingPointError, match="training diverged: the "
                       r"cost is \w+ at iteration %d;" % first):
        solver.run(0, 50, costs)
    np.testing.assert_allclose(costs[:first], want[:first], rtol=RTOL)
    assert not np.isfinite(costs[first])
    assert solver.passes == first + 1


# ------------------------------------------------------------ the primal form

PRIMAL_COMBOS = [(opt, mb, extras) for opt in ("gd", "momentum", "nesterov")
                 for mb in (None, MB) for extras in (False, True)]


@pytest.mark.parametrize(
    "opt,mb,extras", PRIMAL_COMBOS,
    ids=["%s-mb%s-extras%d" % c for c in PRIMAL_COMBOS])
def test_trains_as_the_primal_toolbox_solver(opt, mb, extras):
    # The jit backend's primal toolbox solver, where it is installed: the
    # same trajectory and parameters to 1e-9 (extras: L2, dropout, decay).
    toolbox = pytest.importorskip("fastdnn._toolbox")
    X, Y, Ws, bs, acts = _network("tanh", "softmax", 3, seed=12)
    tb = check_toolbox(optimizer=opt, mini_batch_size=mb,
                       lambd=0.2 if extras else 0.0,
                       keep_prob=0.7 if extras else 1.0,
                       decay=_decay if extras else None, decay_rate=0.2,
                       seed=21, m=M)
    rates = learning_rates(0.05, N_PASS, tb)
    codes = tuple(jit.ACT_CODES[a] for a in acts)
    primal = toolbox.ToolboxSolver(X, Y, Ws, bs, codes,
                                   jit.OUTPUT_CODES["softmax"], tb, rates)
    costs = np.full(N_PASS, np.nan)
    primal.run(0, N_PASS, costs)
    want = primal.parameters() + (costs,)
    got = _gram_training(X, Y, Ws, bs, acts, "softmax", tb, rates)
    _assert_same(got, want, "gram vs primal")


def test_overflowing_gram_matrix_trains_in_the_primal_form():
    # |X| ~ 1e155: X^T X overflows in float64 where W1 X (tiny W1) does
    # not; the solver hands the whole run to the primal toolbox solver (a
    # learning rate of ~1e-311 keeps W1's steps at the scale of 1 / |X|^2).
    toolbox = pytest.importorskip("fastdnn._toolbox")
    X, Y, Ws, bs, acts = _network("relu", "sigmoid", 2, seed=3)
    X = X * 1e155
    Ws = [Ws[0] * 1e-155] + Ws[1:]
    tb = check_toolbox(optimizer="momentum", mini_batch_size=MB, seed=2,
                       m=M)
    rates = learning_rates(1e-311, 10, tb)
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.all(np.isfinite(X.T @ X))
    got = _gram_training(X, Y, Ws, bs, acts, "sigmoid", tb, rates)
    primal = toolbox.ToolboxSolver(X, Y, Ws, bs, (1,), 0, tb, rates)
    costs = np.empty(10)
    primal.run(0, 10, costs)
    assert np.all(np.isfinite(got[2]))
    np.testing.assert_array_equal(got[2], costs)
    for a, b in zip(got[0] + got[1], primal.parameters()[0]
                    + primal.parameters()[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("opt,mb", [("momentum", MB), ("nesterov", None)])
def test_float32_trains_as_the_spec_in_float32(opt, mb):
    # float32 end to end (state, products), within float32 rounding of the
    # numpy loop run in float32.
    X, Y, Ws, bs, acts = _network("tanh", "identity", 3, seed=8)
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    Ws = [W.astype(np.float32) for W in Ws]
    bs = [b.astype(np.float32) for b in bs]
    tb = check_toolbox(optimizer=opt, mini_batch_size=mb, lambd=0.1,
                       keep_prob=0.8, seed=6, m=M)
    rates = learning_rates(0.05, 30, tb)
    want = _numpy_training(X, Y, Ws, bs, acts, "identity", tb, rates)
    got = _gram_training(X, Y, Ws, bs, acts, "identity", tb, rates)
    np.testing.assert_allclose(got[2], want[2], rtol=2e-4)
    for l in range(3):
        assert got[0][l].dtype == np.float32 == got[1][l].dtype
        _assert_close(got[0][l], want[0][l], 2e-4, "W%d" % (l + 1))
        _assert_close(got[1][l], want[1][l], 2e-4, "b%d" % (l + 1))


# ------------------------------------------------------------ the reference

def _reference_has_toolbox():
    import inspect
    return "optimizer" in inspect.signature(
        reference.L_layer_model).parameters


REFERENCE_COMBOS = [("momentum", MB, 0.2, 0.8), ("nesterov", None, 0.1, 1.0),
                    ("gd", 5, 0.0, 0.7)]


@pytest.mark.parametrize("opt,mb,lambd,kp", REFERENCE_COMBOS,
                         ids=["%s-mb%s-l2_%g-kp%g" % c
                              for c in REFERENCE_COMBOS])
def test_trains_as_the_reference_toolbox_loop(opt, mb, lambd, kp):
    # The reference's public training function (its own initial
    # parameters from the seed, the toolbox keywords): the recorded costs
    # and the final parameters of the gram solver started from the same
    # initial parameters, to 1e-9.
    if not _reference_has_toolbox():
        pytest.skip("fastdnn.reference.L_layer_model has no toolbox "
                    "keywords in this installation")
    from fastdnn._reference_training import _initial_parameters
    X, Y, _, _, acts = _network("leaky_relu", "softmax", 3, seed=13)
    dims = [N_X, 6, 5, 3]
    n, seed, decay = 201, 4, _decay
    kw = dict(optimizer=opt, mini_batch_size=mb, lambd=lambd, keep_prob=kp,
              decay=decay, decay_rate=0.05, seed=seed)
    want_params, want_costs = reference.L_layer_model(
        X, Y, dims, 0.03, n, activation="leaky_relu", output="softmax",
        **kw)
    p = _initial_parameters(dims, seed, None, "xavier", acts, np.float64)
    tb = check_toolbox(m=M, **kw)
    got = _gram_training(X, Y, [p["W%d" % l] for l in (1, 2, 3)],
                         [p["b%d" % l] for l in (1, 2, 3)], acts, "softmax",
                         tb, learning_rates(0.03, n, tb))
    np.testing.assert_allclose(got[2][::100], np.array(want_costs, float),
                               rtol=RTOL)
    for l in (1, 2, 3):
        _assert_close(got[0][l - 1], want_params["W%d" % l], RTOL, "W%d" % l)
        _assert_close(got[1][l - 1], want_params["b%d" % l], RTOL, "b%d" % l)


@numba.njit(fastmath=cfg.FASTMATH_ELEMENTWISE, **cfg.JIT_KW)
def _rebuild_w1_entry_by_entry(a, W1_0, C, XT, W1):
    # W1 = a W1_0 + C X^T one entry at a time, the examples in order (fused
    # multiply-adds as in the kernel, no reassociation).
    for i in range(C.shape[0]):
        for f in range(XT.shape[1]):
            v = a * np.float64(W1_0[i, f])
            for k in range(XT.shape[0]):
                v += np.float64(C[i, k]) * np.float64(XT[k, f])
            W1[i, f] = v


@pytest.mark.parametrize("n1, m, n_x, dtype", [
    (1, 1, 1, np.float64), (3, 7, 2500, np.float32),
    (5, 33, 1023, np.float64), (20, 209, 2049, np.float64),
    (2, 4, 1024, np.float32)])
def test_rebuild_w1_sums_the_examples_in_order(n1, m, n_x, dtype):
    # Blocked over columns and four examples at a time, the rebuild still
    # adds the examples to each entry one by one in order: the bits of the
    # plain loop, and C X^T to rounding.
    rng = np.random.RandomState(n1 * m)
    W1_0 = rng.standard_normal((n1, n_x)).astype(dtype)
    C = rng.standard_normal((n1, m))
    XT = rng.standard_normal((m, n_x)).astype(dtype)
    got, want = np.empty((n1, n_x)), np.empty((n1, n_x))
    tk.rebuild_w1(0.7, W1_0, C, XT, got)
    _rebuild_w1_entry_by_entry(0.7, W1_0, C, XT, want)
    np.testing.assert_array_equal(got, want)
    exact = 0.7 * W1_0.astype(np.float64) + C @ XT.astype(np.float64)
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12 * m)
