"""fastdnn's own matrix product (:mod:`fastdnn._kernels_gemm`), run on
every host (the training kernels use it where AVX-512, or AVX2 and FMA, is
available): the product to rounding for each of its three paths (register
tile, dot-product tile, copy of a transposed B), both dtypes, odd shapes
and strided views; the same bits on one thread and on several; the scaled
product the bits of the product then scaled; a long sum, taken in blocks,
the bits of one fused multiply-add after the other; the dot-product
tile's order of sums, exactly; C's last rows, in a short tile, the bits of
a whole tile; nothing written outside C; NaN and
inf carried through; mismatched arguments refused; the serial entry point
(register tiles only) the bits of the threaded one."""
from fractions import Fraction

import numba
import numpy as np
import pytest

from fastdnn._kernels_gemm import (DOT_MAX_ROWS, DOT_MIN_K, KC, KC_MIN_K,
                                   matmul_into, matmul_scaled_into,
                                   matmul_serial_into)
from fastdnn._kernels_gemm_split import (GEMM_PARALLEL_MIN_WORK,
                                         ROW_SPLIT_MIN_K, share, splits_rows)
from fastdnn._kernels_gemm_tile import DOT_MR, MR, lanes, tile_columns

DTYPES = ["float32", "float64"]

#: How B is laid out: its columns contiguous (the register tile reads it in
#: place), its rows contiguous (B is a transposed view: the dot-product
#: tile when M < DOT_MAX_ROWS and K >= DOT_MIN_K, else a copy made in
#: transposed blocks), or neither (every other column of an array: copied
#: element by element).
LAYOUTS = ["columns", "rows", "strided"]

# The GEMM kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()


def _operands(M, K, N, dtype, layout, a_transposed=False, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, M) if a_transposed else (M, K))
    A = (A.T if a_transposed else A).astype(dtype)
    if layout == "rows":
        B = rng.standard_normal((N, K)).astype(dtype).T
    elif layout == "strided":
        B = rng.standard_normal((K, 2 * N)).astype(dtype)[:, ::2]
    else:
        B = rng.standard_normal((K, N)).astype(dtype)
    return A, B


def _check(A, B, C):
    exact = A.astype(np.float64) @ B.astype(np.float64)
    # Sums of K terms in another order: a few ulps of sum |a_ik b_kj|.
    bound = np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64)
    tol = 4 * np.finfo(C.dtype).eps * (bound + 1e-30) * max(1, A.shape[1])
    assert np.all(np.abs(C - exact) <= tol)


def _shapes():
    nr = tile_columns(4)
    for M in (1, MR - 1, MR, MR + 1, 2 * MR + 3, DOT_MR + 1,
              DOT_MAX_ROWS + 1):
        for N in (1, 2, nr - 1, nr, nr + 1, 2 * nr + 5):
            for K in (0, 1, 7, DOT_MIN_K + 13):
                yield M, K, N


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("a_transposed", [False, True])
def test_the_product_to_rounding_at_odd_shapes(dtype, layout,
                                               a_transposed):
    for M, K, N in _shapes():
        A, B = _operands(M, K, N, dtype, layout, a_transposed)
        C = np.full((M, N), np.nan, dtype)
        matmul_into(A, B, C, 1)
        _check(A, B, C)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("M,K", [(117, 40), (117, ROW_SPLIT_MIN_K + 3),
                                 (DOT_MAX_ROWS - 3, 3000),
                                 (70, DOT_MIN_K + 5)])
def test_same_bits_on_one_thread_and_on_several(dtype, layout, M, K):
    N = GEMM_PARALLEL_MIN_WORK // (M * K) + 5
    A, B = _operands(M, K, N, dtype, layout)
    one, several = np.empty((M, N), dtype), np.empty((M, N), dtype)
    matmul_into(A, B, one, 1)
    for threads in (2, 3, 8):
        matmul_into(A, B, several, threads)
        np.testing.assert_array_equal(several, one)
    _check(A, B, one)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["rows", "strided"])
@pytest.mark.parametrize("M,K", [(MR + 3, 40), (DOT_MAX_ROWS + 1, 40),
                                 (DOT_MAX_ROWS + 7, DOT_MIN_K + 5),
                                 (70, KC_MIN_K + 5)])
def test_a_copied_b_gives_the_bits_of_a_contiguous_one(dtype, layout, M, K):
    # A B whose columns are not contiguous is copied, each task copying
    # the column panels its tiles read (a panel may be split between two
    # tasks, which then both copy it): the tiles must see B's values where
    # they would read a contiguous B, whatever the tasks' split. Shapes
    # where the register tile runs on both layouts (not the dot tile).
    nr = tile_columns(np.dtype(dtype).itemsize)
    N = max(5 * nr + 3, GEMM_PARALLEL_MIN_WORK // (M * K) + 5)
    A, B = _operands(M, K, N, dtype, layout, seed=M + K)
    want = np.empty((M, N), dtype)
    matmul_into(A, np.ascontiguousarray(B), want, 1)
    for threads in (1, 2, 3, 8):
        got = np.full((M, N), np.nan, dtype)
        matmul_scaled_into(A, B, got, threads, 1.0)
        np.testing.assert_array_equal(got, want)


def test_the_thread_tests_share_c_out_both_ways():
    # The tests above and below run products whose tasks take C by rows
    # and others whose tasks take ranges of tiles (on 2 threads 117 and 70
    # rows over sums of 64 terms or more by rows; on 8 threads, 39 rows or
    # shorter sums by tiles).
    N = 5 * tile_columns(8)
    long_sum = ROW_SPLIT_MIN_K
    assert splits_rows(117, N, long_sum, 4, 2)
    assert splits_rows(70, N, long_sum, 8, 2)
    assert not splits_rows(117, N, long_sum, 4, 8)
    assert not splits_rows(DOT_MAX_ROWS + 7, N, long_sum, 8, 2)
    assert not splits_rows(117, tile_columns(4), long_sum, 4, 2)
    assert not splits_rows(117, N, long_sum - 1, 4, 2)


@pytest.mark.parametrize("M", [1, MR - 1, MR, 2 * MR + 1, 64, 117, 256])
@pytest.mark.parametrize("parts", [1, 2, 3, 8])
def test_shares_cover_c_once_and_by_rows_to_a_row(M, parts):
    # Every tile of C in exactly one task's share. By rows, the tasks'
    # rows differ in number by at most one, so that where MR does not
    # divide them the short blocks fall one to a task (64 rows of 6-row
    # blocks: 32 and 32, not 30 and 34).
    panels = 3
    blocks = (M + MR - 1) // MR
    for by_rows in (False, True):
        covered = np.zeros((M, panels), np.int64)
        rows = []
        for q in range(parts):
            r0, r1, t0, t1 = share(q, parts, M, panels, by_rows)
            task_blocks = (r1 - r0 + MR - 1) // MR
            rows.append(r1 - r0)
            for t in range(t0, t1):
                panel, i = t // task_blocks, r0 + (t % task_blocks) * MR
                covered[i:min(i + MR, r1), panel] += 1
            if by_rows:
                assert (t0, t1) == (0, task_blocks * panels)
            else:
                assert (r0, r1) == (0, M)
                assert t1 - t0 in (blocks * panels // parts,
                                   blocks * panels // parts + 1)
        assert np.all(covered == 1)
        if by_rows:
            assert max(rows) - min(rows) <= 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("K", [7, DOT_MIN_K + 5, KC_MIN_K + 5])
def test_short_tiles_give_the_bits_of_a_whole_tile(dtype, layout, K):
    # C's last row block goes to a tile of SHORT_ROWS rows when it has that
    # few: its rows must have the bits they get inside a whole tile (the
    # same rows of a product with MR more rows), at every count of rows
    # left over, with masked columns, blocked sums and on two threads. At
    # least DOT_MAX_ROWS rows, so that every layout runs the register tile.
    base = MR * ((DOT_MAX_ROWS + MR - 1) // MR)
    N = 2 * tile_columns(4) + 5
    A, B = _operands(base + MR, K, N, dtype, layout, seed=K)
    whole = np.empty((base + MR, N), dtype)
    matmul_into(A, B, whole, 1)
    for rows in range(1, MR):
        for threads in (1, 2):
            part = np.full((base + rows, N), np.nan, dtype)
            matmul_scaled_into(A[:base + rows], B, part, threads, 1.0)
            np.testing.assert_array_equal(part, whole[:base + rows])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("M,K", [(MR + 3, 40), (DOT_MAX_ROWS - 3, 3000),
                                 (70, DOT_MIN_K + 5)])
def test_the_scaled_product_is_the_product_scaled(dtype, layout, M, K):
    # alpha multiplies each finished sum as it is stored: the bits of the
    # product followed by C *= alpha (the backward pass's 1/m), on every
    # path and any thread count; alpha = 1 stores the product as it is.
    N = GEMM_PARALLEL_MIN_WORK // (M * K) + 5
    A, B = _operands(M, K, N, dtype, layout)
    product = np.empty((M, N), dtype)
    matmul_into(A, B, product, 1)
    for alpha in (1.0 / 209, 1.0, -3.0, 1.0 / 7):
        want = product * np.array(alpha, dtype)
        for threads in (1, 2):
            got = np.full((M, N), np.nan, dtype)
            matmul_scaled_into(A, B, got, threads, alpha)
            np.testing.assert_array_equal(got, want)


def _rounded(q, dtype):
    # The exact rational q rounded to the nearest value of dtype, ties to
    # even (float() of a Fraction rounds correctly to float64; a float32
    # is chosen among the neighbours of that float64).
    if dtype == np.float64:
        return np.float64(float(q))
    v = np.float32(float(q))
    candidates = [v, np.nextafter(v, np.float32(np.inf)),
                  np.nextafter(v, np.float32(-np.inf))]

    def key(c):
        return abs(Fraction(float(c)) - q), int(c.view(np.int32)) & 1
    return min(candidates, key=key)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["columns", "strided"])
def test_a_long_sum_in_blocks_is_one_chain_of_fused_multiply_adds(
        dtype, layout):
    # The register tile sums each element in one chain, s = fma(a_ik,
    # b_kj, s) for k in order, then stores alpha s; a sum of KC_MIN_K
    # terms or more goes in blocks of KC, carried over in C between
    # blocks: the same bits, on one thread and on two. Checked exactly
    # (rational arithmetic) at the corners of the edge tiles.
    dt = np.dtype(dtype).type
    M, N = MR + 1, tile_columns(4) + 3
    K = KC_MIN_K + KC + 5
    assert K > 2 * KC
    A, B = _operands(M, K, N, dtype, layout, seed=3)
    alpha = dt(1.0 / 37)
    for threads in (1, 2):
        C = np.full((M, N), np.nan, dtype)
        matmul_scaled_into(A, B, C, threads, alpha)
        for i in (0, M - 1):
            for j in (0, N - 1):
                s = dt(0)
                for k in range(K):
                    s = _rounded(Fraction(float(A[i, k]))
                                 * Fraction(float(B[k, j]))
                                 + Fraction(float(s)), dt)
                want = _rounded(Fraction(float(alpha)) * Fraction(float(s)),
                                dt)
                assert C[i, j] == want, (threads, i, j)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_dot_tile_sums_each_lane_then_halves(dtype):
    # The dot-product tile: lane l of an element's accumulator sums the
    # terms k = l (mod lanes) by fused multiply-adds in order (the masked
    # last vector adds nothing past K), then the lanes are added pairwise,
    # halves first, and alpha multiplies the sum. Checked exactly (rational
    # arithmetic) on every element of a product with edge tiles both ways:
    # packing several accumulators' halves into one vector must not change
    # a bit.
    dt = np.dtype(dtype).type
    n_lanes = lanes(np.dtype(dtype).itemsize)
    M, N, K = DOT_MR + 2, DOT_MR + 3, DOT_MIN_K + 3
    assert M < DOT_MAX_ROWS and K % n_lanes
    A, B = _operands(M, K, N, dtype, "rows", seed=7)
    alpha = dt(1.0 / 29)
    C = np.full((M, N), np.nan, dtype)
    matmul_scaled_into(A, B, C, 1, alpha)
    for i in range(M):
        for j in range(N):
            acc = [dt(0)] * n_lanes
            for k in range(K):
                acc[k % n_lanes] = _rounded(
                    Fraction(float(A[i, k])) * Fraction(float(B[k, j]))
                    + Fraction(float(acc[k % n_lanes])), dt)
            while len(acc) > 1:
                half = len(acc) // 2
                acc = [dt(acc[t] + acc[t + half]) for t in range(half)]
            want = _rounded(Fraction(float(alpha)) * Fraction(float(acc[0])),
                            dt)
            assert C[i, j] == want, (i, j)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_nothing_is_written_outside_C(dtype, layout):
    # C a window of a larger array: the edge tiles' masked stores keep to
    # it.
    M, K, N = MR + 3, DOT_MIN_K + 3, tile_columns(4) + 3
    A, B = _operands(M, K, N, dtype, layout)
    big = np.full((M + 4, N + 9), 7.0, dtype)
    C = big[2:2 + M, 3:3 + N]
    matmul_into(A, B, C, 2)
    _check(A, B, C)
    outside = np.ones(big.shape, bool)
    outside[2:2 + M, 3:3 + N] = False
    assert np.all(big[outside] == 7.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_nan_and_inf_are_carried_through(dtype, layout):
    M, K, N = 9, DOT_MIN_K + 1, 20
    A, B = _operands(M, K, N, dtype, layout)
    A = A.copy()
    A[2, 5] = np.nan
    A[4, 0] = np.inf
    C = np.empty((M, N), dtype)
    matmul_into(A, B, C, 1)
    assert np.all(np.isnan(C[2]))
    assert np.all(np.isinf(C[4]) | np.isnan(C[4]))
    rest = np.delete(np.arange(M), [2, 4])
    assert np.all(np.isfinite(C[rest]))


def test_mismatched_arguments_are_refused():
    A, B = _operands(5, 6, 7, "float64", "columns")
    with pytest.raises(ValueError, match="shapes"):
        matmul_into(A, B, np.empty((5, 8)), 1)
    with pytest.raises(ValueError, match="shapes"):
        matmul_into(A, B[:5], np.empty((5, 7)), 1)
    with pytest.raises(ValueError, match="contiguous columns"):
        matmul_into(A, B, np.empty((7, 5)).T, 1)
    with pytest.raises(TypeError, match="dtype"):
        matmul_into(A.astype(np.float32), B, np.empty((5, 7)), 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_transposed", [False, True])
def test_the_serial_product_gives_the_bits_of_the_threaded_one(
        dtype, a_transposed):
    for M, K, N in list(_shapes()) + [(20, 64, 209), (20, KC_MIN_K + 9, 45)]:
        A, B = _operands(M, K, N, dtype, "columns", a_transposed)
        want, got = np.empty((M, N), dtype), np.full((M, N), np.nan, dtype)
        matmul_into(A, B, want, 2)
        matmul_serial_into(A, B, got)
        np.testing.assert_array_equal(got, want)
        _check(A, B, got)


def test_the_serial_product_refuses_what_it_cannot_read():
    A, B = _operands(5, 6, 7, "float64", "columns")
    for layout in ("rows", "strided"):
        _, B2 = _operands(5, 6, 7, "float64", layout)
        with pytest.raises(ValueError, match="B must have contiguous"):
            matmul_serial_into(A, B2, np.empty((5, 7)))
    with pytest.raises(ValueError, match="shapes"):
        matmul_serial_into(A, B, np.empty((5, 8)))
    with pytest.raises(TypeError, match="dtype"):
        matmul_serial_into(A, B.astype(np.float32), np.empty((5, 7)))
