"""The numba kernels of every activation and output code, against the
spec's numpy formulas: element-wise activations and gradients, the fused
layer kernels (serial, parallel, transposed input) for every code, softmax,
the three costs and the fused output gradient."""
import numba
import numpy as np
import pytest

from fastdnn import _kernels as K
from fastdnn import _reference_activations as reference_activations

DTYPES = [np.float32, np.float64]
# One-pass tolerances of tests/test_equivalence.py.
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def _forward_formula(Z, act):
    if act == K.ACT_RELU:
        return np.maximum(0, Z)
    if act == K.ACT_SIGMOID:
        e = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))
    if act == K.ACT_TANH:
        return np.tanh(Z)
    if act == K.ACT_LEAKY_RELU:
        return np.where(Z > 0, Z, Z.dtype.type(0.01) * Z)
    assert act == K.ACT_IDENTITY
    return Z.copy()


def _backward_formula(dA, Z, act):
    if act == K.ACT_RELU:
        return np.where(Z <= 0, 0, dA).astype(dA.dtype)
    if act == K.ACT_SIGMOID:
        s = _forward_formula(Z, act)
        return dA * s * (1 - s)
    if act == K.ACT_TANH:
        return dA * (1 - np.tanh(Z) ** 2)
    if act == K.ACT_LEAKY_RELU:
        return np.where(Z > 0, dA, dA.dtype.type(0.01) * dA)
    assert act == K.ACT_IDENTITY
    return dA.copy()


def _data(dtype, shape=(7, 33), seed=0, scale=4.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(dtype)


def test_codes_are_the_spec_s():
    assert (K.ACT_IDENTITY, K.ACT_NONE, K.ACT_RELU, K.ACT_SIGMOID,
            K.ACT_TANH, K.ACT_LEAKY_RELU) == (0, 0, 1, 2, 3, 4)
    assert (K.OUT_SIGMOID, K.OUT_SOFTMAX, K.OUT_IDENTITY) == (0, 1, 2)
    assert K.LEAKY_SLOPE == 0.01
    assert sorted(K.ACT_ALL) == [0, 1, 2, 3, 4]
    assert sorted(K.OUT_ALL) == [0, 1, 2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", K.ACT_ALL)
def test_elementwise_activation_and_gradient(act, dtype):
    Z = _data(dtype)
    Z[0, :4] = [0, -0.0, 30, -30]
    dA = _data(dtype, seed=1)
    out = np.empty_like(Z)
    K.activation_into(Z, act, out)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, _forward_formula(Z, act),
                               rtol=RTOL[np.dtype(dtype)], atol=0)
    K.activation_backward_into(dA, Z, act, out)
    want = _backward_formula(dA, Z, act)
    # 1 - tanh(Z)**2 cancels where |tanh(Z)| is near 1: an ulp of tanh
    # becomes a large relative error there, small against the largest dZ
    # (the measure of tests/test_equivalence.py).
    np.testing.assert_allclose(out, want, rtol=RTOL[np.dtype(dtype)],
                               atol=RTOL[np.dtype(dtype)] * abs(want).max())


@pytest.mark.parametrize("act", K.ACT_ALL)
def test_nan_and_inf_follow_numpy(act):
    Z = np.array([[np.nan, np.inf, -np.inf, 0.0]])
    dA = np.ones_like(Z)
    out = np.empty_like(Z)
    with np.errstate(invalid="ignore"):
        want = _forward_formula(Z, act)
        want_grad = _backward_formula(dA, Z, act)
    K.activation_into(Z, act, out)
    np.testing.assert_array_equal(out, want)
    K.activation_backward_into(dA, Z, act, out)
    np.testing.assert_array_equal(out, want_grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", K.ACT_ALL)
@pytest.mark.parametrize("transposed", [False, True])
def test_fused_layer_kernels_apply_the_code(act, dtype, transposed):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((5, 9)).astype(dtype)
    b = rng.standard_normal((5, 1)).astype(dtype)
    A_prev = rng.standard_normal((9, 11)).astype(dtype)
    operand = np.ascontiguousarray(A_prev.T) if transposed else A_prev
    Z = np.empty((5, 11), dtype)
    A = np.empty_like(Z)
    for kernel in (K.forward_serial, K.forward_parallel):
        kernel(W, operand, b, act, Z, A, transposed)
        # The fused kernel's fastmath flags may round g(Z) an ulp away from
        # the element-wise kernel's.
        np.testing.assert_allclose(A, _forward_formula(Z, act),
                                   rtol=RTOL[np.dtype(dtype)])
        np.testing.assert_allclose(Z, W @ A_prev + b,
                                   rtol=RTOL[np.dtype(dtype)] * 10)
    dA = rng.standard_normal((5, 11)).astype(dtype)
    dZ = np.empty_like(dA)
    dW = np.empty_like(W)
    db = np.empty_like(b)
    dA_prev = np.empty_like(A_prev)
    for parallel in (False, True):
        args = (dA, Z, A, operand, W, act, True, dZ, dW, db, dA_prev,
                transposed)
        if parallel:
            K.backward_parallel(*args, 2)
        else:
            K.backward_serial(*args)
        want = np.empty_like(dZ)
        K.activation_backward_into(dA, Z, act, want)
        np.testing.assert_allclose(dZ, want, rtol=RTOL[np.dtype(dtype)],
                                   atol=RTOL[np.dtype(dtype)])
        tol = RTOL[np.dtype(dtype)] * 10
        np.testing.assert_allclose(dW, want @ A_prev.T / 11, rtol=tol,
                                   atol=tol)
        np.testing.assert_allclose(dA_prev, W.T @ want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", [K.ACT_IDENTITY, K.ACT_RELU,
                                 K.ACT_LEAKY_RELU])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (16, 32), (5, 301)])
def test_row_block_kernels_are_the_row_kernels_bit_for_bit(
        act, dtype, shape):
    # The forward's bias and activation and the backward's dZ and db over
    # a block of rows, for the activations that are a comparison: their
    # own loops over the rows (no call per row) give the bits of Z += b,
    # activate_row and activation_grad_row_from_a, NaN, infinities and
    # signed zeros included.
    from fastdnn import _kernels_backward as backward
    from fastdnn import _kernels_blas as blas
    from fastdnn import _kernels_elementwise as elementwise
    assert elementwise.is_simple(act)
    rng = np.random.default_rng(5)
    n, m = shape
    Z0 = (3 * rng.standard_normal(shape)).astype(dtype)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], dtype)
    Z0.flat[::7] = np.resize(special, Z0.flat[::7].size)
    b = rng.standard_normal((n, 1)).astype(dtype)
    Z, A = Z0.copy(), np.empty(shape, dtype)
    blas.bias_activate_rows(Z, b, act, A, 0, n)
    Zw, Aw = Z0 + b, np.empty(shape, dtype)
    for i in range(n):
        K.activate_row(Zw[i], Aw[i], 0, m, act)
    assert Z.tobytes() == Zw.tobytes() and A.tobytes() == Aw.tobytes()
    dA = rng.standard_normal(shape).astype(dtype)
    dZ, db = np.empty(shape, dtype), np.empty((n, 1), dtype)
    backward._dZ_db_rows(dA, Z, A, act, dZ, db, 0, n)
    dZw, dbw = np.empty(shape, dtype), np.empty((n, 1), dtype)
    for i in range(n):
        K.activation_grad_row_from_a(dA[i], Z[i], A[i], dZw[i], 0, m, act)
        dbw[i, 0] = backward._row_mean(dZw[i])
    assert dZ.tobytes() == dZw.tobytes() and db.tobytes() == dbw.tobytes()


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_and_column_wise(dtype):
    Z = _data(dtype, (10, 40))
    Z[:, 0] += dtype(1000)  # exp would overflow without the max shift
    Z[:, 1] -= dtype(1000)
    A = np.empty_like(Z)
    K.softmax_into(Z, A)
    assert np.isfinite(A).all()
    np.testing.assert_allclose(A, _softmax(Z), rtol=RTOL[np.dtype(dtype)],
                               atol=RTOL[np.dtype(dtype)] * 1e-3)
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=RTOL[np.dtype(dtype)])


def test_softmax_bad_values_spoil_their_column_only():
    Z = _data(np.float64, (3, 4))
    Z[1, 0] = np.nan
    Z[2, 1] = np.inf
    A = np.empty_like(Z)
    K.softmax_into(Z, A)
    with np.errstate(invalid="ignore"):
        want = _softmax(Z)
    np.testing.assert_array_equal(np.isnan(A), np.isnan(want))
    assert np.isnan(A[:, :2]).all() and np.isfinite(A[:, 2:]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_costs_and_output_gradient(dtype):
    dt = np.dtype(dtype)
    eps = dt.type(np.finfo(dt).eps)
    rtol = RTOL[dt]
    rng = np.random.default_rng(3)
    Z = _data(dtype, (4, 25))
    AL = np.empty_like(Z)
    K.softmax_into(Z, AL)
    AL[0, 0] = 0  # clipped to eps
    Y = np.eye(4, dtype=dtype)[:, rng.integers(0, 4, 25)]
    want = -(1 / 25) * np.sum(Y * np.log(np.clip(AL, eps, 1)))
    for got in (K.softmax_cost(AL, Y, eps),
                K.output_cost(AL, Y, K.OUT_SOFTMAX, eps)):
        np.testing.assert_allclose(got, want, rtol=rtol)
    T = _data(dtype, (4, 25), seed=4)
    want = (1 / 50) * np.sum((Z - T) ** 2)
    for got in (K.squared_cost(Z, T),
                K.output_cost(Z, T, K.OUT_IDENTITY, eps)):
        np.testing.assert_allclose(got, want, rtol=rtol)
    P = np.clip(AL[:1], 0, 1)
    y = (rng.random((1, 25)) > 0.5).astype(dtype)
    Pc = np.clip(P, eps, 1 - eps)
    want = -(1 / 25) * np.sum(y * np.log(Pc) + (1 - y) * np.log(1 - Pc))
    np.testing.assert_allclose(K.output_cost(P, y, K.OUT_SIGMOID, eps),
                               K.cost(P, y, eps, dt.type(1) - eps),
                               rtol=0)
    np.testing.assert_allclose(K.cost(P, y, eps, dt.type(1) - eps), want,
                               rtol=rtol)
    dZ = np.empty_like(Z)
    K.output_dZ_into(Z, T, dZ)
    np.testing.assert_array_equal(dZ, Z - T)


@pytest.mark.parametrize("output", K.OUT_ALL)
def test_a_nan_output_gives_a_nan_cost(output):
    AL = np.full((2, 3), 0.5)
    AL[1, 2] = np.nan
    Y = np.array([[1.0, 0, 1], [0, 1, 0]])
    if output == K.OUT_SIGMOID:
        AL, Y = AL[1:], Y[1:]
    assert np.isnan(K.output_cost(AL, Y, output, np.finfo(float).eps))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 5), (2, 1), (10, 37), (3, 300)])
def test_fused_softmax_step_matches_the_three_kernels(dtype, shape):
    # softmax_cross_entropy (one pass) against softmax_into, output_cost
    # and output_dZ_into (three): AL and dZ bit for bit, the cost to
    # rounding (softmax_cost's sum is reassociated into SIMD lanes).
    dt = np.dtype(dtype)
    eps = dt.type(np.finfo(dt).eps)
    Z = _data(dtype, shape) * dt.type(8)
    Z[:, 0] += dt.type(1000)  # exp would overflow without the max shift
    rng = np.random.default_rng(shape[1])
    Y = np.eye(shape[0], dtype=dtype)[:, rng.integers(0, shape[0],
                                                      shape[1])]
    AL3, dZ3 = np.empty_like(Z), np.empty_like(Z)
    K.softmax_into(Z, AL3)
    cost3 = K.output_cost(AL3, Y, K.OUT_SOFTMAX, eps)
    K.output_dZ_into(AL3, Y, dZ3)
    AL, dZ = np.full_like(Z, np.nan), np.full_like(Z, np.nan)
    cost = K.output_step(Z, AL, Y, dZ, K.OUT_SOFTMAX, eps, 1)
    np.testing.assert_array_equal(AL, AL3)
    np.testing.assert_array_equal(dZ, dZ3)
    np.testing.assert_allclose(cost, cost3, rtol=RTOL[dt])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(10, 1797), (3, 2900), (40, 257)])
def test_fused_softmax_step_is_the_same_on_any_number_of_threads(
        dtype, shape):
    # Long batches: blocks of SOFTMAX_COLUMNS columns dealt out to threads
    # (above SOFTMAX_PARALLEL_MIN elements), the last block shorter, the
    # cost's block shares added in block order: the same bits on 1, 2 and
    # 3 threads, AL those of softmax_into, the cost that of the formula.
    dt = np.dtype(dtype)
    eps = dt.type(np.finfo(dt).eps)
    n, m = shape
    assert n * m >= K.SOFTMAX_PARALLEL_MIN and m % K.SOFTMAX_COLUMNS
    Z = _data(dtype, shape) * dt.type(8)
    rng = np.random.default_rng(m)
    Y = np.eye(n, dtype=dtype)[:, rng.integers(0, n, m)]
    expected_AL = np.empty_like(Z)
    K.softmax_into(Z, expected_AL)
    runs = []
    for threads in (1, 2, 3):
        AL, dZ = np.full_like(Z, np.nan), np.full_like(Z, np.nan)
        cost = K.output_step(Z, AL, Y, dZ, K.OUT_SOFTMAX, eps, threads)
        runs.append((cost, AL, dZ))
    for cost, AL, dZ in runs:
        assert cost == runs[0][0]
        np.testing.assert_array_equal(AL, expected_AL)
        np.testing.assert_array_equal(dZ, expected_AL - Y)
    formula = -np.sum(Y * np.log(np.clip(expected_AL.astype(np.float64),
                                         eps, 1))) / m
    np.testing.assert_allclose(runs[0][0], formula, rtol=RTOL[dt])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fused_softmax_step_passes_a_non_finite_z_on(dtype, bad):
    # As the reference's softmax: a NaN or +inf Z makes its column NaN (and
    # the cost NaN, although the skipped y == 0 terms are most of the
    # column); a -inf Z is a probability of 0.
    dt = np.dtype(dtype)
    Z = _data(dtype, (4, 7))
    Y = np.eye(4, dtype=dtype)[:, [0, 1, 2, 3, 0, 1, 2]]
    Z[2, 4] = bad  # row 2 is not column 4's label
    AL, dZ = np.empty_like(Z), np.empty_like(Z)
    with np.errstate(invalid="ignore"):
        expected = reference_activations.softmax(Z)
    cost = K.output_step(Z, AL, Y, dZ, K.OUT_SOFTMAX,
                         dt.type(np.finfo(dt).eps), 1)
    np.testing.assert_allclose(AL, expected, rtol=RTOL[dt])
    assert np.isnan(AL[:, 4]).all() == (bad != -np.inf)
    assert np.isnan(cost) == (bad != -np.inf)


@pytest.mark.parametrize("output", [K.OUT_SIGMOID, K.OUT_IDENTITY])
def test_output_step_of_elementwise_outputs(output):
    AL = _data(np.float64, (1, 9))
    AL = 1 / (1 + np.exp(-AL))
    Y = (AL > 0.5).astype(float)
    dZ = np.empty_like(AL)
    eps = np.finfo(float).eps
    cost = K.output_step(AL * np.nan, AL, Y, dZ, output, eps, 1)  # Z unused
    assert cost == K.output_cost(AL, Y, output, eps)
    np.testing.assert_array_equal(dZ, AL - Y)


def test_fused_softmax_step_reports_a_bad_column():
    Z = _data(np.float64, (3, 4))
    Z[1, 2] = np.nan
    Y = np.eye(3)[:, [0, 1, 2, 0]]
    AL, dZ = np.empty_like(Z), np.empty_like(Z)
    cost = K.output_step(Z, AL, Y, dZ, K.OUT_SOFTMAX, np.finfo(float).eps,
                         1)
    assert np.isnan(cost)
    assert np.isnan(AL[:, 2]).all() and np.isfinite(AL[:, [0, 1, 3]]).all()


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="nothing is compiled")
def test_the_step_kernels_run_without_reference_counting():
    # The kernels a training step calls per row or per block take arrays
    # their caller owns and allocate nothing: compiled without numba's
    # reference counting, which was half of a small network's step. A
    # kernel that allocates (or returns an array) cannot be one of them.
    from fastdnn import _kernels_backward as backward
    from fastdnn import _kernels_backward_pack as backward_pack
    from fastdnn import _kernels_blas as blas
    from fastdnn import _kernels_elementwise as elementwise
    from fastdnn import _kernels_output as output
    from fastdnn import _kernels_permutation as permutation
    from fastdnn import _toolbox_kernels as toolbox
    from fastdnn import _kernels_gather as gather
    from fastdnn import _dropout_kernels as dropout
    from fastdnn import _toolbox_step_kernels as step
    leaves = [K.activate_row, K.activation_grad_row,
              K.activation_grad_row_from_a, K._grad_reads_a, K.update_into,
              K._forward_partial, K._forward_t_partial, K._forward_finish,
              K._forward_chunk, K._dot_1x3, K.output_cost, K.cost,
              K.softmax_cost, K.squared_cost, K.output_dZ_into,
              output._softmax_columns, output._cross_entropy_columns,
              output._softmax_blocks, backward._dW_block,
              backward._dA_prev_block, backward._dZ_db, backward._dZ_db_rows,
              backward._dZ_db_simple_rows, backward._row_mean,
              elementwise.bias_activate_simple_rows, elementwise.is_simple,
              backward._touch_rows, backward._nonfinite_flag,
              blas.bias_activate_rows, blas._scale, step._update_chunk,
              step._chunk, dropout.mask_apply, dropout.dropout_apply,
              dropout.dropout_uniform_into,
              gather.gather, gather.gather_part, permutation._seed,
              permutation._twist, permutation._permutation_into,
              permutation._permutations_into]
    from fastdnn import _primal_kernels as primal
    # The training loops too: they only take views and pass them on.
    loops = [toolbox.train_steps, toolbox._step, toolbox._forward,
             toolbox._backward, primal.train, primal._forward,
             primal._backward]
    for kernel in leaves + loops:
        # A kernel called by symbol: its own code's options.
        kernel = getattr(kernel, "jitted", kernel)
        assert kernel.targetoptions.get("_nrt") is False, kernel.__name__
    for kernel in (K.forward_serial, K.softmax_into,
                   K.softmax_cross_entropy, backward_pack._pack_rows):
        assert kernel.targetoptions.get("_nrt", True), kernel.__name__
