"""numba kernels of the jit backend (private).

Every kernel takes validated, C-contiguous float32 or float64 arrays of one
dtype and writes into output arrays allocated by its caller (the public
wrappers of :mod:`fastdnn.jit` or the solver of :mod:`fastdnn._primal`);
nothing here checks its input. Constants are built with ``dtype.type(...)``
so that float32 arrays are computed in float32 throughout (a bare ``1.0``
would promote them to float64).

Activations are passed as small integers (:data:`ACT_IDENTITY`,
:data:`ACT_RELU`, :data:`ACT_SIGMOID`, :data:`ACT_TANH`,
:data:`ACT_LEAKY_RELU`), so that one compiled kernel serves every layer;
outputs likewise (:data:`OUT_SIGMOID`, :data:`OUT_SOFTMAX`,
:data:`OUT_IDENTITY`). The output-layer kernels live in
:mod:`fastdnn._kernels_output`, re-exported here.

A jitted function here calls only jitted functions of this file: numba's
on-disk cache is invalidated by a change of the file that defines a kernel,
not of the files its callees come from (a kernel compiled with an older
``_activate`` from another file would be reused after that file changed).
The primal solver's compiled loop (:mod:`fastdnn._primal_kernels`) calls
the layer, output and update kernels of this file: after changing them,
clear numba's cache of that module too.

Parallel kernels split their work into blocks whose bounds depend only on
the shapes: row blocks of ``dW`` and ``dA_prev`` (independent outputs,
dealt out to the threads in contiguous runs), and a fixed number of chunks
of the n_{l-1} axis for ``Z = W A``, whose partial sums are added in a fixed
order. Every output element is computed by the
same instructions whichever thread runs its block, so results are identical
for any thread count.
"""
import numpy as np

from . import _numba_config as cfg

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba import prange  # noqa: E402
from numba.core import cgutils, types  # noqa: E402
from numba.extending import intrinsic  # noqa: E402
from llvmlite import ir  # noqa: E402

from ._kernels_output import (  # noqa: E402,F401  (re-exported)
    OUT_ALL, OUT_BY_NAME, OUT_IDENTITY, OUT_SIGMOID, OUT_SOFTMAX, cost,
    output_cost, output_dZ_into, softmax_cost, softmax_into, squared_cost)

ACT_IDENTITY = 0
#: The linear "activation" under its older name.
ACT_NONE = ACT_IDENTITY
ACT_RELU = 1
ACT_SIGMOID = 2
ACT_TANH = 3
ACT_LEAKY_RELU = 4

#: Every activation code, for warm-up loops and tests.
ACT_ALL = (ACT_IDENTITY, ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_LEAKY_RELU)

#: Activation codes by the reference's names (``fastdnn.jit.ACT_CODES``).
ACT_BY_NAME = {"sigmoid": ACT_SIGMOID, "relu": ACT_RELU, "tanh": ACT_TANH,
               "leaky_relu": ACT_LEAKY_RELU, "identity": ACT_IDENTITY}

#: Slope of leaky ReLU for negative inputs, as the reference's ``0.01 * Z``
#: (cast to the array's dtype, as numpy casts a Python float).
LEAKY_SLOPE = 0.01

#: Forward kernel blocking: columns of Z per block (the accumulators,
#: n_l x 128, stay in L1), rows of A_prev per slab (64 x m stays in L2) and
#: the number of chunks of the n_{l-1} axis that threads share (at most).
FORWARD_COLS = 128
FORWARD_ROWS = 64
FORWARD_CHUNKS = 4

#: Rows of A_prev (columns of dW) per backward block.
BACKWARD_ROWS = 64

_serial = numba.njit(fastmath=cfg.FASTMATH_ELEMENTWISE, **cfg.JIT_KW)
_serial_sum = numba.njit(fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
_exact = numba.njit(**cfg.JIT_KW)
_parallel = numba.njit(fastmath=cfg.FASTMATH_SUM, **cfg.PARALLEL_JIT_KW)


# ---------------------------------------------------------------- prefetch

def _prefetch_python(flat, p):
    # NUMBA_DISABLE_JIT=1: a hint only, nothing to do.
    pass


@intrinsic
def _prefetch_jit(typingctx, flat, p):
    # LLVM's prefetch hint (read, keep in all cache levels, data) for the
    # cache line holding flat[p]. Unlike a load, it does not hold up the
    # instructions after it while the line is on its way from memory.
    sig = types.void(flat, p)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(
            context, builder, args[0]).data
        ptr = builder.bitcast(builder.gep(data, [args[1]]),
                              ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return sig, codegen


_prefetch = _prefetch_python if numba.config.DISABLE_JIT else _prefetch_jit

#: Bytes per cache line (x86-64, and the unit of the touch and prefetch
#: loops below).
CACHE_LINE_BYTES = 64


@_exact
def _line_elements(a):
    """Elements of ``a`` per cache line."""
    return max(1, CACHE_LINE_BYTES // a.itemsize)


# --------------------------------------------------------------- activations

@_exact
def _sigmoid_scalar(z):
    # exp of a non-positive number only: no overflow for any finite z; the
    # same formula, branch for branch, as the reference's _sigmoid.
    one = type(z)(1)
    e = np.exp(-abs(z))
    if z >= 0:
        return one / (one + e)
    return e / (one + e)


@_exact
def _sigmoid_derivative(dA, z):
    s = _sigmoid_scalar(z)
    one = type(z)(1)
    return dA * s * (one - s)


@_exact
def _activate(z, act):
    """``g(z)`` for the activation code ``act``."""
    if act == ACT_RELU:
        # np.maximum(0, z) of the reference: NaN stays NaN.
        return type(z)(0) if z < 0 else z
    if act == ACT_SIGMOID:
        return _sigmoid_scalar(z)
    if act == ACT_TANH:
        return np.tanh(z)
    if act == ACT_LEAKY_RELU:
        # np.where(Z > 0, Z, 0.01 * Z): a NaN z takes the second branch,
        # and stays NaN there.
        return z if z > 0 else type(z)(LEAKY_SLOPE) * z
    return z


@_exact
def _activation_grad(dA, z, act):
    """``dA * g'(z)`` for the activation code ``act``, with the reference's
    operation order (so the same roundings)."""
    if act == ACT_RELU:
        # The reference zeroes dA where z <= 0 (a NaN z keeps dA).
        return type(dA)(0) if z <= 0 else dA
    if act == ACT_SIGMOID:
        return _sigmoid_derivative(dA, z)
    if act == ACT_TANH:
        # dA * (1 - A**2), A = tanh(Z): recomputed from Z, as the
        # reference's backward receives only Z.
        a = np.tanh(z)
        return dA * (type(dA)(1) - a * a)
    if act == ACT_LEAKY_RELU:
        return dA if z > 0 else type(dA)(LEAKY_SLOPE) * dA
    return dA


@_exact
def activation_into(Z, act, out):
    """``out = g(Z)`` element-wise, Z and out (n_l, m)."""
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = _activate(Z[i, j], act)


@_exact
def activation_backward_into(dA, Z, act, out):
    """``out = dA * g'(Z)`` element-wise, all (n_l, m)."""
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = _activation_grad(dA[i, j], Z[i, j], act)


# ---------------------------------------------------------------- update

@_exact
def update_into(P, G, lr, out):
    """``out = P - lr * G`` (no fused multiply-add: the reference's two
    roundings, bit for bit)."""
    n, m = P.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = P[i, j] - lr * G[i, j]


# ---------------------------------------------------------------- forward

@_serial
def _forward_partial(W, A, acc, k0, k1):
    # acc = W[:, k0:k1] A[k0:k1] as row updates ("axpy") along the
    # contiguous m axis, four rows of A at a time. Rows of A come in slabs of
    # FORWARD_ROWS (which stay in L2) and the columns in blocks of
    # FORWARD_COLS (whose accumulators stay in L1), so A is read from memory
    # once. Each column gets the same additions in the same order whatever
    # the blocking, and no reassociation is needed (or allowed) here.
    n = W.shape[0]
    m = A.shape[1]
    zero = acc.dtype.type(0)
    for i in range(n):
        for j in range(m):
            acc[i, j] = zero
    for kb in range(k0, k1, FORWARD_ROWS):
        ke = min(k1, kb + FORWARD_ROWS)
        for j0 in range(0, m, FORWARD_COLS):
            j1 = min(m, j0 + FORWARD_COLS)
            width = j1 - j0
            k = kb
            while k + 4 <= ke:
                a0 = A[k, j0:j1]
                a1 = A[k + 1, j0:j1]
                a2 = A[k + 2, j0:j1]
                a3 = A[k + 3, j0:j1]
                for i in range(n):
                    w0 = W[i, k]
                    w1 = W[i, k + 1]
                    w2 = W[i, k + 2]
                    w3 = W[i, k + 3]
                    row = acc[i, j0:j1]
                    for j in range(width):
                        row[j] += (w0 * a0[j] + w1 * a1[j]) + (
                            w2 * a2[j] + w3 * a3[j])
                k += 4
            while k < ke:
                a0 = A[k, j0:j1]
                for i in range(n):
                    w0 = W[i, k]
                    row = acc[i, j0:j1]
                    for j in range(width):
                        row[j] += w0 * a0[j]
                k += 1


@_exact
def _n_chunks(K):
    # A fixed number of chunks of the n_{l-1} axis, from K alone (never
    # from the thread count): their partial sums are added in a fixed order.
    return max(1, min(FORWARD_CHUNKS, K // 1024))


@_serial
def _forward_finish(parts, b, act, Z, Aout):
    # parts may be wider than Z (padding of the transposed kernel).
    nck = parts.shape[0]
    n, m = Z.shape
    for i in range(n):
        bi = b[i, 0]
        for j in range(m):
            z = parts[0, i, j]
            for c in range(1, nck):
                z += parts[c, i, j]
            z += bi
            Z[i, j] = z
            Aout[i, j] = _activate(z, act)


# ------------------------------------------------- forward, transposed input

#: Slab of the n_{l-1} axis per pass of the transposed forward kernel: the
#: slab of W (n_l x 3072) and three rows of A_prev^T stay in L2.
FORWARD_T_SLAB = 3072


@numba.njit(inline="always", fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
def _dot_4x3(W, AT, acc, i, j, k0, k1, scale):
    # acc[i:i+4, j:j+3] += scale * (W[i:i+4, k0:k1] . AT[j:j+3, k0:k1]^T):
    # twelve independent sums along the contiguous axis, which LLVM keeps in
    # twelve SIMD registers (7 loads for 12 multiply-adds; a 4x4 block
    # spills). scale is 1 here (exact) and -lr/m in the gram solver's Z1
    # update. Rows of AT past its end are read as its last row, so that a
    # last block of 1 or 2 columns runs as a full block; its extra columns
    # land in the padding of acc, which is 3 * ceil(m / 3) wide.
    last = AT.shape[0] - 1
    w0 = W[i, k0:k1]
    w1 = W[i + 1, k0:k1]
    w2 = W[i + 2, k0:k1]
    w3 = W[i + 3, k0:k1]
    a0 = AT[j, k0:k1]
    a1 = AT[min(j + 1, last), k0:k1]
    a2 = AT[min(j + 2, last), k0:k1]
    s00 = s01 = s02 = s10 = s11 = s12 = acc.dtype.type(0)
    s20 = s21 = s22 = s30 = s31 = s32 = acc.dtype.type(0)
    for k in range(k1 - k0):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        y = w0[k]
        s00 += y * x0
        s01 += y * x1
        s02 += y * x2
        y = w1[k]
        s10 += y * x0
        s11 += y * x1
        s12 += y * x2
        y = w2[k]
        s20 += y * x0
        s21 += y * x1
        s22 += y * x2
        y = w3[k]
        s30 += y * x0
        s31 += y * x1
        s32 += y * x2
    acc[i, j] += scale * s00
    acc[i, j + 1] += scale * s01
    acc[i, j + 2] += scale * s02
    acc[i + 1, j] += scale * s10
    acc[i + 1, j + 1] += scale * s11
    acc[i + 1, j + 2] += scale * s12
    acc[i + 2, j] += scale * s20
    acc[i + 2, j + 1] += scale * s21
    acc[i + 2, j + 2] += scale * s22
    acc[i + 3, j] += scale * s30
    acc[i + 3, j + 1] += scale * s31
    acc[i + 3, j + 2] += scale * s32


@_serial_sum
def _dot_1x3(W, AT, acc, i, j, k0, k1):
    # The rows of W left over by the 4x3 blocks (AT's rows clipped as in
    # _dot_4x3).
    last = AT.shape[0] - 1
    w0 = W[i, k0:k1]
    a0 = AT[j, k0:k1]
    a1 = AT[min(j + 1, last), k0:k1]
    a2 = AT[min(j + 2, last), k0:k1]
    s0 = s1 = s2 = acc.dtype.type(0)
    for k in range(k1 - k0):
        y = w0[k]
        s0 += y * a0[k]
        s1 += y * a1[k]
        s2 += y * a2[k]
    acc[i, j] += s0
    acc[i, j + 1] += s1
    acc[i, j + 2] += s2


@_exact
def _padded_width(m):
    """Width of the partial-sum buffers of the transposed forward kernel:
    m rounded up to whole 3-column blocks."""
    return m + (-m) % 3


@_serial_sum
def _forward_t_partial(W, AT, acc, k0, k1):
    # acc[:, :m] = W[:, k0:k1] AT[:, k0:k1]^T as dot products along the
    # contiguous n_{l-1} axis of both operands (A_prev^T is what makes that
    # axis contiguous); acc is _padded_width(m) wide. Each 3-row block of AT
    # is read from memory once per slab and then serves every row block of
    # W from L2. The blocking depends on the shapes only, so each output is
    # summed the same way whichever thread computes it.
    n = W.shape[0]
    mp = acc.shape[1]
    zero = acc.dtype.type(0)
    one = acc.dtype.type(1)
    for i in range(n):
        for j in range(mp):
            acc[i, j] = zero
    for kb in range(k0, k1, FORWARD_T_SLAB):
        ke = min(k1, kb + FORWARD_T_SLAB)
        for j in range(0, mp, 3):
            i = 0
            while i + 4 <= n:
                _dot_4x3(W, AT, acc, i, j, kb, ke, one)
                i += 4
            while i < n:
                _dot_1x3(W, AT, acc, i, j, kb, ke)
                i += 1


@_serial
def _forward_chunk(W, A, part, k0, k1, transposed):
    if transposed:
        _forward_t_partial(W, A, part, k0, k1)
    else:
        _forward_partial(W, A, part, k0, k1)


@_serial
def forward_serial(W, A, b, act, Z, Aout, transposed):
    """``Z = W A_prev + b``, ``Aout = g(Z)``; W (n_l, n_{l-1}), b (n_l, 1),
    Z and Aout (n_l, m).

    ``A`` is A_prev (n_{l-1}, m), or, when ``transposed``, A_prev^T (m,
    n_{l-1}): the C-contiguous side of a Fortran-ordered A_prev such as the
    course's ``X = images.reshape(m, -1).T``, summed along its contiguous
    axis by the faster kernel.
    """
    n, K = W.shape
    m = A.shape[0] if transposed else A.shape[1]
    nck = _n_chunks(K)
    step = (K + nck - 1) // nck
    parts = np.empty((nck, n, _padded_width(m)), dtype=Z.dtype)
    for c in range(nck):
        _forward_chunk(W, A, parts[c], c * step, min(K, (c + 1) * step),
                       transposed)
    _forward_finish(parts, b, act, Z, Aout)


@_parallel
def forward_parallel(W, A, b, act, Z, Aout, transposed):
    """:func:`forward_serial` with the chunks of the n_{l-1} axis spread
    over threads (each a contiguous part of A_prev)."""
    n, K = W.shape
    m = A.shape[0] if transposed else A.shape[1]
    nck = _n_chunks(K)
    step = (K + nck - 1) // nck
    parts = np.empty((nck, n, _padded_width(m)), dtype=Z.dtype)
    for c in prange(nck):
        _forward_chunk(W, A, parts[c], c * step, min(K, (c + 1) * step),
                       transposed)
    _forward_finish(parts, b, act, Z, Aout)


# ---------------------------------------------------------------- backward

@_serial_sum
def _dW_block(dZ, A_prev, dW, k0, k1, p0, p1):
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
    n, m = dZ.shape
    inv_m = dZ.dtype.type(1.0 / m)
    zero = dZ.dtype.type(0)
    flat = A_prev.reshape(-1)
    line = _line_elements(A_prev)
    slots = ((k1 - k0) // 4) * (n // 2)
    per_slot = 0
    if slots > 0:
        per_slot = ((p1 - p0 + line - 1) // line + slots - 1) // slots
    p = p0
    k = k0
    while k + 4 <= k1:
        a0 = A_prev[k]
        a1 = A_prev[k + 1]
        a2 = A_prev[k + 2]
        a3 = A_prev[k + 3]
        i = 0
        while i + 2 <= n:
            for _ in range(per_slot):
                if p < p1:
                    _prefetch(flat, p)
                    p += line
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


@_serial_sum
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


@_serial
def _dA_prev_block(W, dZ, dA_prev, k0, k1):
    # dA_prev[k0:k1] = W[:, k0:k1].T dZ as row updates along m, i in order.
    n, m = dZ.shape
    zero = dZ.dtype.type(0)
    for k in range(k0, k1):
        row = dA_prev[k]
        for j in range(m):
            row[j] = zero
        for i in range(n):
            w = W[i, k]
            d = dZ[i]
            for j in range(m):
                row[j] += w * d[j]


@_serial_sum
def _dZ_db(dA, Z, act, dZ, db):
    n, m = Z.shape
    inv_m = Z.dtype.type(1.0 / m)
    zero = Z.dtype.type(0)
    for i in range(n):
        s = zero
        for j in range(m):
            d = _activation_grad(dA[i, j], Z[i, j], act)
            dZ[i, j] = d
            s += d
        db[i, 0] = inv_m * s


#: Rows of A_prev^T ahead whose segments _pack_rows prefetches.
PACK_PREFETCH_ROWS = 4


@_serial
def _pack_rows(AT, k0, k1):
    # A_prev[k0:k1] as a C-ordered block, read from A_prev^T (m, n_{l-1})
    # one row segment AT[j, k0:k1] at a time (a contiguous read; about 25%
    # faster than gathering columns of a few rows at once). Each row of
    # A_prev^T lies n_{l-1} elements from the last, in another page, where
    # no hardware prefetcher follows: the segment PACK_PREFETCH_ROWS rows
    # ahead is prefetched (farther ahead, the segments of the same columns
    # of different rows fall into the same cache sets and evict each other).
    # The dW block then runs on exactly the values, in exactly the order, of
    # a C-ordered A_prev: both layouts give the same dW.
    m, K = AT.shape
    flat = AT.reshape(-1)
    line = _line_elements(AT)
    buf = np.empty((k1 - k0, m), dtype=AT.dtype)
    for j in range(m):
        ahead = j + PACK_PREFETCH_ROWS
        if ahead < m:
            for c in range(k0, k1, line):
                _prefetch(flat, ahead * K + c)
        src = AT[j, k0:k1]
        for k in range(k1 - k0):
            buf[k, j] = src[k]
    return buf


@_serial_sum
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
def _backward_blocks(dZ, A_prev, W, need_dA_prev, dW, dA_prev, b0, b1,
                     transposed):
    # Row blocks b0:b1 of A_prev (columns of dW, rows of dA_prev), in order,
    # on one thread. A C-ordered A_prev: the first block is touched (see
    # _touch_rows), and each block's dW prefetches the next one. A_prev^T is
    # packed block by block instead, which reads it from memory just as
    # well. Returns the sum of the touched values (which keeps the touch
    # loads alive) and a flag that is NaN if some dW value is not finite.
    K = W.shape[1]
    m = dZ.shape[1]
    touched = A_prev.dtype.type(0)
    flag = dW.dtype.type(0)
    for blk in range(b0, b1):
        k0 = blk * BACKWARD_ROWS
        k1 = min(K, k0 + BACKWARD_ROWS)
        if transposed:
            _dW_block(dZ, _pack_rows(A_prev, k0, k1), dW[:, k0:k1], 0,
                      k1 - k0, 0, 0)
        else:
            if blk == b0:
                touched += _touch_rows(A_prev, k0, k1)
            k2 = min(K, k1 + BACKWARD_ROWS) if blk + 1 < b1 else k1
            _dW_block(dZ, A_prev, dW, k0, k1, k1 * m, k2 * m)
        flag += _nonfinite_flag(dW, k0, k1)
        if need_dA_prev:
            _dA_prev_block(W, dZ, dA_prev, k0, k1)
    return touched, flag


@_exact
def _n_backward_blocks(K):
    return (K + BACKWARD_ROWS - 1) // BACKWARD_ROWS


@_serial
def backward_serial(dA, Z, A_prev, W, act, need_dA_prev, dZ, dW, db,
                    dA_prev, transposed):
    """One layer's backward pass.

    ``dZ = dA * g'(Z)``, ``dW = dZ A_prev^T / m``, ``db = rowsum(dZ) / m``
    and, when ``need_dA_prev``, ``dA_prev = W^T dZ``. dA, Z, dZ (n_l, m);
    A_prev and dA_prev (n_{l-1}, m); W and dW (n_l, n_{l-1}); db (n_l, 1).
    When ``transposed``, ``A_prev`` is passed as A_prev^T (m, n_{l-1}), the
    C-contiguous side of a Fortran-ordered A_prev such as the course's X;
    dA_prev is (n_{l-1}, m) C-ordered either way.

    Returns whether every value of dW is finite, and a value to ignore.
    """
    _dZ_db(dA, Z, act, dZ, db)
    touched, flag = _backward_blocks(dZ, A_prev, W, need_dA_prev, dW,
                                     dA_prev, 0,
                                     _n_backward_blocks(W.shape[1]),
                                     transposed)
    return flag == 0, touched


@_parallel
def backward_parallel(dA, Z, A_prev, W, act, need_dA_prev, dZ, dW, db,
                      dA_prev, transposed, nthreads):
    """:func:`backward_serial` with the row blocks of A_prev dealt out in
    ``nthreads`` contiguous runs, one per thread (so that each block
    prefetches the one its thread computes next). Each block is computed the
    same way whichever run it falls in."""
    _dZ_db(dA, Z, act, dZ, db)
    nblocks = _n_backward_blocks(W.shape[1])
    nruns = max(1, min(nblocks, nthreads))
    touched = np.empty(nruns, dtype=W.dtype)
    flags = np.empty(nruns, dtype=W.dtype)
    for r in prange(nruns):
        touched[r], flags[r] = _backward_blocks(
            dZ, A_prev, W, need_dA_prev, dW, dA_prev, r * nblocks // nruns,
            (r + 1) * nblocks // nruns, transposed)
    return flags.sum() == 0, touched.sum()


# ---------------------------------------------------------------- dispatch

def forward(W, A, b, act, Z, Aout, transposed=False):
    """Run :func:`forward_parallel` on big layers, else the serial kernel
    (identical results). ``transposed``: A is A_prev^T (see
    :func:`forward_serial`)."""
    m = A.shape[0] if transposed else A.shape[1]
    if W.size * m >= cfg.PARALLEL_MIN_WORK and cfg.parallel_ok():
        forward_parallel(W, A, b, act, Z, Aout, transposed)
    else:
        forward_serial(W, A, b, act, Z, Aout, transposed)


def backward(dA, Z, A_prev, W, act, need_dA_prev, dZ, dW, db, dA_prev,
             transposed=False):
    """Run :func:`backward_parallel` on big layers, else the serial kernel
    (identical results). ``transposed``: A_prev is passed as A_prev^T (see
    :func:`backward_serial`). Returns whether every value of dW is
    finite."""
    if (W.size * dZ.shape[1] >= cfg.PARALLEL_MIN_WORK
            and cfg.parallel_ok()):
        finite, _ = backward_parallel(dA, Z, A_prev, W, act, need_dA_prev,
                                      dZ, dW, db, dA_prev, transposed,
                                      numba.get_num_threads())
    else:
        finite, _ = backward_serial(dA, Z, A_prev, W, act, need_dA_prev, dZ,
                                    dW, db, dA_prev, transposed)
    return bool(finite)


def warmup(dtypes=(np.float32, np.float64)):
    """Compile every kernel (serial and parallel) for ``dtypes``."""
    for dtype in dtypes:
        dt = np.dtype(dtype)
        one = np.ones((2, 3), dt)
        W = np.ones((2, 2), dt)
        b = np.zeros((2, 1), dt)
        out = np.empty((2, 3), dt)
        out2 = np.empty((2, 3), dt)
        row = np.full((1, 3), 0.5, dt)
        for act in ACT_ALL:
            activation_into(one, act, out)
            activation_backward_into(one, one, act, out)
        for kernel in (forward_serial, forward_parallel):
            kernel(W, one, b, ACT_RELU, out, out2, False)
        dW = np.empty((2, 2), dt)
        for transposed in (False, True):
            A_prev = one.T.copy() if transposed else one
            args = (one, one, A_prev, W, ACT_RELU, True, out, dW, b.copy(),
                    out2, transposed)
            backward_serial(*args)
            backward_parallel(*args, 2)
        eps = np.finfo(dt).eps
        for output in OUT_ALL:
            output_cost(one, one, output, dt.type(eps))
        cost(row, row, dt.type(eps), dt.type(1) - dt.type(eps))
        softmax_cost(one, one, dt.type(eps))
        squared_cost(one, one)
        output_dZ_into(one, one, out)
        softmax_into(one, out)
        update_into(W, W, dt.type(0.1), np.empty_like(W))
