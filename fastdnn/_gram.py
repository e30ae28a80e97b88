"""The dual-form ("gram") solver for full-batch gradient descent.

For full-batch, plain gradient descent the first layer sees the inputs only
through ``Z1 = W1 X + b1``, and every update adds ``-(lr/m) dZ1 X^T`` to
``W1`` and ``-(lr/m) dZ1 1`` to ``b1``. So

    Z1 <- Z1 - (lr/m) dZ1 (G + 1 1^T),    G = X^T X   (m x m, computed once)

and ``W1``, ``b1`` never need to exist during training: the solver keeps
``S``, the sum of every iteration's ``dZ1``, and rebuilds

    W1 = W1_0 - (lr/m) S X^T,    b1 = b1_0 - (lr/m) S 1

when :meth:`GramSolver.parameters` is called. One iteration costs about
``n_1 m^2`` multiply-adds for the first layer instead of the primal form's
``2 n_1 n_x m``; with the cat images (``n_x = 12288``, ``m = 209``) that is
~120 times less work. Layers 2..L are small and are trained as usual, in the
same compiled loop; the Z1 update runs on two threads in fixed column
chunks (each block of Z1 computed by the same code whichever thread runs
it, so the results are those of one thread, bit for bit).

Limits, on purpose:

- full-batch, plain gradient descent only (no mini-batches, momentum,
  regularisation or learning-rate schedules: each would break the identity);
- extra memory is O(m^2): ``K = X^T X + 1 1^T`` is ``m x m`` in the training
  dtype (350 kB for m = 209, 800 MB for m = 10000 in float64), on top of the
  O(n_1 m) state. :func:`gram_pays` says when the trade is worth it.

The numbers are those of :func:`fastdnn.reference.L_layer_model` up to
rounding: the same course formulas (``dAL = -(Y/AL - (1-Y)/(1-AL))``, the
sigmoid derivative ``dAL * s * (1 - s)``, the cost with AL clipped to
``[eps, 1 - eps]``) evaluated in the training dtype.
"""
import contextlib
import math

import numpy as np

from . import _numba_config as cfg
from . import _validation as v
from ._kernels import _dot_4x3

from numba import njit, prange  # noqa: E402 (after _numba_config)

# The blocked dot products of dZ1 K and every row reduction need
# reassociation to vectorise (cfg.FASTMATH_SUM: reassoc + contract, never
# nnan/ninf, so a NaN or an infinity is seen and reported).
_JIT = dict(fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
_PARALLEL_JIT = dict(fastmath=cfg.FASTMATH_SUM, **cfg.PARALLEL_JIT_KW)

#: Rows of Z1 and columns of K handled by one register block of the
#: ``dZ1 K`` product; the arrays are padded to multiples of these with zeros.
_BLOCK_ROWS = 4
_BLOCK_COLS = 3
#: Up to this order K (m x m) stays in a 512 kB L2 cache in float64.
_SMALL_M = 256
#: Column chunks of the parallel Z1 update: fixed, never the thread count.
_Z1_CHUNKS = 2

#: Status codes of the compiled loop (``-1``: every iteration done).
_OK = -1


def gram_pays(n_x, m, layer_dims=None):
    """Whether the dual form is expected to train faster than the primal one.

    Per iteration the primal form spends ``2 n_1 n_x m`` multiply-adds on the
    first layer (forward ``W1 X`` and ``dW1 = dZ1 X^T``; ``dA0`` is never
    needed), the dual form ``n_1 m^2`` (``dZ1 K``) plus a one-time
    ``n_x m^2 / 2`` for ``X^T X``: by flops the dual form pays while
    ``m < 2 n_x``. Measured per iteration (layers [n_x, 20, 7, 5, 1], 2-core
    Zen 3): m = 1000, n_x = 256 / 512 / 1024: primal 1.4 / 1.95 / 4.7 ms,
    gram 2.0 / 1.6 / 1.7 ms; m = 4000, n_x = 2048: 26 ms both. The
    break-even is where the flops put it, so the rule is ``m <= 2 n_x``
    (those gram times were measured with its Z1 update on one core; on two
    it is faster still, which only moves the break-even in its favour), and
    it refuses an m whose K would take more than 2 GiB in float64.

    Parameters
    ----------
    n_x : int
        Input features.
    m : int
        Training examples.
    layer_dims : sequence of int, optional
        ``[n_x, n_1, ..., n_L]``; unused by the rule (``n_1`` cancels out),
        accepted so that callers can pass what they have.

    Returns
    -------
    bool
    """
    n_x = v.check_int(n_x, "n_x", 1)
    m = v.check_int(m, "m", 1)
    if m * m * 8 > _MAX_K_BYTES:
        return False
    return m <= 2 * n_x


#: The largest K (in float64 bytes) that :func:`gram_pays` accepts.
_MAX_K_BYTES = 2 * 1024 ** 3


# ------------------------------------------------------------ compiled loop

@njit(**_JIT)
def _z1_update_cols(Z1, dZ1, K, c, j0, j1):
    """``Z1[:, j0:j1] -= c * dZ1 @ K[:, j0:j1]`` on padded arrays (rows a
    multiple of 4, K's order and j0, j1 multiples of 3), in the 4 x 3
    register blocks of the forward kernel (K is symmetric: row j of K is
    column j). Each block of Z1 is one _dot_4x3 call, whatever the order of
    the calls, so any split of the columns gives the same Z1 bit for bit."""
    n1p, mp = Z1.shape
    if mp <= _SMALL_M:
        # K fits in L2: keep four rows of dZ1 in L1 and sweep K.
        for i in range(0, n1p, _BLOCK_ROWS):
            for j in range(j0, j1, _BLOCK_COLS):
                _dot_4x3(dZ1, K, Z1, i, j, 0, mp, -c)
    else:
        # K does not fit: read each three rows of K once and reuse them for
        # every block of dZ1, so that K is streamed from memory once per
        # iteration instead of n_1 / 4 times.
        for j in range(j0, j1, _BLOCK_COLS):
            for i in range(0, n1p, _BLOCK_ROWS):
                _dot_4x3(dZ1, K, Z1, i, j, 0, mp, -c)


@njit(**_JIT)
def _z1_update(Z1, dZ1, K, c):
    """``Z1 -= c * dZ1 @ K`` (see :func:`_z1_update_cols`)."""
    _z1_update_cols(Z1, dZ1, K, c, 0, Z1.shape[1])


@njit(**_PARALLEL_JIT)
def _z1_update_parallel(Z1, dZ1, K, c):
    """:func:`_z1_update` with the columns in _Z1_CHUNKS chunks over
    threads; the same Z1 bit for bit."""
    nb = Z1.shape[1] // _BLOCK_COLS
    for t in prange(_Z1_CHUNKS):
        _z1_update_cols(Z1, dZ1, K, c,
                        nb * t // _Z1_CHUNKS * _BLOCK_COLS,
                        nb * (t + 1) // _Z1_CHUNKS * _BLOCK_COLS)


@njit(**_JIT)
def _combine_rows(out, Wf, w0, w_step, R, r0, count):
    """``out[:m] = sum_s Wf[w0 + s w_step] R[r0 + s]`` over ``s < count``,
    m being the width of R's rows: a small layer's ``W A_prev`` row
    (``w_step`` 1) or ``W^T dZ`` row (``w_step`` n_in). ``out`` may be
    wider (a row of the padded dZ1), and its padding is left as it is.
    Four rows of R per pass over ``out``: one load and store of ``out`` per
    four multiply-adds instead of per one (~4 us of an iteration's ~55 at
    the cat shape)."""
    m = R.shape[1]
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


@njit(**_JIT)
def _run(Z1, dZ1, S, K, dims, Wf, woff, bf, boff, A, Z, D, roff, Y,
         lr, inv_m, c, zero, one, eps, n, costs, parallel):
    """``n`` iterations: forward, cost, backward, update. Returns ``_OK``,
    or ``2 i`` if the cost of iteration ``i`` (0-based, this call) is not
    finite, ``2 i + 1`` if its dAL is not: nothing of iteration ``i`` is
    applied then, as in the reference, which raises there.

    ``A``, ``Z``, ``D`` (activations, pre-activations, dZ / dA) hold the
    layers' ``(n_l, m)`` blocks one under the other, layer ``q + 1`` from
    row ``roff[q]``; every inner loop runs over the m contiguous columns of
    one row view."""
    L = dims.shape[0]
    n1 = dims[0]
    m = Y.shape[0]
    for it in range(n):
        # ---- forward: A1 = relu(Z1)
        for i in range(n1):
            a = A[i]
            z1 = Z1[i]
            for k in range(m):
                z = z1[k]
                a[k] = z if z > zero else zero
        # ---- layers 2..L: Z = W A_prev + b, relu / sigmoid
        for q in range(1, L):
            nout = dims[q]
            nin = dims[q - 1]
            for i in range(nout):
                zr = Z[roff[q] + i]
                ar = A[roff[q] + i]
                _combine_rows(zr, Wf, woff[q] + i * nin, 1, A, roff[q - 1],
                              nin)
                b = bf[boff[q] + i]
                if q < L - 1:
                    for k in range(m):
                        z = zr[k] + b
                        zr[k] = z
                        ar[k] = z if z > zero else zero
                else:
                    for k in range(m):
                        z = zr[k] + b
                        zr[k] = z
                        e = math.exp(-abs(z))
                        ar[k] = one / (one + e) if z >= zero else \
                            e / (one + e)
        # ---- cost, AL clipped to [eps, 1 - eps]
        AL = A[roff[L - 1]]
        s1 = 0.0
        s2 = 0.0
        for k in range(m):
            al = min(max(AL[k], eps), one - eps)
            y = Y[k]
            # A 0/1 label zeroes one of the two terms exactly (the clipped
            # logs are finite): skip its log, same sums bit for bit.
            if y != zero:
                s1 += y * math.log(al)
            if y != one:
                s2 += (one - y) * math.log(one - al)
        cost = (1.0 / m) * (-s1 - s2)
        costs[it] = cost
        if not math.isfinite(cost):
            return 2 * it
        # ---- dZL = dAL * s * (1 - s), the course's dAL
        bad = False
        dL = D[roff[L - 1]]
        for k in range(m):
            al = AL[k]
            y = Y[k]
            pos = y / al if y != zero else zero
            neg = (one - y) / (one - al) if y != one else zero
            dA = -(pos - neg)
            bad |= not math.isfinite(dA)
            dL[k] = dA * al * (one - al)
        if bad:
            return 2 * it + 1
        # ---- backward through layers L..2, updating W_l, b_l in place
        # after dA_{l-1} has used the old W_l
        for q in range(L - 1, 0, -1):
            nout = dims[q]
            nin = dims[q - 1]
            # dA_prev = W^T dZ, then the relu mask of the layer below
            for j in range(nin):
                if q > 1:
                    t = D[roff[q - 1] + j]
                    zp = Z[roff[q - 1] + j]
                else:
                    t = dZ1[j]
                    zp = Z1[j]
                _combine_rows(t, Wf, woff[q] + j, nin, D, roff[q], nout)
                for k in range(m):
                    if zp[k] <= zero:
                        t[k] = zero
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
            _z1_update_parallel(Z1, dZ1, K, c)
        else:
            _z1_update(Z1, dZ1, K, c)
    return _OK


# ------------------------------------------------------------ the solver

_BLAS = []


def _one_blas_thread():
    """Run the solver's few BLAS products (``X^T X``, ``W1 X``, ``S X^T``)
    on one thread when threadpoolctl is installed.

    On two cores a multi-threaded OpenBLAS call is at most ~2x faster than
    a single-threaded one, but when another process competes for the cores
    its threads wait on each other: ``X^T X`` for the cat images was
    measured at 0.2-0.8 s on two threads against 0.03 s on one, on a busy
    machine. Its idle threads also spin after the call, next to the
    solver's own loop.
    """
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS.append(ThreadpoolController())
        except ImportError:  # pragma: no cover - optional
            _BLAS.append(None)
    if _BLAS[0] is None:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return _BLAS[0].limit(limits=1, user_api="blas")


def _padded(n, block):
    return -(-n // block) * block


class GramSolver:
    """Full-batch gradient descent on ``[LINEAR->RELU]x(L-1)->LINEAR->SIGMOID``
    with the first layer in dual form.

    Extra memory is O(m^2): the ``m x m`` matrix ``K = X^T X + 1 1^T`` in
    the training dtype, plus O(n_1 m) state (``Z1``, ``dZ1``, ``S``) and the
    small layers' activations. ``X`` itself is kept (by reference, not
    copied when already C-contiguous) to rebuild ``W1``.

    Parameters
    ----------
    X : ndarray of shape (n_x, m), float32 or float64
    Y : ndarray of shape (1, m), same dtype
    Ws, bs : lists of ndarrays
        ``W_l`` of shape (n_l, n_{l-1}) and ``b_l`` of shape (n_l, 1),
        ``n_L = 1``; copied, never modified.
    learning_rate : float

    Examples
    --------
    >>> solver = GramSolver(X, Y, Ws, bs, 0.0075)    # doctest: +SKIP
    >>> costs = np.empty(2500)
    >>> solver.run(2500, costs)
    >>> Ws, bs = solver.parameters()
    """

    def __init__(self, X, Y, Ws, bs, learning_rate):
        Ws = list(Ws)
        bs = list(bs)
        if len(Ws) < 1 or len(Ws) != len(bs):
            raise ValueError("Ws and bs must be two non-empty lists of the "
                             "same length, got %d and %d"
                             % (len(Ws), len(bs)))
        X = v.as_matrix(X, "X", shape_hint="(n_x, m)")
        dtype = X.dtype
        Ws = [v.as_matrix(W, "W%d" % (l + 1), dtype=dtype)
              for l, W in enumerate(Ws)]
        bs = [v.as_matrix(b, "b%d" % (l + 1), dtype=dtype)
              for l, b in enumerate(bs)]
        for l, (W, b) in enumerate(zip(Ws, bs), start=1):
            if b.shape != (W.shape[0], 1):
                raise ValueError("b%d must have shape %s, got %s"
                                 % (l, (W.shape[0], 1), b.shape))
            if l > 1 and W.shape[1] != Ws[l - 2].shape[0]:
                raise ValueError("W%d has %d columns but W%d has %d rows"
                                 % (l, W.shape[1], l - 1,
                                    Ws[l - 2].shape[0]))
        v.check_X_for_parameters(X, Ws[0])
        if Ws[-1].shape[0] != 1:
            raise ValueError("the output layer must have one unit (n_L = 1),"
                             " got %d" % Ws[-1].shape[0])
        m = X.shape[1]
        Y = v.check_training_labels(Y, m, dtype)
        self.learning_rate = v.check_learning_rate(learning_rate)

        self.dtype = dtype
        self.m = m
        self.iteration = 0
        # Every use of X is a BLAS call (X^T X, W1 X, S X^T), which takes
        # either order as it is: the course's Fortran-ordered X is kept,
        # not copied (a 20 MB copy, ~10 ms of a ~0.18 s cat training).
        # Like the primal solver, the solver then shares X with the
        # caller, who must not change it while the solver is in use.
        self._X = (X if X.flags.c_contiguous or X.flags.f_contiguous
                   else np.ascontiguousarray(X))
        self._Y = np.ascontiguousarray(Y[0])
        self._W1_0 = Ws[0].copy()
        self._b1_0 = bs[0].copy()
        dims = [W.shape[0] for W in Ws]
        self._dims = np.array(dims, dtype=np.int64)
        L = len(dims)
        n1 = dims[0]
        n1p = _padded(n1, _BLOCK_ROWS)
        mp = _padded(m, _BLOCK_COLS)

        # K = X^T X + 1 1^T, zero-padded to (mp, mp); X.T @ X is one BLAS
        # call (a symmetric rank-k update).
        K = np.zeros((mp, mp), dtype=dtype)
        Z1 = np.zeros((n1p, mp), dtype=dtype)
        with _one_blas_thread():
            K[:m, :m] = self._X.T @ self._X
            Z1[:n1, :m] = np.dot(Ws[0], self._X) + bs[0]
        K[:m, :m] += 1
        self._K = K
        self._Z1 = Z1
        self._dZ1 = np.zeros((n1p, mp), dtype=dtype)
        # S in float64 whatever the dtype: exact enough to rebuild W1.
        self._S = np.zeros((n1, m), dtype=np.float64)

        # Layers 2..L packed flat; index q = 1..L-1 is layer q + 1.
        woff = np.zeros(L, dtype=np.int64)
        boff = np.zeros(L, dtype=np.int64)
        for q in range(1, L - 1):
            woff[q + 1] = woff[q] + dims[q] * dims[q - 1]
            boff[q + 1] = boff[q] + dims[q]
        self._Wf = np.concatenate(
            [W.ravel() for W in Ws[1:]] or [np.zeros(0, dtype)]).astype(
                dtype)
        self._bf = np.concatenate(
            [b.ravel() for b in bs[1:]] or [np.zeros(0, dtype)]).astype(
                dtype)
        self._woff, self._boff = woff, boff
        roff = np.zeros(L, dtype=np.int64)
        for q in range(1, L):
            roff[q] = roff[q - 1] + dims[q - 1]
        self._roff = roff
        rows = int(roff[-1] + dims[-1])
        self._A = np.zeros((rows, m), dtype=dtype)
        self._Z = np.zeros((rows, m), dtype=dtype)
        self._D = np.zeros((rows, m), dtype=dtype)
        t = dtype.type
        self._scalars = (t(self.learning_rate), t(1.0 / m),
                         t(self.learning_rate / m), t(0), t(1),
                         t(np.finfo(dtype).eps))

    def _parallel(self):
        # Two threads halve the Z1 update (~60 us of an iteration's ~75 at
        # the cat shape) for ~5 us of thread-pool start per iteration.
        n1p, mp = self._Z1.shape
        return (n1p * mp * mp >= cfg.PARALLEL_MIN_WORK
                and cfg.parallel_ok())

    def run(self, n, costs_out):
        """Advance ``n`` iterations; ``costs_out[i]`` gets the cost of the
        i-th (computed before that iteration's update).

        Raises ``FloatingPointError`` (cost not finite) or ``ValueError``
        (infinite cross-entropy gradient) as the reference does, naming the
        global iteration; the iterations before it are kept.
        """
        n = v.check_int(n, "n", 0)
        costs_out = np.asarray(costs_out)
        if costs_out.dtype != np.float64 or costs_out.ndim != 1 \
                or costs_out.shape[0] < n:
            raise ValueError("costs_out must be a float64 vector of at least"
                             " n = %d values, got %s" % (n, v._describe(
                                 costs_out)))
        if not costs_out.flags.writeable or \
                not costs_out.flags.c_contiguous:
            raise ValueError("costs_out must be writeable and contiguous")
        if n == 0:
            return
        status = _run(self._Z1, self._dZ1, self._S, self._K, self._dims,
                      self._Wf, self._woff, self._bf, self._boff, self._A,
                      self._Z, self._D, self._roff, self._Y, *self._scalars,
                      n, costs_out, self._parallel())
        if status == _OK:
            self.iteration += n
            return
        done, kind = divmod(int(status), 2)
        i = self.iteration + done
        self.iteration = i
        if kind == 0:
            raise FloatingPointError(
                "training diverged: the cost is %s at iteration %d; try a "
                "smaller learning rate than %g"
                % (float(costs_out[done]), i, self.learning_rate))
        raise ValueError(
            "the cross-entropy gradient is infinite at iteration %d: AL is "
            "exactly 0 where Y is not 0, or exactly 1 where Y is not 1 (a "
            "saturated sigmoid); lower the learning rate" % i)

    def parameters(self):
        """The current parameters as two new lists ``(Ws, bs)``.

        ``W1 = W1_0 - (lr/m) S X^T`` and ``b1 = b1_0 - (lr/m) S 1`` are
        rebuilt here (one ``n_1 x m x n_x`` product, in float64).
        """
        scale = self.learning_rate / self.m
        S = self._S
        X = self._X.astype(np.float64, copy=False)
        with _one_blas_thread():
            W1 = self._W1_0 - scale * np.dot(S, X.T)
        b1 = self._b1_0 - scale * S.sum(axis=1, keepdims=True)
        Ws = [W1.astype(self.dtype, copy=False)]
        bs = [b1.astype(self.dtype, copy=False)]
        dims = self._dims
        for q in range(1, dims.shape[0]):
            nout, nin = int(dims[q]), int(dims[q - 1])
            w0, b0 = int(self._woff[q]), int(self._boff[q])
            Ws.append(self._Wf[w0:w0 + nout * nin].reshape(nout, nin).copy())
            bs.append(self._bf[b0:b0 + nout].reshape(nout, 1).copy())
        return Ws, bs
