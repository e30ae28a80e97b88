"""The jit backend's training toolbox (fastdnn._toolbox and its kernels)
against a plain numpy loop written from the shared spec
(fastdnn._toolbox_options): every optimizer x (full batch, mini-batches
with a remainder) x L2 x dropout x dtype, whole cost trajectories and the
final parameters; every activation and output of the tables; 1, 2 and 3+
layers; whole runs against the reference (the training functions' keywords
and errors: test_toolbox_jit_api.py; dropout's generator:
test_dropout_kernels.py).

Tolerances: float64 1e-9 relative on every pass cost and 1e-8 on the
parameters (rounding differs only by the summation order of the products);
float32 2e-4 relative on the costs and 1e-2 of the largest weight on the
parameters (RMSprop and Adam divide small gradients by their own scale,
which magnifies float32 rounding), against the same loop run in float32.
"""
import itertools

import numba
import numpy as np
import pytest

from fastdnn import _kernels as K
from fastdnn import _toolbox_options as O
from fastdnn import _toolbox_step_kernels as SK
from fastdnn import jit, reference
from fastdnn._kernels_permutation import pass_permutations
from fastdnn._reference_activations import ACTIVATIONS
from fastdnn._reference_outputs import OUTPUTS
from fastdnn._toolbox import ToolboxSolver
from thread_counts import numba_threads

RTOL = {np.float64: 1e-9, np.float32: 2e-4}
#: RMSprop's float32 costs against the float64 ones. With beta2 = 0.999 and
#: no bias correction its first steps are about 32 lr times the gradient's
#: sign, whatever the gradient's size: a component that float32 rounding
#: moves across zero moves its step by some 63 lr. Over the combinations
#: below its costs leave the float64 ones by up to 3.6e-5 in the AVX-512
#: build and 2.1e-4 in the pre-AVX2 one (the other optimizers: under
#: 2.7e-7).
RMSPROP_FLOAT32_COST_RTOL = 1e-3
PARAM_RTOL = {np.float64: 1e-8, np.float32: 1e-2}


# --------------------------------------------------------- the spec in numpy

def spec_train(X, Y, Ws, bs, acts, output, lr0, passes, tb):
    """The spec's training loop, plainly: returns (Ws, bs, pass costs)."""
    Ws = [W.copy() for W in Ws]
    bs = [b.copy() for b in bs]
    L = len(Ws)
    m = X.shape[1]
    rates = O.learning_rates(lr0, passes, tb)
    V = [np.zeros_like(P) for P in Ws + bs]
    S = [np.zeros_like(P) for P in Ws + bs]
    step = 0
    costs = []
    kp = tb.keep_prob
    for p in range(passes):
        lr = rates[p]
        if tb.mini_batch_size is None:
            batches = [np.arange(m)]
        else:
            perm = O.pass_permutation(tb.seed, p, m)
            batches = [perm[a:b] for a, b in
                       O.batch_bounds(m, tb.mini_batch_size)]
        total = 0.0
        for idx in batches:
            mb = idx.size
            A = X[:, idx]
            Yb = Y[:, idx]
            As, Zs, Ds = [A], [], []
            for l in range(1, L):
                Z = Ws[l - 1] @ A + bs[l - 1]
                A = ACTIVATIONS[acts[l - 1]][0](Z)
                D = None
                if kp < 1:
                    D = O.dropout_mask(tb.seed, l, step, A.shape[0], mb, kp)
                    A = A * D
                    A = A / kp
                Zs.append(Z)
                As.append(A)
                Ds.append(D)
            ZL = Ws[L - 1] @ A + bs[L - 1]
            AL = OUTPUTS[output].forward(ZL)
            cost = OUTPUTS[output].cost(AL, Yb)
            if tb.lambd:
                total_sq = sum(np.sum(np.square(W)) for W in Ws)
                cost = cost + (1 / mb) * (tb.lambd / 2) * total_sq
            dZ = AL - Yb
            grads = [None] * (2 * L)
            for l in range(L, 0, -1):
                grads[l - 1] = (1 / mb) * (dZ @ As[l - 1].T) + (
                    tb.lambd / mb) * Ws[l - 1]
                grads[L + l - 1] = (1 / mb) * np.sum(dZ, axis=1,
                                                     keepdims=True)
                if l > 1:
                    dA = Ws[l - 1].T @ dZ
                    if kp < 1:
                        dA = dA * Ds[l - 2]
                        dA = dA / kp
                    dZ = ACTIVATIONS[acts[l - 2]][1](dA, Zs[l - 2])
            t = step + 1
            params = Ws + bs
            for i, (P, g) in enumerate(zip(params, grads)):
                if tb.optimizer == "gd":
                    P = P - lr * g
                elif tb.optimizer in ("momentum", "nesterov"):
                    V[i] = tb.beta * V[i] + (1 - tb.beta) * g
                    if tb.optimizer == "momentum":
                        P = P - lr * V[i]
                    else:
                        P = P - lr * (tb.beta * V[i] + (1 - tb.beta) * g)
                elif tb.optimizer in ("sgd_sklearn", "nesterov_sklearn"):
                    V[i] = tb.beta * V[i] - lr * g
                    if tb.optimizer == "sgd_sklearn":
                        P = P + V[i]
                    else:
                        P = P + (tb.beta * V[i] - lr * g)
                elif tb.optimizer == "adam_sklearn":
                    V[i] = tb.beta1 * V[i] + (1 - tb.beta1) * g
                    S[i] = tb.beta2 * S[i] + (1 - tb.beta2) * np.square(g)
                    rate = lr * np.sqrt(1 - tb.beta2 ** t) / (
                        1 - tb.beta1 ** t)
                    P = P + (-rate * V[i] / (np.sqrt(S[i]) + tb.epsilon))
                elif tb.optimizer == "rmsprop":
                    S[i] = tb.beta2 * S[i] + (1 - tb.beta2) * np.square(g)
                    P = P - lr * g / (np.sqrt(S[i]) + tb.epsilon)
                elif tb.optimizer == "adam":
                    V[i] = tb.beta1 * V[i] + (1 - tb.beta1) * g
                    S[i] = tb.beta2 * S[i] + (1 - tb.beta2) * np.square(g)
                    vc = V[i] / (1 - tb.beta1 ** t)
                    sc = S[i] / (1 - tb.beta2 ** t)
                    P = P - lr * vc / (np.sqrt(sc) + tb.epsilon)
                else:
                    raise AssertionError(tb.optimizer)
                params[i] = P
            Ws, bs = params[:L], params[L:]
            step += 1
            total += float(cost) * mb
        costs.append(float(cost) if tb.mini_batch_size is None
                     else total / m)
    return Ws, bs, np.array(costs)


def problem(dims, output, dtype, m=23, seed=0, order="C"):
    rng = np.random.RandomState(seed)
    X = rng.randn(dims[0], m)
    X = np.asarray(X, order=order)
    n_L = dims[-1]
    if output == "sigmoid":
        Y = (rng.rand(1, m) > 0.5).astype(float)
    elif output == "softmax":
        Y = np.eye(n_L)[:, rng.randint(0, n_L, m)]
    else:
        Y = rng.randn(n_L, m)
    Ws = [rng.randn(dims[l + 1], dims[l]) / np.sqrt(dims[l])
          for l in range(len(dims) - 1)]
    bs = [0.1 * rng.randn(dims[l + 1], 1) for l in range(len(dims) - 1)]
    cast = (lambda a: a.astype(dtype))
    return (cast(X), cast(Y), [cast(W) for W in Ws], [cast(b) for b in bs])


def run_both(dims, acts, output, dtype, tb, passes=4, lr0=0.05, m=23,
             order="C"):
    X, Y, Ws, bs = problem(dims, output, dtype, m=m, order=order)
    rates = O.learning_rates(lr0, passes, tb)
    solver = ToolboxSolver(X, Y, Ws, bs, [K.ACT_BY_NAME[a] for a in acts],
                           K.OUT_BY_NAME[output], tb, rates)
    got = np.empty(passes)
    # Two calls: the state (step counter, moments) carries over.
    solver.run(0, 1, got[:1])
    solver.run(1, passes - 1, got[1:])
    Wj, bj = solver.parameters()
    Wr, br, want = spec_train(X, Y, Ws, bs, acts, output, lr0, passes, tb)
    return got, want, Wj + bj, Wr + br


def check_close(got, want, Pj, Pr, dtype, cost_rtol=None):
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=cost_rtol or RTOL[dtype],
                               atol=0)
    for a, b in zip(Pj, Pr):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=PARAM_RTOL[dtype],
                                   atol=PARAM_RTOL[dtype] * np.abs(b).max())


def check_threads_match(X, Y, dims, passes, kw, dtype, threads=None):
    """Train with the primal solver on ``threads`` numba threads (None:
    all of them) and on one: the reference's numbers (check_close), and
    the same bits on both counts."""
    pr, cr = reference.L_layer_model(X, Y, dims, 0.01, passes, **kw)
    runs = []
    for count in (threads, 1):
        with numba_threads(count):
            runs.append(jit.L_layer_model(X, Y, dims, 0.01, passes,
                                          solver="primal", **kw))
    (pj, cj), (p1, c1) = runs
    check_close(np.array(cj, float), np.array(cr, float),
                [pj[k] for k in sorted(pj)], [pr[k] for k in sorted(pr)],
                dtype)
    np.testing.assert_array_equal(cj, c1)
    for key in pj:
        np.testing.assert_array_equal(pj[key], p1[key])


def halving(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 / (1 + decay_rate * epoch_num)


# ------------------------------------------------------------ combinations

COMBOS = list(itertools.product(
    O.OPTIMIZER_NAMES, (None, 5), (0.0, 0.7), (1.0, 0.8)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer,mini_batch_size,lambd,keep_prob",
                         COMBOS)
def test_every_combination_matches_the_spec(dtype, optimizer,
                                            mini_batch_size, lambd,
                                            keep_prob):
    # m = 23 with batches of 5: four full batches and a remainder of 3.
    tb = O.check_toolbox(optimizer=optimizer, mini_batch_size=mini_batch_size,
                         lambd=lambd, keep_prob=keep_prob, decay=halving,
                         decay_rate=0.5, seed=3)
    got, want, Pj, Pr = run_both([4, 6, 5, 3], ("relu", "tanh"), "softmax",
                                 dtype, tb)
    cost_rtol = (RMSPROP_FLOAT32_COST_RTOL
                 if optimizer == "rmsprop" and dtype == np.float32 else None)
    check_close(got, want, Pj, Pr, dtype, cost_rtol)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_every_activation_and_output(activation, output):
    tb = O.check_toolbox(optimizer="adam", mini_batch_size=7, lambd=0.3,
                         keep_prob=0.75, seed=11)
    n_L = 1 if output == "sigmoid" else 3
    got, want, Pj, Pr = run_both([3, 5, n_L], (activation,), output,
                                 np.float64, tb, passes=3)
    check_close(got, want, Pj, Pr, np.float64)


@pytest.mark.parametrize("dims", [[4, 1], [4, 5, 1], [4, 6, 5, 4, 1]])
@pytest.mark.parametrize("optimizer", ["nesterov", "rmsprop"])
def test_one_to_four_layers(dims, optimizer):
    tb = O.check_toolbox(optimizer=optimizer, mini_batch_size=4, lambd=0.2,
                         keep_prob=0.9, seed=5)
    acts = ("leaky_relu",) * (len(dims) - 2)
    got, want, Pj, Pr = run_both(dims, acts, "sigmoid", np.float64, tb)
    # The parameters agree to 1e-15. RMSprop's first steps push some
    # outputs to within ~1e-12 of 0 or 1, where the cross-entropy's log(1 -
    # AL) turns AL's last-bit difference (the kernels' vectorised sigmoid
    # is within 3 ulps of numpy's) into ~1e-8 of the pass-0 cost: that
    # term's conditioning, not the training's.
    check_close(got, want, Pj, Pr, np.float64, cost_rtol=1e-6)


def test_large_layer_takes_the_threaded_update():
    # Over UPDATE_PARALLEL_MIN weights: the update runs its chunks on
    # threads; the numbers are the serial loop's.
    n = 300
    assert n * 230 >= SK.UPDATE_PARALLEL_MIN
    tb = O.check_toolbox(optimizer="adam", mini_batch_size=16, lambd=0.1,
                         seed=2)
    got, want, Pj, Pr = run_both([n, 230, 1], ("relu",), "sigmoid",
                                 np.float64, tb, passes=2, m=40)
    check_close(got, want, Pj, Pr, np.float64)


def test_permutations_are_pass_permutation():
    X, Y, Ws, bs = problem([3, 1], "sigmoid", np.float64, m=50)
    tb = O.check_toolbox(mini_batch_size=8, seed=O.SEED_MAX - 2)
    solver = ToolboxSolver(X, Y, Ws, bs, (), K.OUT_SIGMOID, tb,
                           np.ones(10))
    perms = solver._perms(1, 5)   # seeds wrap past SEED_MAX
    for k in range(5):
        assert np.array_equal(perms[k],
                              O.pass_permutation(tb.seed, 1 + k, 50))


@pytest.mark.parametrize("m", [0, 1, 2, 3, 5, 623, 624, 625, 1249, 6400])
def test_compiled_permutations_are_numpys(m):
    # The compiled MT19937 and shuffle against numpy's RandomState: every
    # length around the generator's 624-word blocks, seeds from 0 to the
    # largest, and the wrap past it.
    seeds = [0, 1, 2, 12345, 2 ** 31, O.SEED_MAX - 1]
    for seed in seeds:
        got = pass_permutations(seed, 0, 3, m)
        assert got.shape == (3, m) and got.dtype == np.int64
        for p in range(3):
            want = np.random.RandomState(
                (seed + p + 1) % (O.SEED_MAX + 1)).permutation(m)
            np.testing.assert_array_equal(got[p], want)


def test_compiled_permutations_refuse_lengths_past_32_bits():
    # numpy's bounded draws take 64-bit outputs past 2**32 columns; the
    # compiled loop draws 32-bit ones only, and refuses 2**32 columns and
    # more, before any allocation.
    with pytest.raises(ValueError, match="m must be below 2\\*\\*32"):
        pass_permutations(0, 0, 1, 2 ** 32)


def test_compiled_permutations_over_many_seeds():
    rng = np.random.RandomState(7)
    for seed in rng.randint(0, 2 ** 31, size=40):
        m = int(rng.randint(1, 3000))
        np.testing.assert_array_equal(
            pass_permutations(int(seed), 4, 1, m)[0],
            O.pass_permutation(int(seed), 4, m))


# ------------------------------------------------------------ step by hand

def test_one_adam_step_by_hand():
    # One layer, identity output, full batch: dW = (W x - y) x^T / m by
    # hand, then Adam's first step moves each weight by lr * sign(dW)
    # (v_c = dW, s_c = dW**2).
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    Y = np.array([[1.0, 0.0]])
    W = np.array([[0.3, -0.2]])
    b = np.array([[0.1]])
    tb = O.check_toolbox(optimizer="adam")
    solver = ToolboxSolver(X, Y, [W], [b], (), K.OUT_IDENTITY, tb,
                           np.array([0.01]))
    costs = np.empty(1)
    solver.run(0, 1, costs)
    dZ = W @ X + b - Y
    dW = dZ @ X.T / 2
    db = dZ.sum(axis=1, keepdims=True) / 2
    assert costs[0] == pytest.approx(np.sum(dZ ** 2) / 4, rel=1e-15)
    (W1,), (b1,) = solver.parameters()
    np.testing.assert_allclose(W1, W - 0.01 * np.sign(dW), rtol=1e-7)
    np.testing.assert_allclose(b1, b - 0.01 * np.sign(db), rtol=1e-7)


# ------------------------------------------------------------ optimizers

def test_optimizer_codes_follow_the_shared_table():
    for name in O.OPTIMIZER_NAMES:
        assert O.OPTIMIZER_NAMES[SK.OPT_BY_NAME[name]] == name


# ------------------------------------------------ against the reference

def _data(m=30, n_x=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_x, m)
    Y = (rng.rand(1, m) > 0.5).astype(float)
    return X, Y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer,mini_batch_size,lambd,keep_prob",
                         COMBOS)
def test_backends_agree_over_whole_runs(dtype, optimizer, mini_batch_size,
                                        lambd, keep_prob):
    # fastdnn.reference's toolbox loop and the jit's, through the public
    # training function: recorded costs and final parameters (m = 23,
    # batches of 5 with a remainder of 3; 101 passes).
    X, Y, _, _ = problem([4, 3], "softmax", dtype)
    kw = dict(optimizer=optimizer, mini_batch_size=mini_batch_size,
              lambd=lambd, keep_prob=keep_prob, decay=halving,
              decay_rate=0.01, seed=6, activation=("tanh", "relu"),
              output="softmax")
    pr, cr = reference.L_layer_model(X, Y, [4, 6, 5, 3], 0.02, 101, **kw)
    pj, cj = jit.L_layer_model(X, Y, [4, 6, 5, 3], 0.02, 101,
                               solver="primal", **kw)
    assert [c.dtype for c in cj] == [c.dtype for c in cr] == [dtype] * 2
    np.testing.assert_allclose(np.array(cj, float), np.array(cr, float),
                               rtol=RTOL[dtype])
    check_close(np.array(cj, float), np.array(cr, float),
                [pj[k] for k in sorted(pj)], [pr[k] for k in sorted(pr)],
                dtype)


def test_two_layer_model_agrees_with_the_reference():
    X, Y = _data()
    kw = dict(optimizer="adam", mini_batch_size=7, lambd=0.1,
              keep_prob=0.9, seed=3, activation="leaky_relu")
    pr, cr = reference.two_layer_model(X, Y, (5, 4, 1), 0.01, 101, **kw)
    pj, cj = jit.two_layer_model(X, Y, (5, 4, 1), 0.01, 101, **kw)
    np.testing.assert_allclose(np.array(cj, float), np.array(cr, float),
                               rtol=1e-9)
    for k in pr:
        np.testing.assert_allclose(pj[k], pr[k], rtol=1e-8, atol=1e-12)


def test_divergence_is_reported_as_the_reference_does():
    X, Y = _data()
    kw = dict(optimizer="momentum", mini_batch_size=7, initialization="he")
    with pytest.raises(FloatingPointError) as want:
        reference.L_layer_model(X * 1e3, Y, [5, 8, 1], 1e6, 300, **kw)
    with pytest.raises(FloatingPointError) as got:
        jit.L_layer_model(X * 1e3, Y, [5, 8, 1], 1e6, 300,
                          solver="primal", **kw)
    assert str(got.value) == str(want.value)


def test_warmup_compiles_the_passes_for_both_dtypes():
    from fastdnn import _toolbox
    from fastdnn import _toolbox_kernels as TK
    _toolbox.warmup()
    dtypes = {str(t.dtype) for sig in TK.train_steps.signatures
              for t in sig[:1]}
    assert dtypes == {"float32", "float64"}


@pytest.mark.parametrize("parts", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("columns", [False, True])
def test_gather_gives_the_batch_in_either_layout(columns, parts):
    # parts 0: on the calling thread; else split into that many ranges of
    # examples (as many as the batch has, at most).
    from fastdnn._kernels_gather import gather, gather_parallel
    rng = np.random.RandomState(3)
    XT = rng.randn(11, 5)
    YT = np.eye(3)[rng.randint(0, 3, 11)]
    perm = rng.permutation(11)
    Xb = np.full(4 * 5, np.nan)
    Yb = np.full(3 * 4, np.nan)
    if parts:
        gather_parallel(XT, YT, perm, 6, 10, Xb, Yb, columns, parts)
    else:
        gather(XT, YT, perm, 6, 10, Xb, Yb, columns)
    want = XT[perm[6:10]]
    got = Xb.reshape(5, 4).T if columns else Xb.reshape(4, 5)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(Yb.reshape(3, 4), YT[perm[6:10]].T)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                    reason="numba has a single thread")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batches_gathered_on_several_threads_train_as_on_one(dtype):
    # Batches of at least GATHER_PARALLEL_MIN inputs are gathered on all
    # of numba's threads: the reference's numbers, and the same bits as
    # on one thread; a wide first layer (on the GEMM where the host has
    # one) and a remainder batch.
    from fastdnn._kernels_gather import GATHER_PARALLEL_MIN
    dims = [120, 40, 3]
    X, Y, _, _ = problem(dims, "softmax", dtype, m=350)
    assert 150 * dims[0] >= GATHER_PARALLEL_MIN > 50 * dims[0]
    kw = dict(optimizer="adam", mini_batch_size=150, seed=4,
              activation="tanh", output="softmax")
    check_threads_match(X, Y, dims, 4, kw, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("extra", [0, 1])
def test_both_batch_layouts_match_the_reference(dtype, extra):
    # A first layer of GATHER_COLUMNS_MAX inputs gathers its batches as X,
    # one more input as X^T: both against the reference, batches of 5 with
    # a remainder, relu layers under momentum.
    from fastdnn._kernels_gather import GATHER_COLUMNS_MAX
    n_x = GATHER_COLUMNS_MAX + extra
    X, Y, _, _ = problem([n_x, 3], "softmax", dtype)
    kw = dict(optimizer="momentum", mini_batch_size=5, seed=2,
              activation="relu", output="softmax")
    dims = [n_x, 6, 3]
    pr, cr = reference.L_layer_model(X, Y, dims, 0.05, 30, **kw)
    pj, cj = jit.L_layer_model(X, Y, dims, 0.05, 30, solver="primal", **kw)
    check_close(np.array(cj, float), np.array(cr, float),
                [pj[k] for k in sorted(pj)], [pr[k] for k in sorted(pr)],
                dtype)
