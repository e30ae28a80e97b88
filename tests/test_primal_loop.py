"""The primal solver's compiled loop (fastdnn._primal_kernels.train): one
call per run(), the same numbers bit for bit as the layer kernels called one
at a time from Python, for every activation x output."""
import itertools

import numpy as np
import pytest

from fastdnn import _kernels as K
from fastdnn import _primal
from fastdnn import _primal_kernels as PK
from fastdnn._primal import OUTPUT_FORWARD_ACT, PrimalSolver
from fastdnn._primal_fused_kernels import (chunk_rows, forward_parts,
                                           fuses_first_layer, parts_buffer)
from thread_counts import numba_threads


def _first_forward(W, X, XT, b, act, Z, A):
    """The first layer's forward pass as the compiled loop computes it:
    the layer kernel on X^T, or, for a first layer the loop runs in one
    pass over X, its chunk sums computed on their own."""
    parts = parts_buffer(W.shape[0], X.shape[0], X.shape[1], X.dtype)
    if parts.size:
        forward_parts(W, X, parts, False)
        K._forward_finish(parts, b, act, Z, A)
    else:
        K.forward(W, XT, b, act, Z, A, True)


def _python_loop(X, Y, Ws, bs, lr, acts, output, n):
    """The training loop as Python calling the kernel dispatchers, one per
    layer and direction: the per-iteration formulation the compiled loop
    must reproduce exactly."""
    dtype = X.dtype
    X = np.ascontiguousarray(X)
    XT = np.ascontiguousarray(X.T)
    Ws = [W.copy() for W in Ws]
    bs = [b.copy() for b in bs]
    L = len(Ws)
    m = X.shape[1]
    Zs = [np.empty((W.shape[0], m), dtype) for W in Ws]
    As = [np.empty_like(Z) for Z in Zs]
    dAs = [np.empty_like(Z) for Z in Zs]
    dZs = [np.empty_like(Z) for Z in Zs]
    dWs = [np.empty_like(W) for W in Ws]
    dbs = [np.empty_like(b) for b in bs]
    fwd = list(acts) + [OUTPUT_FORWARD_ACT[output]]
    lr = dtype.type(lr)
    eps = dtype.type(np.finfo(dtype).eps)
    costs = np.full(n, np.nan)
    for k in range(n):
        _first_forward(Ws[0], X, XT, bs[0], fwd[0], Zs[0], As[0])
        for q in range(1, L):
            K.forward(Ws[q], As[q - 1], bs[q], fwd[q], Zs[q], As[q])
        costs[k] = K.output_step(Zs[L - 1], As[L - 1], Y, dAs[L - 1],
                                 output, eps, 1)
        if not np.isfinite(costs[k]):
            return Ws, bs, costs, k
        act = K.ACT_IDENTITY
        for q in range(L - 1, -1, -1):
            K.backward(dAs[q], Zs[q], As[q], As[q - 1] if q else X, Ws[q], act,
                       q > 0, dZs[q], dWs[q], dbs[q],
                       dAs[q - 1] if q else dZs[q])
            if q:
                act = acts[q - 1]
        for q in range(L):
            K.update_into(Ws[q], dWs[q], lr, Ws[q])
            K.update_into(bs[q], dbs[q], lr, bs[q])
    return Ws, bs, costs, n


def _problem(dtype, output, dims, m, scale, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(dims[0], m).astype(dtype)
    nL = dims[-1]
    if output == K.OUT_SOFTMAX:
        Y = np.eye(nL, dtype=dtype)[:, rng.randint(0, nL, m)]
    elif output == K.OUT_SIGMOID:
        Y = (rng.rand(nL, m) > 0.5).astype(dtype)
    else:
        Y = rng.randn(nL, m).astype(dtype)
    # C-ordered, as the solver keeps it (a kernel compiled for another
    # layout may sum in another order).
    Y = np.ascontiguousarray(Y)
    Ws = [(scale * rng.randn(dims[q + 1], dims[q]) / np.sqrt(dims[q]))
          .astype(dtype) for q in range(len(dims) - 1)]
    bs = [(0.1 * rng.randn(dims[q + 1], 1)).astype(dtype)
          for q in range(len(dims) - 1)]
    return X, Y, Ws, bs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act,output", list(itertools.product(
    sorted(K.ACT_BY_NAME.values()), sorted(K.OUT_BY_NAME.values()))))
def test_compiled_loop_matches_per_layer_kernels_bit_for_bit(
        dtype, act, output):
    nL = {K.OUT_SIGMOID: 1, K.OUT_SOFTMAX: 3, K.OUT_IDENTITY: 2}[output]
    # Two layer widths, two runs (state carried over), mixed activations.
    dims = [9, 6, 4, nL]
    X, Y, Ws, bs = _problem(dtype, output, dims, 11, 1.0)
    acts = (act, K.ACT_TANH)
    want = _python_loop(X, Y, Ws, bs, 0.1, acts, output, 7)
    solver = PrimalSolver(X, Y, Ws, bs, 0.1, acts, output)
    costs = np.full(7, -1.0)
    solver.run(3, costs[:3])
    solver.run(4, costs[3:])
    got_Ws, got_bs = solver.parameters()
    assert solver.iteration == 7
    np.testing.assert_array_equal(costs, want[2])
    for a, b in zip(got_Ws + got_bs, want[0] + want[1]):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def _assert_run_equals(solver, costs, want_Ws, want_bs, want_costs):
    # The solver's costs and parameters, bit for bit.
    np.testing.assert_array_equal(costs, want_costs)
    got_Ws, got_bs = solver.parameters()
    for a, b in zip(got_Ws + got_bs, want_Ws + want_bs):
        np.testing.assert_array_equal(a, b)


def _assert_four_iterations_bit_for_bit(X, Y, Ws, bs, acts):
    # Four iterations of a softmax network (learning rate 0.5): the
    # compiled loop against the per-layer kernels, bit for bit.
    want = _python_loop(X, Y, Ws, bs, 0.5, acts, K.OUT_SOFTMAX, 4)
    solver = PrimalSolver(X, Y, Ws, bs, 0.5, acts, K.OUT_SOFTMAX)
    costs = np.full(4, -1.0)
    solver.run(4, costs)
    _assert_run_equals(solver, costs, *want[:3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_1", [16, 40])
def test_wide_layers_over_a_long_batch_bit_for_bit(dtype, n_1):
    # Every layer on fastdnn's GEMM, over a batch long enough for a
    # 10-class output layer to be wide too (the digits' shape): the first
    # layer's dW reads X^T in place (40 rows) or, below DOT_MAX_ROWS rows,
    # X itself by the dot-product tile, as the layer kernels called with X
    # do; the numbers are theirs either way.
    from fastdnn import _kernels_blas as blas
    from fastdnn._kernels_gemm import DOT_MAX_ROWS
    m = blas.BLAS_LONG_BATCH + 37
    dims = [12, n_1, 10]
    assert blas.use_blas(n_1, 12, m) and blas.use_blas(10, n_1, m)
    assert (n_1 < DOT_MAX_ROWS) == (n_1 == 16)
    X, Y, Ws, bs = _problem(dtype, K.OUT_SOFTMAX, dims, m, 1.0)
    acts = (K.ACT_TANH,)
    _assert_four_iterations_bit_for_bit(X, Y, Ws, bs, acts)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_split_forward_is_forward_serial_bit_for_bit(dtype):
    rng = np.random.RandomState(0)
    for n, k, transposed, nparts in ((9, 20, False, 2), (37, 50, True, 3),
                                     (16, 7, True, 2), (8, 300, False, 4)):
        W = rng.randn(n, k).astype(dtype)
        b = rng.randn(n, 1).astype(dtype)
        A = rng.randn(*((13, k) if transposed else (k, 13))).astype(dtype)
        for act in K.ACT_ALL:
            want = [np.empty((n, 13), dtype) for _ in range(2)]
            got = [np.empty((n, 13), dtype) for _ in range(2)]
            K.forward_serial(W, A, b, act, *want, transposed)
            PK._forward_rows(W, A, b, act, *got, transposed, nparts)
            assert all(np.array_equal(g, w) for g, w in zip(got, want))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_2", [8, 9])
def test_hand_layer_split_in_row_blocks_bit_for_bit(dtype, n_2):
    # A hidden layer on the hand-written kernels whose sum is one chunk
    # long, with ROWS_SPLIT_MIN_WORK multiply-adds: the loop splits it
    # into row blocks on threads, the layer kernels run forward_serial.
    import numba
    from fastdnn import _kernels_blas as blas
    from fastdnn._kernels import _n_chunks
    n_1, m = 1000, 300
    assert not blas.forward_on_gemm(n_2, n_1, m, False)
    assert _n_chunks(n_1) == 1 and n_2 * n_1 * m >= PK.ROWS_SPLIT_MIN_WORK
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread")
    dims = [20, n_1, n_2, 3]
    X, Y, Ws, bs = _problem(dtype, K.OUT_SOFTMAX, dims, m, 1.0)
    acts = (K.ACT_TANH, K.ACT_RELU)
    _assert_four_iterations_bit_for_bit(X, Y, Ws, bs, acts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_x", [200, 300])
def test_narrow_first_layer_over_many_inputs_bit_for_bit(dtype, n_x):
    # A first layer of 12 units over a few hundred inputs goes to fastdnn's
    # GEMM (the narrow-layer rule); called with X^T, as the loop's
    # reference calls it, its forward product reads X^T in place by the
    # dot-product tile, whose sums differ from the register tiles' over X.
    # The loop must read X^T there too.
    from fastdnn import _kernels_blas as blas
    from fastdnn._kernels_gemm import NATIVE_GEMM, reads_transposed_b_in_place
    if not NATIVE_GEMM:
        pytest.skip("fastdnn's GEMM does not run on this host")
    dims, m = [n_x, 12, 3], 64
    assert blas.use_blas(12, n_x, m) and reads_transposed_b_in_place(12, n_x)
    X, Y, Ws, bs = _problem(dtype, K.OUT_SOFTMAX, dims, m, 1.0)
    acts = (K.ACT_TANH,)
    _assert_four_iterations_bit_for_bit(X, Y, Ws, bs, acts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_2", [3, 6, 16])
def test_hidden_layer_over_many_inputs_bit_for_bit(dtype, n_2):
    # A hidden layer of a few units over more than GEMM_MAX_INPUTS_NARROW
    # hidden ones: its input is C-ordered, and the layer kernels' forward
    # pass runs it on fastdnn's GEMM from GEMM_MIN_ROWS_C_ORDER outputs
    # (gemm_takes_c_ordered), by hand below; the loop must choose as they
    # do (forward_on_gemm).
    from fastdnn import _kernels_blas as blas
    n_1 = blas.GEMM_MAX_INPUTS_NARROW + 76
    dims, m = [5, n_1, n_2, 1], 11
    assert not blas.use_blas(n_2, n_1, m)
    assert blas.gemm_takes_c_ordered(n_2, n_1) == (
        blas.NATIVE_GEMM and n_2 >= blas.GEMM_MIN_ROWS_C_ORDER)
    # The loop holds the GEMM for such a hidden layer alone (a first layer
    # of 2 inputs over one example goes to no GEMM on any host).
    assert blas.network_uses_gemm([2, n_1, n_2, 1], 1) == (
        blas.gemm_takes_c_ordered(n_2, n_1))
    X, Y, Ws, bs = _problem(dtype, K.OUT_SIGMOID, dims, m, 1.0)
    acts = (K.ACT_RELU, K.ACT_TANH)
    want = _python_loop(X, Y, Ws, bs, 0.1, acts, K.OUT_SIGMOID, 4)
    solver = PrimalSolver(X, Y, Ws, bs, 0.1, acts, K.OUT_SIGMOID)
    costs = np.full(4, -1.0)
    solver.run(4, costs)
    _assert_run_equals(solver, costs, *want[:3])


FUSED_CASES = [
    # (dims, hidden activations, output, m): 1, 2 and 3 layers, inputs not a
    # whole number of blocks, an odd batch, a first layer of 1, 2, 7 and 9
    # units (the register tiles' short and masked rows).
    ([2113, 1], (), K.OUT_SIGMOID, 37),
    ([2113, 7, 1], (K.ACT_RELU,), K.OUT_SIGMOID, 37),
    ([4101, 9, 4, 3], (K.ACT_TANH, K.ACT_RELU), K.OUT_SOFTMAX, 21),
    ([3000, 2, 2], (K.ACT_SIGMOID,), K.OUT_IDENTITY, 66),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(FUSED_CASES)))
def test_first_layer_in_one_pass_bit_for_bit(dtype, case):
    # A first layer over some thousand inputs runs in one pass over X
    # (fastdnn._primal_fused_kernels): dW, the update and the next
    # iteration's product together, the chunk sums carried over from one
    # call to the next. Two calls, compared with the per-layer kernels (the
    # first layer's forward product by the chunk sums on their own).
    from fastdnn._kernels_gemm import NATIVE_GEMM
    if not NATIVE_GEMM:
        pytest.skip("fastdnn's GEMM does not run on this host")
    dims, acts, output, m = FUSED_CASES[case]
    assert fuses_first_layer(dims[1], dims[0], m)
    X, Y, Ws, bs = _problem(dtype, output, dims, m, 1.0, seed=case)
    want = _python_loop(X, Y, Ws, bs, 0.1, acts, output, 7)
    solver = PrimalSolver(X, Y, Ws, bs, 0.1, acts, output)
    assert solver._fused
    costs = np.full(7, -1.0)
    solver.run(4, costs[:4])
    solver.run(3, costs[4:])
    _assert_run_equals(solver, costs, *want[:3])
    # Against numpy in float64: the same training to rounding.
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    np_costs = _numpy_costs(X64, Y64, [W.astype(np.float64) for W in Ws],
                            [b.astype(np.float64) for b in bs], 0.1, acts,
                            output, 7)
    rtol = 1e-10 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(costs, np_costs, rtol=rtol)


def _numpy_costs(X, Y, Ws, bs, lr, acts, output, n):
    # The reference's training loop, one iteration a call (it records the
    # cost of every hundredth), for the fused loop's costs.
    from fastdnn._reference_training import _train
    names = {code: name for name, code in K.ACT_BY_NAME.items()}
    out = {code: name for name, code in K.OUT_BY_NAME.items()}[output]
    parameters = {}
    for q, (W, b) in enumerate(zip(Ws, bs), start=1):
        parameters["W%d" % q], parameters["b%d" % q] = W, b
    dims = [X.shape[0]] + [W.shape[0] for W in Ws]
    costs = []
    for _ in range(n):
        parameters, cost = _train(X, Y, dims, lr, 1, False, None, parameters,
                                  tuple(names[a] for a in acts), out)
        costs.append(float(cost[0]))
    return np.array(costs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_layer_in_one_pass_on_any_thread_count(dtype):
    from fastdnn._kernels_gemm import NATIVE_GEMM
    if not NATIVE_GEMM:
        pytest.skip("fastdnn's GEMM does not run on this host")
    X, Y, Ws, bs = _problem(dtype, K.OUT_SIGMOID, [5000, 20, 1], 100, 1.0)
    runs = []
    for threads in (1, 2, None):
        with numba_threads(threads):
            solver = PrimalSolver(X, Y, Ws, bs, 0.05)
            costs = np.empty(5)
            solver.run(5, costs)
        runs.append((costs,) + solver.parameters())
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0][0], other[0])
        for a, b in zip(runs[0][1] + runs[0][2], other[1] + other[2]):
            np.testing.assert_array_equal(a, b)


def test_chunks_of_the_one_pass_are_whole_blocks():
    from fastdnn._kernels_backward import BACKWARD_ROWS
    for n_x in (2048, 2049, 2113, 3000, 4100, 4101, 12288, 50000):
        chunks = K._n_chunks(n_x)
        rows = chunk_rows(n_x, chunks)
        assert rows % BACKWARD_ROWS == 0
        # Every chunk holds at least one input, and they cover n_x.
        assert (chunks - 1) * rows < n_x <= chunks * rows
    from fastdnn._kernels_gemm import NATIVE_GEMM
    assert fuses_first_layer(20, 12288, 209) == NATIVE_GEMM
    assert not fuses_first_layer(20, 2047, 209)


@pytest.mark.parametrize("output", sorted(K.OUT_BY_NAME.values()))
def test_compiled_loop_stops_at_first_nonfinite_cost(output):
    nL = {K.OUT_SIGMOID: 1, K.OUT_SOFTMAX: 3, K.OUT_IDENTITY: 2}[output]
    X, Y, Ws, bs = _problem(np.float64, output, [5, 8, nL], 7, 30.0)
    acts = (K.ACT_RELU,)
    Wp, bp, want, stop = _python_loop(X, Y, Ws, bs, 1e100, acts, output,
                                      40)
    assert stop < 40, "the problem must diverge"
    solver = PrimalSolver(X, Y, Ws, bs, 1e100, acts, output)
    costs = np.full(40, -1.0)
    solver.run(40, costs)
    assert solver.iteration == stop
    assert not np.isfinite(costs[stop])
    assert np.isnan(costs[stop + 1:]).all()
    # The failed iteration's update is not applied.
    _assert_run_equals(solver, costs, Wp, bp, want)


def test_first_layer_in_one_pass_stops_at_first_nonfinite_cost():
    from fastdnn._kernels_gemm import NATIVE_GEMM
    if not NATIVE_GEMM:
        pytest.skip("fastdnn's GEMM does not run on this host")
    X, Y, Ws, bs = _problem(np.float64, K.OUT_SIGMOID, [2113, 8, 1], 7,
                            30.0)
    acts = (K.ACT_RELU,)
    Wp, bp, want, stop = _python_loop(X, Y, Ws, bs, 1e100, acts,
                                      K.OUT_SIGMOID, 40)
    assert 1 < stop < 40, "the problem must diverge after a fused step"
    solver = PrimalSolver(X, Y, Ws, bs, 1e100, acts, K.OUT_SIGMOID)
    assert solver._fused
    costs = np.full(40, -1.0)
    solver.run(40, costs)
    assert solver.iteration == stop
    _assert_run_equals(solver, costs, Wp, bp, want)


def test_run_calls_no_python_kernel_dispatch_per_iteration(monkeypatch):
    # The whole run is one compiled call: the Python dispatchers (one call
    # per layer and iteration before) are not used.
    def fail(*args, **kwargs):
        raise AssertionError("per-layer Python dispatch")
    monkeypatch.setattr(K, "forward", fail)
    monkeypatch.setattr(K, "backward", fail)
    X, Y, Ws, bs = _problem(np.float64, K.OUT_SIGMOID, [4, 3, 1], 5, 1.0)
    solver = PrimalSolver(X, Y, Ws, bs, 0.1)
    costs = np.empty(5)
    solver.run(5, costs)
    assert np.isfinite(costs).all()


@pytest.mark.parametrize("dims,m", [([700, 200, 1], 300),
                                    ([5000, 20, 1], 100)])
def test_parallel_and_serial_loops_agree(monkeypatch, dims, m):
    # A layer above the parallel threshold (the second's first layer in one
    # pass over X, where fastdnn's GEMM runs): the run with the parallel
    # kernels allowed and the one without give the same numbers.
    X, Y, Ws, bs = _problem(np.float32, K.OUT_SIGMOID, dims, m, 1.0)
    assert dims[0] * dims[1] * m >= _primal.cfg.PARALLEL_MIN_WORK
    runs = []
    for allowed in (True, False):
        monkeypatch.setattr(_primal.cfg, "parallel_ok",
                            lambda a=allowed: a)
        solver = PrimalSolver(X, Y, Ws, bs, 0.05)
        costs = np.empty(3)
        solver.run(3, costs)
        runs.append((costs,) + solver.parameters())
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1] + runs[0][2], runs[1][1] + runs[1][2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_views_are_the_buffers_reshaped_slices(dtype):
    # The loops' 2-D views of their flat buffers (fastdnn._kernels_common.
    # flat_view): numpy's buf[start:start + n m].reshape((n, m)), sharing
    # the buffer's memory, for every offset and shape, 1 x 1 and empty
    # included.
    import numba

    from fastdnn._kernels_common import flat_view

    @numba.njit
    def view_and_mark(buf, start, n, m):
        v = flat_view(buf, start, n, m)
        seen = v.copy()
        if v.size:
            v[n - 1, m - 1] = -1
        return seen, v.strides, v.flags.c_contiguous

    for start, n, m in [(0, 3, 4), (5, 2, 7), (11, 1, 1), (4, 0, 3),
                        (0, 4, 0), (2, 5, 3)]:
        buf = np.arange(40, dtype=dtype)
        expected = buf[start:start + n * m].reshape((n, m)).copy()
        got, strides, contiguous = view_and_mark(buf, start, n, m)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == dtype and got.shape == (n, m)
        assert strides == (m * buf.itemsize, buf.itemsize) and contiguous
        if n * m:
            assert buf[start + n * m - 1] == -1  # written through
            assert np.count_nonzero(buf == -1) == 1
