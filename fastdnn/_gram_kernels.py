"""Compiled parts of the dual-form solver (see :mod:`fastdnn._gram`).

- :func:`gram_matrix`: ``K = X^T X + 1 1^T`` in a fixed summation order,
  whatever the number of threads (a BLAS call's order may change with its
  thread count, so runs from several threads at once, each BLAS call
  getting whatever threads are free, could differ in the last bit);
- :func:`run`: the training loop, every layer's forward, cost, backward and
  update, with the first layer's ``Z1 -= (lr/m) dZ1 K``, for any hidden
  activations and any output (the codes of :mod:`fastdnn._kernels`).

Every parallel kernel here splits its work into blocks fixed by the shapes
alone, each block computed by the same code on whichever thread: the
results are those of the serial kernels bit for bit.
"""
import math

import numpy as np

from . import _numba_config as cfg
from ._kernel_dispatch import kernel_jit
# The codes are plain integers, frozen into the compiled loop. The element
# formulas of the activations are the primal kernels' own (one table entry
# is one branch there); numba's cache stamp of this file covers _kernels
# (fastdnn._numba_cache_stamp).
from ._kernels import (ACT_IDENTITY, ACT_SIGMOID, OUT_SIGMOID, OUT_SOFTMAX,
                       OUT_IDENTITY, _dot_1x3, _dot_4x3, activate_row,
                       activation_grad_row)
from ._kernels_math import exp_fast

from numba import prange  # noqa: E402 (after _numba_config)

# The blocked dot products of dZ1 K and X^T X and every row reduction need
# reassociation to vectorise (cfg.FASTMATH_SUM: reassoc + contract, never
# nnan/ninf, so a NaN or an infinity is seen and reported).
_JIT = dict(fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
_PARALLEL_JIT = dict(fastmath=cfg.FASTMATH_SUM, **cfg.PARALLEL_JIT_KW)

# numba compiles a callee once per type of each argument, and a constant
# (0, a module-level code) is typed as its own literal: a call with one
# compiles another copy of the callee and of everything it calls (about a
# second each with an empty cache). Constants passed to the kernels here are
# written np.int64(...), typed as any int64, so that every call shares one
# compilation.

#: Rows of Z1 and columns of K handled by one register block of the
#: ``dZ1 K`` product; the arrays are padded to multiples of these with zeros.
BLOCK_ROWS = 4
BLOCK_COLS = 3
#: Up to this order K (m x m) stays in a 512 kB L2 cache in float64.
_SMALL_M = 256
#: Column chunks of the parallel Z1 update: fixed, never the thread count.
_Z1_CHUNKS = 2
#: Features (columns of X^T) per pass of the X^T X kernel: a pass's slab of
#: X^T (m x 256, 428 kB for m = 209 in float64) stays in L2 while every
#: block of K is accumulated from it.
_GRAM_SLAB = 256

#: Status of :func:`run`: every iteration done; else ``KINDS i + kind``
#: for the iteration ``i`` (0-based, this call) that stopped it, nothing of
#: which was applied.
OK = -1
KINDS = 2
#: The cost is not finite.
BAD_COST = 0
#: A pre-activation is not finite: Z1 at the start of the iteration (the
#: dual form's ``dZ1 K`` overflowed, or W1 X would have) or a later layer's
#: Z. Which of inf and NaN such a run gets depends on the order of its
#: sums and on fused multiply-adds (which overflow later), so the caller
#: redoes the iteration in the primal form and goes on in it.
BAD_Z = 1


# ------------------------------------------------------------ X^T X

@kernel_jit(**_JIT)
def _gram_row_block(XT, acc, r0, k0, k1):
    """``acc[r, c] += XT[r, k0:k1] . XT[c, k0:k1]`` for the rows r of the
    4-row block at r0 and every 3-column block holding some ``c >= r`` (the
    upper triangle and a few entries below it, which are not used)."""
    m = XT.shape[0]
    mp = acc.shape[1]
    one = acc.dtype.type(1)
    if r0 + BLOCK_ROWS <= m:
        for j in range(r0 // BLOCK_COLS * BLOCK_COLS, mp, BLOCK_COLS):
            _dot_4x3(XT, XT, acc, r0, j, k0, k1, one)
    else:
        for r in range(r0, m):
            for j in range(r // BLOCK_COLS * BLOCK_COLS, mp, BLOCK_COLS):
                _dot_1x3(XT, XT, acc, r, j, k0, k1)


@kernel_jit(**_JIT)
def _gram_pair(XT, acc, p, k0, k1):
    # Row blocks p and nb - 1 - p: a long row of the triangle and a short
    # one, so that pairs are about equal work.
    nb = -(-XT.shape[0] // BLOCK_ROWS)
    _gram_row_block(XT, acc, p * BLOCK_ROWS, k0, k1)
    q = nb - 1 - p
    if q != p:
        _gram_row_block(XT, acc, q * BLOCK_ROWS, k0, k1)


@kernel_jit(**_JIT)
def _gram_serial(XT, acc):
    m, n = XT.shape
    pairs = (-(-m // BLOCK_ROWS) + 1) // 2
    for k0 in range(0, n, _GRAM_SLAB):
        k1 = min(n, k0 + _GRAM_SLAB)
        for p in range(pairs):
            _gram_pair(XT, acc, p, k0, k1)


@kernel_jit(**_PARALLEL_JIT)
def _gram_parallel(XT, acc):
    # Slab by slab (each slab's sums are added to acc in slab order), the
    # pairs of row blocks over threads.
    m, n = XT.shape
    pairs = (-(-m // BLOCK_ROWS) + 1) // 2
    for k0 in range(0, n, _GRAM_SLAB):
        k1 = min(n, k0 + _GRAM_SLAB)
        for p in prange(pairs):
            # prange's index is unsigned: as int64, one compilation of
            # _gram_pair serves both loops.
            _gram_pair(XT, acc, np.int64(p), k0, k1)


@kernel_jit(**cfg.JIT_KW)
def _symmetric_plus_one(acc, K):
    """``K[:m, :m]`` = the upper triangle of acc mirrored, plus 1; whether
    every value is finite."""
    m = acc.shape[0]
    one = K.dtype.type(1)
    finite = True
    for r in range(m):
        for c in range(r, m):
            v = acc[r, c] + one
            finite &= math.isfinite(v)
            K[r, c] = v
            K[c, r] = v
    return finite


def gram_matrix(XT, K, parallel):
    """``K[:m, :m] = X^T X + 1 1^T`` from ``XT = X^T`` (m, n_x),
    C-contiguous; K is (mp, mp), mp >= m a multiple of 3, and its padding
    is left as it is. Each entry is summed in the same order by the serial
    and the parallel kernel, on any number of threads. Returns whether K is
    finite (X^T X overflows for |X| above ~1e154 in float64, ~1e19 in
    float32)."""
    m = XT.shape[0]
    acc = np.zeros((m, K.shape[1]), dtype=K.dtype)
    if parallel:
        _gram_parallel(XT, acc)
    else:
        _gram_serial(XT, acc)
    return bool(_symmetric_plus_one(acc, K))


# ------------------------------------------------------------ Z1 update

@kernel_jit(**_JIT)
def _z1_update_cols(Z1, dZ1, K, c, j0, j1):
    """``Z1[:, j0:j1] -= c * dZ1 @ K[:, j0:j1]`` on padded arrays (rows a
    multiple of 4, K's order and j0, j1 multiples of 3), in the 4 x 3
    register blocks of the forward kernel (K is symmetric: row j of K is
    column j). Each block of Z1 is one _dot_4x3 call, whatever the order of
    the calls, so any split of the columns gives the same Z1 bit for bit."""
    n1p, mp = Z1.shape
    if mp <= _SMALL_M:
        # K fits in L2: keep four rows of dZ1 in L1 and sweep K.
        for i in range(0, n1p, BLOCK_ROWS):
            for j in range(j0, j1, BLOCK_COLS):
                _dot_4x3(dZ1, K, Z1, i, j, 0, mp, -c)
    else:
        # K does not fit: read each three rows of K once and reuse them for
        # every block of dZ1, so that K is streamed from memory once per
        # iteration instead of n_1 / 4 times.
        for j in range(j0, j1, BLOCK_COLS):
            for i in range(0, n1p, BLOCK_ROWS):
                _dot_4x3(dZ1, K, Z1, i, j, 0, mp, -c)


@kernel_jit(**_JIT)
def z1_update(Z1, dZ1, K, c):
    """``Z1 -= c * dZ1 @ K`` (see :func:`_z1_update_cols`)."""
    _z1_update_cols(Z1, dZ1, K, c, np.int64(0), Z1.shape[1])


@kernel_jit(**_PARALLEL_JIT)
def z1_update_parallel(Z1, dZ1, K, c):
    """:func:`z1_update` with the columns in _Z1_CHUNKS chunks over
    threads; the same Z1 bit for bit."""
    nb = Z1.shape[1] // BLOCK_COLS
    for t in prange(_Z1_CHUNKS):
        _z1_update_cols(Z1, dZ1, K, c,
                        nb * t // _Z1_CHUNKS * BLOCK_COLS,
                        nb * (t + 1) // _Z1_CHUNKS * BLOCK_COLS)


# ------------------------------------------------------------ training loop

@kernel_jit(**_JIT)
def _combine_rows(out, Wf, w0, w_step, R, r0, count, m):
    """``out[:m] = sum_s Wf[w0 + s w_step] R[r0 + s, :m]`` over ``s <
    count`` (m is R's row width here; the toolbox solver's batch width,
    narrower than its buffers, there): a small layer's ``W A_prev`` row
    (``w_step`` 1) or ``W^T dZ`` row (``w_step`` n_in). ``out`` may be
    wider (a row of the padded dZ1), and its padding is left as it is.
    Four rows of R per pass over ``out``: one load and store of ``out`` per
    four multiply-adds instead of per one (~4 us of an iteration's ~55 at
    the cat shape)."""
    zero = out.dtype.type(0)
    for k in range(m):
        out[k] = zero
    s = 0
    while s + 4 <= count:
        c0 = Wf[w0 + s * w_step]
        c1 = Wf[w0 + (s + 1) * w_step]
        c2 = Wf[w0 + (s + 2) * w_step]
        c3 = Wf[w0 + (s + 3) * w_step]
        x0 = R[r0 + s]
        x1 = R[r0 + s + 1]
        x2 = R[r0 + s + 2]
        x3 = R[r0 + s + 3]
        for k in range(m):
            out[k] += (c0 * x0[k] + c1 * x1[k]) + (c2 * x2[k] + c3 * x3[k])
        s += 4
    for s in range(s, count):
        c = Wf[w0 + s * w_step]
        x = R[r0 + s]
        for k in range(m):
            out[k] += c * x[k]


@kernel_jit(**_JIT)
def _activate_rows(A, Z, r0, n, m, act, zero, one):
    """``A[r0:r0+n, :m] = g(Z[r0:r0+n, :m])`` for the activation code
    ``act``, with the primal kernels' formulas
    (:func:`fastdnn._kernels.activate_row`); returns ``sum(z - z)``, NaN if
    some z is not finite."""
    chk = zero
    for i in range(r0, r0 + n):
        zr = Z[i]
        for k in range(m):
            z = zr[k]
            chk += z - z
        activate_row(zr, A[i], 0, m, act)
    return chk


@kernel_jit(**_JIT)
def _output_rows(A, Z, r0, n, m, output, top, total, zero, one):
    """The output layer's ``A = output(Z)`` on rows ``r0:r0+n``: sigmoid
    or identity element-wise, softmax column-wise as the primal kernel's
    ``softmax_into`` (the column maximum subtracted, the sums taken row
    after row); ``top`` and ``total`` are m-vectors of scratch. Returns
    ``sum(z - z)`` as :func:`_activate_rows`."""
    if output == OUT_SIGMOID:
        return _activate_rows(A, Z, r0, n, m, np.int64(ACT_SIGMOID), zero,
                              one)
    if output != OUT_SOFTMAX:
        return _activate_rows(A, Z, r0, n, m, np.int64(ACT_IDENTITY), zero,
                              one)
    chk = zero
    z0 = Z[r0]
    for k in range(m):
        top[k] = z0[k]
        total[k] = zero
    for i in range(r0, r0 + n):
        zr = Z[i]
        for k in range(m):
            z = zr[k]
            chk += z - z
            if z > top[k]:
                top[k] = z
    # A non-finite z has already made chk NaN: the caller stops before
    # these values are used.
    for i in range(r0, r0 + n):
        zr = Z[i]
        a = A[i]
        for k in range(m):
            e = exp_fast(zr[k] - top[k])
            a[k] = e
            total[k] += e
    for i in range(r0, r0 + n):
        a = A[i]
        for k in range(m):
            a[k] = a[k] / total[k]
    return chk


@kernel_jit(**_JIT)
def _output_cost(A, r0, n, m, Y, output, eps, zero, one):
    """The cost of the output code ``output`` of ``AL = A[r0:r0+n, :m]``
    against Y (n, m), summed in float64: binary cross-entropy with AL
    clipped to ``[eps, 1 - eps]``, categorical cross-entropy with AL
    clipped to ``[eps, 1]`` (Y one-hot), or ``sum((AL - Y)**2) / (2m)``.
    Clipping is by comparisons (min/max would clip a NaN into a finite
    cost). A label 0 (or 1) zeroes one cross-entropy term exactly (the
    clipped logs are finite): its log is skipped, the same sums bit for
    bit."""
    if output == OUT_IDENTITY:
        s = 0.0
        for i in range(n):
            a = A[r0 + i]
            y = Y[i]
            for k in range(m):
                d = a[k] - y[k]
                s += d * d
        return (1.0 / (2 * m)) * s
    if output == OUT_SOFTMAX:
        s = 0.0
        for i in range(n):
            a = A[r0 + i]
            y = Y[i]
            for k in range(m):
                if y[k] != zero:
                    al = a[k]
                    if al < eps:
                        al = eps
                    elif al > one:
                        al = one
                    s += y[k] * math.log(al)
        return -(1.0 / m) * s
    AL = A[r0]
    y1 = Y[0]
    s1 = 0.0
    s2 = 0.0
    for k in range(m):
        al = AL[k]
        if al < eps:
            al = eps
        elif al > one - eps:
            al = one - eps
        y = y1[k]
        if y != zero:
            s1 += y * math.log(al)
        if y != one:
            s2 += (one - y) * math.log(one - al)
    return (1.0 / m) * (-s1 - s2)


@kernel_jit(**_JIT)
def _grad_row(t, zr, m, act):
    """``t = t * g'(z)`` along one row of m: the hidden activation's
    backward pass, the primal kernels' formulas
    (:func:`fastdnn._kernels.activation_grad_row`: the reference's
    operations, sigmoid and tanh recomputed from z as the reference's
    backward does)."""
    activation_grad_row(t, zr, t, 0, m, act)


@kernel_jit(**_JIT)
def run(Z1, dZ1, S, K, dims, acts, output, Wf, woff, bf, boff, A, Z, D,
        roff, Y, lr, inv_m, c, zero, one, eps, n, costs, parallel):
    """``n`` iterations: forward, cost, backward, update. Returns :data:`OK`
    or ``KINDS i + kind`` (:data:`BAD_COST`, :data:`BAD_Z`) for the
    iteration ``i`` (0-based, this call) that stopped it: nothing of
    iteration ``i`` is applied then.

    ``dims`` holds the layers' widths, ``acts`` the L-1 hidden layers'
    activation codes and ``output`` the output code; Y is (n_L, m), one-hot
    for softmax. ``A``, ``Z``, ``D`` (activations, pre-activations,
    dZ / dA) hold the layers' ``(n_l, m)`` blocks one under the other,
    layer ``q + 1`` from row ``roff[q]``; every inner loop runs over the m
    contiguous columns of one row view. With one layer (``dims = [n_L]``)
    layer 1 is the output layer and its dZ is dZ1. The output gradient is
    ``dZ_L = AL - Y`` for every output (the reference's training loop)."""
    L = dims.shape[0]
    n1 = dims[0]
    nL = dims[L - 1]
    m = Y.shape[1]
    single = L == 1
    top = np.empty(m, dtype=A.dtype)
    total = np.empty(m, dtype=A.dtype)
    for it in range(n):
        # ---- forward: A1 = g(Z1), checking that Z1 is finite
        if single:
            chk = _output_rows(A, Z1, np.int64(0), n1, m, output, top,
                               total, zero, one)
        else:
            chk = _activate_rows(A, Z1, np.int64(0), n1, m, acts[0], zero,
                                 one)
        if chk != zero:
            return KINDS * it + BAD_Z
        # ---- layers 2..L: Z = W A_prev + b, then g or the output
        for q in range(1, L):
            nout = dims[q]
            nin = dims[q - 1]
            for i in range(nout):
                zr = Z[roff[q] + i]
                _combine_rows(zr, Wf, woff[q] + i * nin, 1, A, roff[q - 1],
                              nin, A.shape[1])
                b = bf[boff[q] + i]
                for k in range(m):
                    zr[k] += b
            if q == L - 1:
                chk = _output_rows(A, Z, roff[q], nout, m, output, top,
                                   total, zero, one)
            else:
                chk = _activate_rows(A, Z, roff[q], nout, m, acts[q], zero,
                                     one)
            if chk != zero:
                return KINDS * it + BAD_Z
        # ---- cost
        cost = _output_cost(A, roff[L - 1], nL, m, Y, output, eps, zero,
                            one)
        costs[it] = cost
        if not math.isfinite(cost):
            return KINDS * it + BAD_COST
        # ---- dZL = AL - Y
        for i in range(nL):
            al = A[roff[L - 1] + i]
            y = Y[i]
            if single:
                dL = dZ1[i]
            else:
                dL = D[roff[L - 1] + i]
            for k in range(m):
                dL[k] = al[k] - y[k]
        # ---- backward through layers L..2, updating W_l, b_l in place
        # after dA_{l-1} has used the old W_l
        for q in range(L - 1, 0, -1):
            nout = dims[q]
            nin = dims[q - 1]
            act = acts[q - 1]
            # dA_prev = W^T dZ, then g' of the layer below
            for j in range(nin):
                if q > 1:
                    t = D[roff[q - 1] + j]
                    zp = Z[roff[q - 1] + j]
                else:
                    t = dZ1[j]
                    zp = Z1[j]
                _combine_rows(t, Wf, woff[q] + j, nin, D, roff[q], nout,
                              D.shape[1])
                _grad_row(t, zp, m, act)
            # W -= lr * (dZ A_prev^T / m), b -= lr * (sum dZ / m)
            for i in range(nout):
                d = D[roff[q] + i]
                for j in range(nin):
                    ap = A[roff[q - 1] + j]
                    s = zero
                    for k in range(m):
                        s += d[k] * ap[k]
                    Wf[woff[q] + i * nin + j] -= lr * (inv_m * s)
                s = zero
                for k in range(m):
                    s += d[k]
                bf[boff[q] + i] -= lr * (inv_m * s)
        # ---- first layer, dual form: S += dZ1, Z1 -= (lr/m) dZ1 K
        for i in range(n1):
            si = S[i]
            di = dZ1[i]
            for k in range(m):
                si[k] += di[k]
        if parallel:
            z1_update_parallel(Z1, dZ1, K, c)
        else:
            z1_update(Z1, dZ1, K, c)
    return OK
