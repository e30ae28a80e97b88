"""The dual-form (gram) solver trains exactly as the reference does: every
cost and the final parameters, on synthetic data of many shapes in both
dtypes, in one run or in chunks, and (slow, with the data) the seed's cat
training to 1e-9."""
import numpy as np
import pytest

from fastdnn import _gram, reference
from fastdnn import _kernels as kern
from fastdnn import _gram_kernels as gk
from fastdnn._gram import GramSolver, gram_pays
from fastdnn._reference_core import _L_model_backward_fused

from seed_values import COSTS_4_LAYER, TRAINING_TABLE
from thread_counts import numba_threads

# Relative tolerances per dtype, against the largest magnitude of the
# compared quantity. The dual form evaluates Z1 as an accumulated
# Z1_0 - (lr/m) sum dZ1 K instead of W1 X + b1, and the kernels sum in other
# orders than BLAS: rounding-level differences that a few dozen iterations
# amplify by at most a few orders of magnitude. 1e-10 is ~500000 ulps of
# float64; 2e-4 is ~1700 ulps of float32 (eps 1.2e-7).
RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 2e-4}

# The seed's cat training, as tests/test_training_seed.py checks the
# backends: every recorded cost and the final parameters within 1e-9.
SEED_RTOL = 1e-9

LR = 0.0075


def _reference_training(X, Y, Ws, bs, learning_rate, n, acts=None,
                        output="sigmoid"):
    """The reference's training loop (forward, cost, the fused backward
    pass from ``dZ_L = AL - Y``, update) from given parameters, with the
    hidden ``acts`` (default ReLU) and the ``output``: the final weights
    and biases, and every iteration's cost."""
    L = len(Ws)
    if acts is None:
        acts = ("relu",) * (L - 1)
    parameters = {}
    for l in range(1, L + 1):
        parameters["W%d" % l] = Ws[l - 1].copy()
        parameters["b%d" % l] = bs[l - 1].copy()
    costs = np.empty(n)
    for i in range(n):
        AL, caches = reference._L_model_forward(X, parameters, acts, output)
        costs[i] = reference._compute_cost(AL, Y, output)
        grads = _L_model_backward_fused(AL, Y, caches, acts, output)
        parameters = reference._update_parameters(parameters, grads,
                                                  learning_rate)
    return ([parameters["W%d" % l] for l in range(1, L + 1)],
            [parameters["b%d" % l] for l in range(1, L + 1)], costs)


def _problem(dims, m, dtype, seed=0, scale=1.0):
    rng = np.random.RandomState(seed)
    X = (rng.random_sample((dims[0], m)) * scale).astype(dtype)
    Y = (rng.random_sample((1, m)) > 0.5).astype(dtype)
    p = reference.initialize_parameters_deep(dims, seed=seed)
    L = len(dims) - 1
    Ws = [p["W%d" % l].astype(dtype) for l in range(1, L + 1)]
    # Non-zero biases, so that a bias bug shows.
    bs = [(rng.standard_normal((dims[l], 1)) * 0.1).astype(dtype)
          for l in range(1, L + 1)]
    return X, Y, Ws, bs


def _assert_close(got, want, rtol, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, what
    scale = max(float(np.max(np.abs(want))), np.finfo(want.dtype).tiny)
    err = float(np.max(np.abs(got.astype(np.float64) - want))) / scale
    assert err <= rtol, "%s: relative difference %.3g > %.3g" % (
        what, err, rtol)


SHAPES = [
    # (dims, m)
    ((5, 1), 7),               # one layer: logistic regression
    ((3, 1), 1),               # one layer, m = 1
    ((40, 1), 25),             # one layer, n_x > m (gram's default case)
    ((5, 4, 1), 7),            # the 2-layer model
    ((3, 1, 1), 1),            # m = 1, one hidden unit
    ((6, 5, 3, 1), 1),         # m = 1, deeper
    ((8, 7, 1), 9),            # n_1 not a multiple of 4, m odd
    ((30, 20, 7, 5, 1), 25),   # the seed's architecture, small
    ((16, 9, 6, 4, 3, 1), 40),  # six layers
    ((4, 12, 1), 64),          # m > n_x: gram does not pay, still right
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("dims,m", SHAPES,
                         ids=["-".join(map(str, d)) + "_m%d" % m
                              for d, m in SHAPES])
def test_matches_reference_training(dims, m, dtype):
    dtype = np.dtype(dtype)
    n = 60
    X, Y, Ws, bs = _problem(dims, m, dtype, seed=len(dims) + m)
    want_Ws, want_bs, want_costs = _reference_training(X, Y, Ws, bs, 0.1, n)
    solver = GramSolver(X, Y, Ws, bs, 0.1)
    costs = np.full(n, np.nan)
    solver.run(n, costs)
    got_Ws, got_bs = solver.parameters()
    rtol = RTOL[dtype]
    _assert_close(costs, want_costs, rtol, "costs")
    for l in range(len(Ws)):
        assert got_Ws[l].dtype == dtype and got_bs[l].dtype == dtype
        _assert_close(got_Ws[l], want_Ws[l], rtol, "W%d" % (l + 1))
        _assert_close(got_bs[l], want_bs[l], rtol, "b%d" % (l + 1))
    assert solver.iteration == n


def test_inputs_are_not_modified():
    X, Y, Ws, bs = _problem((6, 5, 3, 1), 10, np.float64)
    copies = [a.copy() for a in [X, Y] + Ws + bs]
    solver = GramSolver(X, Y, Ws, bs, LR)
    solver.run(5, np.empty(5))
    solver.parameters()
    for a, c in zip([X, Y] + Ws + bs, copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("dims, m", [((5, 3, 2, 1), 7), ((4, 1, 1), 4),
                                     ((9, 6, 5, 1), 11), ((6, 1), 5)])
def test_padding_stays_zero(dims, m):
    # Z1, dZ1 and K are padded to whole 4 x 3 blocks with zeros; the Z1
    # update sums over the padded columns too, so they must stay zero (a
    # loop over the padded width of a dZ1 row once read past the rows of
    # the layer above and left their neighbours' values there, or whatever
    # memory followed, NaN included).
    X, Y, Ws, bs = _problem(dims, m, np.float64)
    solver = GramSolver(X, Y, Ws, bs, LR)
    solver.run(5, np.empty(5))
    n1 = dims[1]
    assert solver._dZ1.shape[1] > m
    for a in (solver._Z1, solver._dZ1):
        np.testing.assert_array_equal(a[:, m:], 0)
        np.testing.assert_array_equal(a[n1:], 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32],
                         ids=["float64", "float32"])
def test_chunked_runs_are_identical_to_one_run(dtype):
    X, Y, Ws, bs = _problem((12, 6, 4, 1), 15, np.dtype(dtype), seed=3)
    one = GramSolver(X, Y, Ws, bs, 0.05)
    costs_one = np.empty(100)
    one.run(100, costs_one)
    chunked = GramSolver(X, Y, Ws, bs, 0.05)
    costs_chunked = np.empty(100)
    start = 0
    for n in (1, 0, 9, 40, 1, 49):
        chunked.run(n, costs_chunked[start:start + n])
        start += n
        # parameters() in between must not disturb the state
        chunked.parameters()
    assert start == 100
    np.testing.assert_array_equal(costs_chunked, costs_one)
    Wc, bc = chunked.parameters()
    Wo, bo = one.parameters()
    for a, b in zip(Wc + bc, Wo + bo):
        np.testing.assert_array_equal(a, b)


def test_parameters_are_fresh_arrays():
    X, Y, Ws, bs = _problem((6, 5, 3, 1), 10, np.float64)
    solver = GramSolver(X, Y, Ws, bs, LR)
    Wa, ba = solver.parameters()
    Wa[1][...] = 0
    ba[0][...] = 0
    Wb, bb = solver.parameters()
    assert np.any(Wb[1] != 0) and np.any(bb[0] != 0)
    # Before any iteration: the initial parameters (W1 rebuilt from S = 0).
    for a, b in zip(Wb + bb, Ws + bs):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    X, Y, Ws, bs = _problem((6, 5, 1), 10, np.float64)
    with pytest.raises(ValueError, match="W1 has 6 columns|X has 7 rows"):
        GramSolver(np.zeros((7, 10)), Y, Ws, bs, LR)
    with pytest.raises(ValueError, match="same length"):
        GramSolver(X, Y, Ws, bs[:1], LR)
    with pytest.raises(ValueError, match="one unit"):
        GramSolver(X, np.zeros((1, 10)), [Ws[0], np.ones((2, 5))],
                   [bs[0], np.zeros((2, 1))], LR)
    solver = GramSolver(X, Y, Ws, bs, LR)
    with pytest.raises(ValueError, match="costs_out"):
        solver.run(5, np.empty(4))
    with pytest.raises(ValueError, match="costs_out"):
        solver.run(5, np.empty(5, dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n1p, mp", [(4, 3), (4, 6), (8, 9), (20, 210),
                                     (12, 258), (20, 303)])
def test_parallel_z1_update_is_the_serial_one_bit_for_bit(dtype, n1p, mp):
    # Both branches (K in L2 or not), every chunk split of the 3-column
    # blocks, including chunks with no block at all.
    rng = np.random.RandomState(mp)
    K = rng.standard_normal((mp, mp)).astype(dtype)
    K = K + K.T
    dZ1 = rng.standard_normal((n1p, mp)).astype(dtype)
    Z1 = rng.standard_normal((n1p, mp)).astype(dtype)
    serial, parallel = Z1.copy(), Z1.copy()
    c = dtype(0.0075 / mp)
    _gram._z1_update(serial, dZ1, K, c)
    _gram._z1_update_parallel(parallel, dZ1, K, c)
    np.testing.assert_array_equal(parallel, serial)
    want = Z1.astype(np.float64) - float(c) * (dZ1.astype(np.float64) @ K)
    np.testing.assert_allclose(serial, want,
                               rtol=RTOL[np.dtype(dtype)], atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, K, m", [(1, 1, 1), (3, 5, 7), (3, 5, 9),
                                     (5, 130, 209), (6, 300, 210),
                                     (20, 1300, 13), (7, 4100, 5),
                                     (7, 4100, 6), (40, 64, 64)])
def test_one_off_kernels_give_the_full_kernels_bits(dtype, n, K, m):
    # The dual form's W1 X and S X^T by kernels without the activations:
    # Z, dW and db of forward / backward (ACT_NONE, A_prev^T, one thread)
    # bit for bit, through one and several chunks of the forward's summed
    # axis and backward blocks, batches a multiple of 3 or not (forward's
    # one chunk then sums straight into Z), and a layer on BLAS.
    rng = np.random.RandomState(n * K + m)
    W = rng.standard_normal((n, K)).astype(dtype)
    b = rng.standard_normal((n, 1)).astype(dtype)
    AT = rng.standard_normal((m, K)).astype(dtype)
    want = np.empty((n, m), dtype)
    kern.forward(W, AT, b, kern.ACT_NONE, want, np.empty_like(want), True,
                 threads=False)
    got = np.full((n, m), np.nan, dtype)
    kern.linear_forward_t(W, AT, b, got)
    np.testing.assert_array_equal(got, want)
    S = rng.standard_normal((n, m)).astype(dtype)
    dZ = np.empty_like(S)
    dW, db = np.empty_like(W), np.empty_like(b)
    kern.backward(S, S, S, AT, W, kern.ACT_NONE, False, dZ, dW, db, dZ, True,
                  threads=False)
    got_dW, got_db = np.full_like(W, np.nan), np.full_like(b, np.nan)
    kern.weight_gradients_t(S, AT, W, got_dW, got_db)
    np.testing.assert_array_equal(got_dW, dW)
    np.testing.assert_array_equal(got_db, db)
    np.testing.assert_allclose(
        got_dW, S.astype(np.float64) @ AT.astype(np.float64) / m,
        rtol=RTOL[np.dtype(dtype)], atol=1e-5)


@pytest.mark.parametrize("dims", [[300, 20, 7, 1], [300, 1]],
                         ids=["3-layer", "1-layer"])
def test_training_is_the_same_with_and_without_threads(monkeypatch, dims):
    X, Y, Ws, bs = _problem(dims, 209, np.float64)
    runs = []
    for threads in (True, False):
        monkeypatch.setattr(_gram.cfg, "parallel_ok", lambda t=threads: t)
        # Whatever layer is loaded: the parallel update is tested here.
        monkeypatch.setattr(_gram.cfg, "loaded_layer", lambda: "omp")
        solver = GramSolver(X, Y, Ws, bs, LR)
        assert solver._parallel() is threads
        costs = np.empty(50)
        solver.run(50, costs)
        runs.append((costs, solver.parameters()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1][0] + runs[0][1][1],
                    runs[1][1][0] + runs[1][1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 7, 8, 13, 30])
def test_gram_matrix_is_x_t_x_plus_one_bit_for_bit_on_any_threads(m, dtype):
    # Every 4-row and 3-column edge of the blocked kernel, with a feature
    # count past one slab; the serial and parallel kernels, on one or two
    # numba threads, give the same K bit for bit, exactly symmetric, with
    # its padding untouched.
    dtype = np.dtype(dtype)
    rng = np.random.RandomState(m)
    X = rng.standard_normal((gk._GRAM_SLAB + 37, m)).astype(dtype)
    XT = np.ascontiguousarray(X.T)
    mp = -(-m // 3) * 3
    results = []
    for parallel, n in ((False, None), (True, None), (True, 1)):
        with numba_threads(n):
            K = np.full((mp, mp), 7, dtype=dtype)
            assert gk.gram_matrix(XT, K, parallel)
            results.append(K)
    for K in results[1:]:
        np.testing.assert_array_equal(K, results[0])
    K = results[0]
    np.testing.assert_array_equal(K[:m, :m], K[:m, :m].T)
    np.testing.assert_array_equal(K[m:], 7)
    np.testing.assert_array_equal(K[:, m:], 7)
    want = X.astype(np.float64).T @ X.astype(np.float64) + 1
    np.testing.assert_allclose(K[:m, :m], want, rtol=RTOL[dtype],
                               atol=RTOL[dtype] * np.abs(want).max())


def test_gram_matrix_reports_overflow():
    XT = np.full((4, 5), 1e160)
    K = np.zeros((6, 6))
    assert not gk.gram_matrix(XT, K, False)


@pytest.mark.parametrize("layer, parallel", [("omp", True), ("tbb", True),
                                             ("workqueue", False),
                                             (None, False)])
def test_z1_update_threads_only_under_a_fast_launching_layer(
        monkeypatch, layer, parallel):
    # A workqueue launch per iteration cost about what the second thread
    # saves (the cat training was slower with it).
    X, Y, Ws, bs = _problem([300, 20, 1], 209, np.float64)
    monkeypatch.setattr(_gram.cfg, "loaded_layer", lambda: layer)
    assert GramSolver(X, Y, Ws, bs, LR)._parallel() is parallel


def test_gram_pays():
    # The cat images: 12288 features, 209 examples.
    assert gram_pays(12288, 209, [12288, 20, 7, 5, 1])
    assert gram_pays(12288, 209)
    # The break-even, m = 2 n_x (measured in the scaling benchmark).
    assert gram_pays(512, 1000)
    assert gram_pays(500, 1000)
    assert not gram_pays(499, 1000)
    assert not gram_pays(256, 1000)
    # Many more examples than features: the primal form is cheaper.
    assert not gram_pays(100, 5000, [100, 20, 1])
    # K would not fit.
    assert not gram_pays(10 ** 7, 10 ** 6)
    with pytest.raises(ValueError):
        gram_pays(0, 10)


# ---------------------------------------------------------------- the seed

def _cat_problem(cat_data, dims, dtype=np.float64):
    train_x, train_y = cat_data[0], cat_data[1]
    p = reference.initialize_parameters_deep(dims)
    L = len(dims) - 1
    X = np.ascontiguousarray(train_x, dtype=dtype)
    Y = train_y.astype(dtype)
    Ws = [p["W%d" % l].astype(dtype) for l in range(1, L + 1)]
    bs = [p["b%d" % l].astype(dtype) for l in range(1, L + 1)]
    return X, Y, Ws, bs


def _accuracy(x, y, Ws, bs):
    parameters = {}
    for l in range(1, len(Ws) + 1):
        parameters["W%d" % l] = Ws[l - 1]
        parameters["b%d" % l] = bs[l - 1]
    p = reference.predict(x, y, parameters, print_accuracy=False)
    return np.sum(p == y) / y.shape[1]


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("dims,c0,c2400,train_acc,test_acc",
                         [row[1:] for row in TRAINING_TABLE[1:]],
                         ids=["L3", "L5"])
def test_seed_training(cat_data, dims, c0, c2400, train_acc, test_acc):
    X, Y, Ws, bs = _cat_problem(cat_data, list(dims))
    solver = GramSolver(X, Y, Ws, bs, LR)
    costs = np.empty(2500)
    solver.run(2500, costs)
    recorded = costs[::100]
    np.testing.assert_allclose(recorded[0], c0, rtol=SEED_RTOL)
    np.testing.assert_allclose(recorded[24], c2400, rtol=SEED_RTOL)
    if len(dims) == 5:
        np.testing.assert_allclose(recorded, COSTS_4_LAYER, rtol=SEED_RTOL)
    Ws, bs = solver.parameters()
    test_x, test_y = cat_data[2], cat_data[3]
    assert _accuracy(X, cat_data[1], Ws, bs) == train_acc
    assert _accuracy(test_x, test_y, Ws, bs) == test_acc


@pytest.mark.slow
@pytest.mark.data
def test_seed_parameters_match_the_reference(cat_data, reference_seed_run):
    # The reference's own 2500 iterations (shared with the other seed
    # tests), parameter by parameter.
    dims = [12288, 20, 7, 5, 1]
    X, Y, Ws, bs = _cat_problem(cat_data, dims)
    want, want_costs = reference_seed_run("L_layer_model", dims)
    solver = GramSolver(X, Y, Ws, bs, LR)
    costs = np.empty(2500)
    solver.run(2500, costs)
    np.testing.assert_allclose(costs[::100], want_costs, rtol=SEED_RTOL)
    got_Ws, got_bs = solver.parameters()
    for l in range(1, len(dims)):
        _assert_close(got_Ws[l - 1], want["W%d" % l], SEED_RTOL, "W%d" % l)
        _assert_close(got_bs[l - 1], want["b%d" % l], SEED_RTOL, "b%d" % l)


@pytest.mark.slow
@pytest.mark.data
def test_seed_training_float32(cat_data):
    # float32 runs (the reference's, primal's and gram's alike) leave the
    # float64 trajectory after ~200 iterations, each its own way, and all
    # end near it: the first two recorded costs and where it ends are
    # pinned, not the path.
    dims = [12288, 20, 7, 5, 1]
    X, Y, Ws, bs = _cat_problem(cat_data, dims, np.float32)
    solver = GramSolver(X, Y, Ws, bs, LR)
    costs = np.empty(2500)
    solver.run(2500, costs)
    np.testing.assert_allclose(costs[:101:100], COSTS_4_LAYER[:2],
                               rtol=1e-4)
    assert np.all(np.isfinite(costs))
    assert costs[-1] < 0.15
    Ws, bs = solver.parameters()
    assert all(W.dtype == np.float32 for W in Ws)
    assert _accuracy(X, cat_data[1], Ws, bs) >= 0.95
