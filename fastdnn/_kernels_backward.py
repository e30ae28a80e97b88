"""The backward kernels of one layer (private; re-exported by
:mod:`fastdnn._kernels`): ``dZ = dA * g'(Z)``, ``db``, ``dW = dZ A_prev^T / m``
and ``dA_prev = W^T dZ`` in one fused pass, serial and parallel.

The parallel kernel deals fixed row blocks of ``dW`` and ``dA_prev``
(independent outputs) to the threads in contiguous runs: every element is
computed by the same instructions whichever thread runs its block, so
results are identical for any thread count.
"""
import numpy as np

from numba import prange

from ._kernels_by_symbol_arrays import arrays_by_symbol, matrix_at
from ._kernels_common import (ZERO_INT, _exact, _inline, _inline_serial,
                              _line_elements, _parallel, _prefetch, _serial,
                              _serial_leaf, _serial_sum, _serial_sum_leaf)
from ._kernels_elementwise import (activation_grad_row_from_a, is_simple,
                                   simple_activation_grad)
from ._kernels_backward_pack import _pack_rows
from ._kernels_gemm import NATIVE_GEMM
from ._kernels_gemm_dot import line_aligned_rows
from ._kernels_gemm_tile import DOT_MR, DOT_NR, address, dot_tile

#: Rows of A_prev (columns of dW) per backward block.
BACKWARD_ROWS = 64
#: dW's sums take the GEMM's dot-product tile from this many examples on
#: (on hosts with the native GEMM), the vectorised loop below it. One Zen 4
#: thread, 20 x m by m x 2048 (in cache), tile against loop: float64 93
#: and 93 us at m = 32, 138 and 151 at 64, 360 and 432 at 209; float32 77
#: and 81, 96 and 104, 199 and 293.
DOT_MIN_EXAMPLES = 64


@_inline
def _takes_dot_tile(m):
    # Whether dW's sums over m examples run on the dot-product tile (given
    # unit column strides): the rule of _dW_block, which _dW_operand's copy
    # follows.
    return NATIVE_GEMM and m >= DOT_MIN_EXAMPLES


@_inline
def _lines_per_slot(p0, p1, line, slots):
    # Cache lines of flat[p0:p1] to prefetch before each of ``slots`` units
    # of work, so that the last line is issued by the last unit.
    if slots <= 0:
        return 0
    return ((p1 - p0 + line - 1) // line + slots - 1) // slots


@_inline
def _prefetch_lines(flat, p, p1, line, count):
    # Up to ``count`` cache lines from flat[p] on, none at or past p1;
    # returns where the next ones start.
    for _ in range(count):
        if p < p1:
            _prefetch(flat, p)
            p += line
    return p


@_serial_leaf
def _dW_block(dZ, A_prev, dW, k0, k1, p0, p1):
    # dW[:, k0:k1] = dZ A_prev[k0:k1].T / m, prefetching the cache lines of
    # A_prev.flat[p0:p1] meanwhile (the caller's next block). m is A_prev's
    # row length: dZ's rows may be longer (see _dW_operand). From
    # DOT_MIN_EXAMPLES on, on a host with the native GEMM, by its
    # dot-product tile (the cat's first-layer backward kernel, relu mask,
    # dW and db at 20 x 209 by 209 x 12288 on two Zen 4 threads: float64
    # 1.51 ms with the loop, 1.31 with the tile; float32 1.03 and 0.76);
    # else by a loop that LLVM vectorises. Which one depends on the host
    # and m only, never on the thread count.
    item = dZ.itemsize
    if (_takes_dot_tile(A_prev.shape[1])
            and dZ.strides[1] == item and A_prev.strides[1] == item
            and dW.strides[1] == item):
        _dW_block_dot(dZ, A_prev, dW, k0, k1, p0, p1)
    else:
        _dW_block_loop(dZ, A_prev, dW, k0, k1, p0, p1)


@_serial_leaf
def _dW_block_dot(dZ, A_prev, dW, k0, k1, p0, p1):
    # Tiles of DOT_MR rows of dZ by DOT_NR rows of A_prev, k outer so that
    # those rows of A_prev are read from memory once; the prefetches spread
    # over the tiles, as in _dW_block_loop.
    n = dZ.shape[0]
    m = A_prev.shape[1]
    item = dZ.itemsize
    alpha = dZ.dtype.type(1.0 / m)
    flat = A_prev.reshape(-1)
    line = _line_elements(A_prev)
    per_slot = _lines_per_slot(p0, p1, line, (
        (k1 - k0 + DOT_NR - 1) // DOT_NR) * ((n + DOT_MR - 1) // DOT_MR))
    p = p0
    ldz = dZ.strides[0] // item
    lda = A_prev.strides[0] // item
    ldw = dW.strides[0] // item
    z0 = address(dZ)
    a0 = address(A_prev)
    w0 = address(dW)
    for k in range(k0, k1, DOT_NR):
        for i in range(0, n, DOT_MR):
            p = _prefetch_lines(flat, p, p1, line, per_slot)
            dot_tile(alpha, w0 + (i * ldw + k) * item, ldw,
                     z0 + i * ldz * item, ldz, a0 + k * lda * item, lda, m,
                     min(DOT_MR, n - i), min(DOT_NR, k1 - k))


@_serial_sum_leaf
def _dW_block_loop(dZ, A_prev, dW, k0, k1, p0, p1):
    # dW[:, k0:k1] = dZ A_prev[k0:k1].T / m: sums along the contiguous m
    # axis of both operands, 2 x 4 outputs at a time in independent scalar
    # accumulators (which LLVM turns into SIMD lanes under "reassoc"). The
    # loop order k-block outer, i inner reads each row of A_prev from memory
    # once.
    #
    # Meanwhile the cache lines of A_prev.flat[p0:p1] (the caller's next
    # block) are prefetched, a few before each 2 x 4 block, so that memory
    # delivers them while this block computes instead of after it. Spread
    # out rather than issued in one burst, they never fill the core's queue
    # of outstanding misses (a burst was slower than no prefetch at all).
    n = dZ.shape[0]
    m = A_prev.shape[1]
    inv_m = dZ.dtype.type(1.0 / m)
    zero = dZ.dtype.type(0)
    flat = A_prev.reshape(-1)
    line = _line_elements(A_prev)
    per_slot = _lines_per_slot(p0, p1, line, ((k1 - k0) // 4) * (n // 2))
    p = p0
    k = k0
    while k + 4 <= k1:
        a0 = A_prev[k]
        a1 = A_prev[k + 1]
        a2 = A_prev[k + 2]
        a3 = A_prev[k + 3]
        i = 0
        while i + 2 <= n:
            p = _prefetch_lines(flat, p, p1, line, per_slot)
            d0 = dZ[i]
            d1 = dZ[i + 1]
            s00 = zero
            s01 = zero
            s02 = zero
            s03 = zero
            s10 = zero
            s11 = zero
            s12 = zero
            s13 = zero
            for j in range(m):
                x0 = d0[j]
                x1 = d1[j]
                s00 += x0 * a0[j]
                s01 += x0 * a1[j]
                s02 += x0 * a2[j]
                s03 += x0 * a3[j]
                s10 += x1 * a0[j]
                s11 += x1 * a1[j]
                s12 += x1 * a2[j]
                s13 += x1 * a3[j]
            dW[i, k] = inv_m * s00
            dW[i, k + 1] = inv_m * s01
            dW[i, k + 2] = inv_m * s02
            dW[i, k + 3] = inv_m * s03
            dW[i + 1, k] = inv_m * s10
            dW[i + 1, k + 1] = inv_m * s11
            dW[i + 1, k + 2] = inv_m * s12
            dW[i + 1, k + 3] = inv_m * s13
            i += 2
        if i < n:
            d0 = dZ[i]
            s00 = zero
            s01 = zero
            s02 = zero
            s03 = zero
            for j in range(m):
                x0 = d0[j]
                s00 += x0 * a0[j]
                s01 += x0 * a1[j]
                s02 += x0 * a2[j]
                s03 += x0 * a3[j]
            dW[i, k] = inv_m * s00
            dW[i, k + 1] = inv_m * s01
            dW[i, k + 2] = inv_m * s02
            dW[i, k + 3] = inv_m * s03
        k += 4
    while k < k1:
        a0 = A_prev[k]
        for i in range(n):
            d0 = dZ[i]
            s00 = zero
            for j in range(m):
                s00 += d0[j] * a0[j]
            dW[i, k] = inv_m * s00
        k += 1


@_exact
def _dW_operand(dZ):
    # dZ as _dW_block reads it: for the dot-product tile, rows that start
    # on cache lines (fastdnn._kernels_gemm_dot.line_aligned_rows: a copy of
    # n_l x m values against n_l x m x n_{l-1} multiply-adds, the same
    # values); dZ itself for the loop.
    if _takes_dot_tile(dZ.shape[1]):
        return line_aligned_rows(dZ)
    return dZ


@_serial_sum_leaf
def _touch_rows(A, k0, k1):
    # One load per cache line of A[k0:k1], issued back to back before the
    # dW block computes on those rows: they arrive from memory at streaming
    # speed (~12% faster at the cat shape than letting the slower compute
    # loop pull them in). The sum only keeps the loads alive.
    m = A.shape[1]
    flat = A.reshape(-1)
    step = _line_elements(A)
    s = A.dtype.type(0)
    for p in range(k0 * m, k1 * m, step):
        s += flat[p]
    return s


@_serial_leaf
def _dA_prev_block(W, dZ, dA_prev, k0, k1):
    # dA_prev[k0:k1] = W[:, k0:k1].T dZ as row updates along m, i in order.
    # Four rows of dZ per pass over a row of dA_prev, each element's
    # additions nested in the order of one row at a time (the same
    # roundings): a quarter of the loads and stores of the row, which on a
    # short row (a mini-batch) wait on the stores of the previous pass. Two
    # rows of dA_prev per pass share the loads of dZ (the same operations
    # per element): 10-40% faster than one row at a time over five rows of
    # dZ or more (a 7 x 20 layer over 209 examples, float32: 1.7 -> 1.3-1.4
    # us; 64 x 64 over 300: 66 -> 44 us; one Zen 3 core), about 15% slower
    # over one row of dZ. An odd last row goes alone.
    k = k0
    while k + 2 <= k1:
        _dA_prev_two_rows(W, dZ, dA_prev[k], dA_prev[k + 1], k)
        k += 2
    if k < k1:
        _dA_prev_row(W, dZ, dA_prev[k], k)


@_inline_serial
def _dA_prev_two_rows(W, dZ, r0, r1, k):
    # Rows k and k + 1 of dA_prev (r0, r1): _dA_prev_row's operations on
    # each.
    n, m = dZ.shape
    zero = dZ.dtype.type(0)
    i = 0
    if n >= 4:
        # The first pass starts from zero itself (the same roundings as
        # zeroing the rows first, without that pass over them).
        a0, a1, a2, a3 = W[0, k], W[1, k], W[2, k], W[3, k]
        c0, c1, c2, c3 = W[0, k + 1], W[1, k + 1], W[2, k + 1], W[3, k + 1]
        d0, d1, d2, d3 = dZ[0], dZ[1], dZ[2], dZ[3]
        for j in range(m):
            x0, x1, x2, x3 = d0[j], d1[j], d2[j], d3[j]
            r0[j] = (((zero + a0 * x0) + a1 * x1) + a2 * x2) + a3 * x3
            r1[j] = (((zero + c0 * x0) + c1 * x1) + c2 * x2) + c3 * x3
        i = 4
    else:
        for j in range(m):
            r0[j] = zero
            r1[j] = zero
    while i + 4 <= n:
        a0, a1, a2, a3 = W[i, k], W[i + 1, k], W[i + 2, k], W[i + 3, k]
        c0, c1 = W[i, k + 1], W[i + 1, k + 1]
        c2, c3 = W[i + 2, k + 1], W[i + 3, k + 1]
        d0, d1, d2, d3 = dZ[i], dZ[i + 1], dZ[i + 2], dZ[i + 3]
        for j in range(m):
            x0, x1, x2, x3 = d0[j], d1[j], d2[j], d3[j]
            r0[j] = (((r0[j] + a0 * x0) + a1 * x1) + a2 * x2) + a3 * x3
            r1[j] = (((r1[j] + c0 * x0) + c1 * x1) + c2 * x2) + c3 * x3
        i += 4
    while i < n:
        a0 = W[i, k]
        c0 = W[i, k + 1]
        d0 = dZ[i]
        for j in range(m):
            x0 = d0[j]
            r0[j] += a0 * x0
            r1[j] += c0 * x0
        i += 1


@_inline_serial
def _dA_prev_row(W, dZ, row, k):
    # Row k of dA_prev (``row``).
    n, m = dZ.shape
    zero = dZ.dtype.type(0)
    i = 0
    if n >= 4:
        w0, w1, w2, w3 = W[0, k], W[1, k], W[2, k], W[3, k]
        d0, d1, d2, d3 = dZ[0], dZ[1], dZ[2], dZ[3]
        for j in range(m):
            row[j] = (((zero + w0 * d0[j]) + w1 * d1[j])
                      + w2 * d2[j]) + w3 * d3[j]
        i = 4
    else:
        for j in range(m):
            row[j] = zero
    while i + 4 <= n:
        w0, w1, w2, w3 = W[i, k], W[i + 1, k], W[i + 2, k], W[i + 3, k]
        d0, d1, d2, d3 = dZ[i], dZ[i + 1], dZ[i + 2], dZ[i + 3]
        for j in range(m):
            row[j] = (((row[j] + w0 * d0[j]) + w1 * d1[j])
                      + w2 * d2[j]) + w3 * d3[j]
        i += 4
    while i < n:
        w = W[i, k]
        d = dZ[i]
        for j in range(m):
            row[j] += w * d[j]
        i += 1


@_serial_sum_leaf
def _dZ_db_rows(dA, Z, Aout, act, dZ, db, i0, i1):
    # dZ and db of the rows i0:i1: each row on its own, so that the rows can
    # be dealt out to threads without changing a bit.
    if is_simple(act):
        _dZ_db_simple_rows(dA, Z, act, dZ, db, i0, i1)
        return
    m = Z.shape[1]
    for i in range(i0, i1):
        d = dZ[i]
        activation_grad_row_from_a(dA[i], Z[i], Aout[i], d, 0, m, act)
        db[i, 0] = _row_mean(d)


@_serial_sum_leaf
def _dZ_db_simple_rows_code(dA, Z, act, dZ, db, i0, i1):
    # _dZ_db_rows for an activation that is a comparison (is_simple): the
    # rows in loops of their own (a call of the row kernel per row cost
    # more than a short row's work: a 256 x 32 float32 ReLU layer 7.6-7.8
    # us, 1.8-2.1 us so, one Zen 3 core); the same operations, element by
    # element.
    m = Z.shape[1]
    for i in range(i0, i1):
        g = dA[i]
        z = Z[i]
        d = dZ[i]
        for k in range(m):
            d[k] = simple_activation_grad(g[k], z[k], act)
        db[i, 0] = _row_mean(d)


@_serial_sum_leaf
def _row_mean(d):
    # db's element: the row's sum (in SIMD lanes) times 1/m.
    m = d.shape[0]
    s = d.dtype.type(0)
    for j in range(m):
        s += d[j]
    return d.dtype.type(1.0 / m) * s


def _dZ_db_simple_rows_at(x, dA, dA0, dA1, Z, Z0, Z1, act, dZ, dZ0, dZ1, db,
                          db0, db1, i0, i1):
    _dZ_db_simple_rows_code(matrix_at(dA, dA0, dA1, x),
                            matrix_at(Z, Z0, Z1, x), act,
                            matrix_at(dZ, dZ0, dZ1, x),
                            matrix_at(db, db0, db1, x), i0, i1)


#: Compiled once per dtype and called by symbol: every backward kernel and
#: training loop reaches it (fastdnn._kernels_by_symbol_arrays).
_dZ_db_simple_rows = arrays_by_symbol(
    _dZ_db_simple_rows_code, _dZ_db_simple_rows_at, "dZ_db_simple_rows",
    ("matrix", "matrix", "int", "matrix", "matrix", "int", "int"))


@_serial_leaf
def _dZ_db(dA, Z, Aout, act, dZ, db):
    _dZ_db_rows(dA, Z, Aout, act, dZ, db, ZERO_INT, Z.shape[0])


@_serial_sum_leaf
def _nonfinite_flag(dW, k0, k1):
    # NaN when some value of dW[:, k0:k1] is NaN or inf (x - x is NaN
    # exactly then; without the nnan/ninf fastmath flags LLVM may not fold
    # it to 0), else 0. Run on each block just written, still in L1, it
    # spares the caller a pass over the whole dW.
    s = dW.dtype.type(0)
    for i in range(dW.shape[0]):
        row = dW[i, k0:k1]
        for k in range(k1 - k0):
            s += row[k] - row[k]
    return s


@_serial_sum
def _backward_blocks(dZ, dZt, A_prev, W, need_dA_prev, dW, dA_prev, b0,
                     b1, transposed, check):
    # Row blocks b0:b1 of A_prev (columns of dW, rows of dA_prev), in order,
    # on one thread. A C-ordered A_prev: the first block is touched (see
    # _touch_rows), and each block's dW prefetches the next one. A_prev^T is
    # packed block by block instead, which reads it from memory just as
    # well. Returns the sum of the touched values (which keeps the touch
    # loads alive) and a flag that is NaN if some value of dW or of W's
    # columns k0:k1 is not finite (0 without ``check``: the training loops
    # never read it). dZt is dZ
    # as the dW blocks read it (_dW_operand).
    K = W.shape[1]
    m = dZ.shape[1]
    touched = A_prev.dtype.type(0)
    flag = dW.dtype.type(0)
    if check:
        # W's columns of these blocks in one sweep of long rows (which the
        # hardware prefetcher follows; block by block, W's short segments
        # missed the cache and cost as much as a pass of the caller's own):
        # the caller's proof that W is finite, which a first layer's
        # kernel does not otherwise read.
        flag += _nonfinite_flag(W, b0 * BACKWARD_ROWS,
                                min(K, b1 * BACKWARD_ROWS))
    for blk in range(b0, b1):
        k0 = blk * BACKWARD_ROWS
        k1 = min(K, k0 + BACKWARD_ROWS)
        if transposed:
            _dW_block(dZt, _pack_rows(A_prev, k0, k1), dW[:, k0:k1],
                      ZERO_INT, k1 - k0, ZERO_INT, ZERO_INT)
        else:
            if blk == b0:
                touched += _touch_rows(A_prev, k0, k1)
            k2 = min(K, k1 + BACKWARD_ROWS) if blk + 1 < b1 else k1
            _dW_block(dZt, A_prev, dW, k0, k1, k1 * m, k2 * m)
        if check:
            flag += _nonfinite_flag(dW, k0, k1)
        if need_dA_prev:
            _dA_prev_block(W, dZ, dA_prev, k0, k1)
    return touched, flag


@_exact
def _n_backward_blocks(K):
    return (K + BACKWARD_ROWS - 1) // BACKWARD_ROWS


@_serial
def weight_gradients_t_serial(dZ, AT, dW, db):
    """``dW = dZ A_prev^T / m`` and ``db = rowsum(dZ) / m`` from ``AT`` =
    A_prev^T (m, n_{l-1}): the dW and db of :func:`backward_serial` with
    ``transposed`` and the identity activation (the same blocks and sums,
    bit for bit), without dZ, dA_prev or the finite check. The dual form's
    one-off rebuild of W1: this kernel compiles in a fraction of
    backward_serial's time."""
    K = dW.shape[1]
    for i in range(dZ.shape[0]):
        db[i, 0] = _row_mean(dZ[i])
    dZt = _dW_operand(dZ)
    for blk in range(_n_backward_blocks(K)):
        k0 = blk * BACKWARD_ROWS
        k1 = min(K, k0 + BACKWARD_ROWS)
        _dW_block(dZt, _pack_rows(AT, k0, k1), dW[:, k0:k1], ZERO_INT,
                  k1 - k0, ZERO_INT, ZERO_INT)


@_serial
def backward_serial(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ, dW, db,
                    dA_prev, transposed, check=True):
    """One layer's backward pass.

    ``dZ = dA * g'(Z)``, ``dW = dZ A_prev^T / m``, ``db = rowsum(dZ) / m``
    and, when ``need_dA_prev``, ``dA_prev = W^T dZ``. dA, Z, dZ (n_l, m);
    A_prev and dA_prev (n_{l-1}, m); W and dW (n_l, n_{l-1}); db (n_l, 1).
    ``Aout`` (n_l, m) is ``g(Z)`` as the forward kernels computed it (it
    may be dZ): the sigmoid's and tanh's derivatives are read from it (see
    :func:`fastdnn._kernels.activation_grad_row_from_a`); other activations
    ignore it.
    When ``transposed``, ``A_prev`` is passed as A_prev^T (m, n_{l-1}), the
    C-contiguous side of a Fortran-ordered A_prev such as the course's X;
    dA_prev is (n_{l-1}, m) C-ordered either way.

    Returns whether every value of W and dW is finite (always True without
    ``check``, which the training loops skip), and a value to ignore.
    """
    _dZ_db(dA, Z, Aout, act, dZ, db)
    touched, flag = _backward_blocks(dZ, _dW_operand(dZ), A_prev, W,
                                     need_dA_prev, dW, dA_prev, ZERO_INT,
                                     _n_backward_blocks(W.shape[1]),
                                     transposed, check)
    return flag == 0, touched


@_parallel
def backward_parallel(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ, dW,
                      db, dA_prev, transposed, nthreads, check=True):
    """:func:`backward_serial` with the row blocks of A_prev dealt out in
    ``nthreads`` contiguous runs, one per thread (so that each block
    prefetches the one its thread computes next). Each block is computed the
    same way whichever run it falls in."""
    _dZ_db(dA, Z, Aout, act, dZ, db)
    dZt = _dW_operand(dZ)
    nblocks = _n_backward_blocks(W.shape[1])
    nruns = max(1, min(nblocks, nthreads))
    touched = np.empty(nruns, dtype=W.dtype)
    flags = np.empty(nruns, dtype=W.dtype)
    for r in prange(nruns):
        touched[r], flags[r] = _backward_blocks(
            dZ, dZt, A_prev, W, need_dA_prev, dW, dA_prev,
            r * nblocks // nruns,
            (r + 1) * nblocks // nruns, transposed, check)
    return flags.sum() == 0, touched.sum()
