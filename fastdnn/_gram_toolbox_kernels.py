"""Compiled parts of the dual-form toolbox solver (see
:mod:`fastdnn._gram_toolbox`).

- :func:`plain_gram`: ``X^T X`` (no ``1 1^T``: the toolbox solver keeps b1
  apart, since L2 decays W1 and not b1), summed by the gram solver's own
  blocked kernels, in an order fixed by the shapes;
- :func:`run_passes`: whole passes of mini-batch (or full-batch) training,
  gd, momentum or Nesterov, with L2, dropout on the hidden layers and a
  learning rate per pass, the first layer in dual form.

The first layer's state (see the solver's docstring for the algebra):
``W1 = a W1_0 + C X^T`` and its velocity ``V1 = av W1_0 + D X^T``, with
``R = C K`` and ``S = D K`` (``K = X^T X``) kept alongside, so that a
batch's ``Z1 = a P0 + R + b1`` (``P0 = W1_0 X``) is a gather, and one step
costs one ``n_1 x mb x m`` product (``dZ1_b K[batch, :]``) plus O(n_1 m).
"""
import math

import numpy as np

from . import _numba_config as cfg
from ._kernel_dispatch import kernel_jit
from ._gram_kernels import (_activate_rows, _combine_rows, _gram_parallel,
                            _gram_serial, _grad_row, _output_cost,
                            _output_rows)
from ._dropout_kernels import dropout_apply
from ._kernels_gemm import NATIVE_GEMM, matmul_serial_into

from numba import njit  # noqa: E402 (after _numba_config)

# Row reductions and the K product need reassociation to vectorise
# (cfg.FASTMATH_SUM: reassoc + contract, never nnan/ninf). The results are
# those of the primal form up to rounding, not bit for bit.
_JIT = dict(fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
# Exact kernels: no fastmath.
_EXACT = dict(cfg.JIT_KW)

#: Status of :func:`run_passes` when every pass had a finite cost.
OK = -1


# ------------------------------------------------------------ X^T X

@kernel_jit(**_EXACT)
def _mirror(acc, K):
    """``K`` (m, m) = the upper triangle of ``acc`` mirrored; whether every
    value is finite."""
    m = K.shape[0]
    finite = True
    for r in range(m):
        for c in range(r, m):
            v = acc[r, c]
            finite &= math.isfinite(v)
            K[r, c] = v
            K[c, r] = v
    return finite


def plain_gram(XT, parallel, block_cols):
    """``(K, finite)``: ``K = X^T X`` (m, m) from ``XT = X^T`` (m, n_x),
    C-contiguous, by :mod:`fastdnn._gram_kernels`' blocked kernels (each
    entry summed in one order on any number of threads)."""
    m = XT.shape[0]
    mp = -(-m // block_cols) * block_cols
    acc = np.zeros((m, mp), dtype=XT.dtype)
    if parallel:
        _gram_parallel(XT, acc)
    else:
        _gram_serial(XT, acc)
    K = np.empty((m, m), dtype=XT.dtype)
    return K, bool(_mirror(acc, K))


#: Columns of W1 per block of :func:`rebuild_w1`: the block of W1 (n_1 x
#: 1024 float64, 160 KB for 20 units) stays in L2 while every row of X^T
#: passes through it once.
REBUILD_COLUMNS = 1024


@kernel_jit(**_JIT)
def rebuild_w1(a, W1_0, C, XT, W1):
    """``W1 = a W1_0 + C X^T`` in float64 (``XT = X^T``, (m, n_x)), each
    entry summed over the m examples in order."""
    n1 = C.shape[0]
    m, n_x = XT.shape
    for f0 in range(0, n_x, REBUILD_COLUMNS):
        f1 = min(n_x, f0 + REBUILD_COLUMNS)
        for i in range(n1):
            w = W1[i, f0:f1]
            w0 = W1_0[i, f0:f1]
            for f in range(f1 - f0):
                w[f] = a * np.float64(w0[f])
        # Examples k..k+3 added to every row before the next four: each
        # entry still sums the examples one by one in order (the same
        # roundings), kept in a register over four of them; X^T is read
        # once in all, four rows at a time, n_1 times each from L1.
        k = 0
        while k + 4 <= m:
            x0 = XT[k, f0:f1]
            x1 = XT[k + 1, f0:f1]
            x2 = XT[k + 2, f0:f1]
            x3 = XT[k + 3, f0:f1]
            for i in range(n1):
                c0 = np.float64(C[i, k])
                c1 = np.float64(C[i, k + 1])
                c2 = np.float64(C[i, k + 2])
                c3 = np.float64(C[i, k + 3])
                w = W1[i, f0:f1]
                for f in range(f1 - f0):
                    v = w[f]
                    v += c0 * np.float64(x0[f])
                    v += c1 * np.float64(x1[f])
                    v += c2 * np.float64(x2[f])
                    v += c3 * np.float64(x3[f])
                    w[f] = v
            k += 4
        while k < m:
            x = XT[k, f0:f1]
            for i in range(n1):
                c = np.float64(C[i, k])
                w = W1[i, f0:f1]
                for f in range(f1 - f0):
                    w[f] += c * np.float64(x[f])
            k += 1


# ------------------------------------------------------------ products

@kernel_jit(**_JIT)
def _k_product_rows(T, dZ1, K, idx, n1, mb):
    """``T[:n1] = dZ1[:n1, :mb] K[idx, :]`` (a mini-batch's rows of K),
    row by row of T, four rows of K per pass over it (one row of T at a
    time: with more, LLVM's run-time alias checks between the rows stored
    and the rows read exceed its limit and the loop stays scalar)."""
    m = K.shape[1]
    zero = T.dtype.type(0)
    for i in range(n1):
        t = T[i]
        d = dZ1[i]
        for k in range(m):
            t[k] = zero
        j = 0
        while j + 4 <= mb:
            k0 = K[idx[j]]
            k1 = K[idx[j + 1]]
            k2 = K[idx[j + 2]]
            k3 = K[idx[j + 3]]
            a0, a1, a2, a3 = d[j], d[j + 1], d[j + 2], d[j + 3]
            for k in range(m):
                t[k] += (a0 * k0[k] + a1 * k1[k]) + (a2 * k2[k] + a3 * k3[k])
            j += 4
        for j in range(j, mb):
            kr = K[idx[j]]
            a0 = d[j]
            for k in range(m):
                t[k] += a0 * kr[k]


@njit(inline="always", **_JIT)
def _dot(d, a, n):
    s = d.dtype.type(0)
    for k in range(n):
        s += d[k] * a[k]
    return s


@kernel_jit(**_JIT)
def _k_product_full(T, dZ1, K, n1):
    """``T[:n1] = dZ1[:n1] K`` for a full batch in column order: K being
    symmetric, ``T[i, j] = dZ1[i] . K[j]``, dot products along contiguous
    rows, in 4 x 3 register blocks (7 loads per 12 multiply-adds; about 3x
    faster than :func:`_k_product_rows` at m = 209)."""
    m = K.shape[1]
    i = 0
    while i + 4 <= n1:
        d0 = dZ1[i]
        d1 = dZ1[i + 1]
        d2 = dZ1[i + 2]
        d3 = dZ1[i + 3]
        j = 0
        while j + 3 <= m:
            a0 = K[j]
            a1 = K[j + 1]
            a2 = K[j + 2]
            s00 = s01 = s02 = s10 = s11 = s12 = T.dtype.type(0)
            s20 = s21 = s22 = s30 = s31 = s32 = T.dtype.type(0)
            for k in range(m):
                x0 = a0[k]
                x1 = a1[k]
                x2 = a2[k]
                y = d0[k]
                s00 += y * x0
                s01 += y * x1
                s02 += y * x2
                y = d1[k]
                s10 += y * x0
                s11 += y * x1
                s12 += y * x2
                y = d2[k]
                s20 += y * x0
                s21 += y * x1
                s22 += y * x2
                y = d3[k]
                s30 += y * x0
                s31 += y * x1
                s32 += y * x2
            T[i, j], T[i, j + 1], T[i, j + 2] = s00, s01, s02
            T[i + 1, j], T[i + 1, j + 1], T[i + 1, j + 2] = s10, s11, s12
            T[i + 2, j], T[i + 2, j + 1], T[i + 2, j + 2] = s20, s21, s22
            T[i + 3, j], T[i + 3, j + 1], T[i + 3, j + 2] = s30, s31, s32
            j += 3
        for j in range(j, m):
            for r in range(4):
                T[i + r, j] = _dot(dZ1[i + r], K[j], m)
        i += 4
    for i in range(i, n1):
        for j in range(m):
            T[i, j] = _dot(dZ1[i], K[j], m)


@kernel_jit(**_JIT)
def k_product(T, dZ1, K, idx, n1, mb, full, Kb):
    """``T[:n1] = dZ1[:n1, :mb] K[idx[:mb], :]``, or ``dZ1[:n1] K`` when
    ``full`` (the columns in order, ``mb = m``).

    On hosts where fastdnn's GEMM runs (:data:`NATIVE_GEMM`), the batch's
    rows of K are first copied into ``Kb`` (mbmax, m) and the product runs
    on the GEMM's register tile, on the calling thread: at the cat's shape
    (20 units, batch 64, m = 209, float64) 6.4 us where
    :func:`_k_product_rows` takes 19 (its four-row passes are bound by
    loads from L2, the tile by multiply-adds). Elsewhere the loops above
    run. Either way the sums are those of the product up to rounding.
    """
    if NATIVE_GEMM:
        if full:
            matmul_serial_into(dZ1[:n1, :mb], K, T[:n1])
            return
        m = K.shape[1]
        for j in range(mb):
            src = K[idx[j]]
            dst = Kb[j]
            for k in range(m):
                dst[k] = src[k]
        matmul_serial_into(dZ1[:n1, :mb], Kb[:mb], T[:n1])
    elif full:
        _k_product_full(T, dZ1, K, n1)
    else:
        _k_product_rows(T, dZ1, K, idx, n1, mb)


# ------------------------------------------------------------ optimizer

@kernel_jit(**_JIT)
def _step_rows(P, V, G, n, w, lr, beta, omb, nesterov):
    """The optimizer on ``P[:n, :w]`` with velocity V and gradient G:
    ``v = beta v + (1 - beta) g``; ``P -= lr v`` (momentum, and gd with
    beta 0, where v = g exactly), or ``P -= lr (beta v + (1 - beta) g)``
    (Nesterov, v the new velocity)."""
    for i in range(n):
        p = P[i]
        vr = V[i]
        g = G[i]
        if nesterov:
            for k in range(w):
                v = beta * vr[k] + omb * g[k]
                vr[k] = v
                p[k] -= lr * (beta * v + omb * g[k])
        else:
            for k in range(w):
                v = beta * vr[k] + omb * g[k]
                vr[k] = v
                p[k] -= lr * v


@njit(inline="always", **_JIT)
def _step(p, v, g, lr, beta, omb, nesterov):
    """:func:`_step_rows` on one value: ``(p, v)`` updated."""
    v = beta * v + omb * g
    if nesterov:
        return p - lr * (beta * v + omb * g), v
    return p - lr * v, v


# ------------------------------------------------------------ passes

@kernel_jit(**_JIT)
def _l2_sum(P0, R, C, a, n00, Wf):
    """``sum ||W_l||^2`` in float64: ``||W1||^2 = a^2 ||W1_0||^2 + 2 a
    <P0, C> + <R, C>`` (``W1 = a W1_0 + C X^T``, ``P0 = W1_0 X``,
    ``R = C K``), W1 never formed, plus the small layers' squares."""
    n1, m = C.shape
    pc = 0.0
    rc = 0.0
    for i in range(n1):
        for k in range(m):
            c = np.float64(C[i, k])
            pc += np.float64(P0[i, k]) * c
            rc += np.float64(R[i, k]) * c
    a = np.float64(a)
    total = a * a * n00 + 2.0 * a * pc + rc
    for q in range(Wf.shape[0]):
        w = np.float64(Wf[q])
        total += w * w
    return total


@kernel_jit(**_JIT)
def run_passes(K, P0, R, S, T, C, D, G, b1, vb1, co, Wf, woff, bf, boff,
               vWf, vbf, dims, acts, output, Zb, Ab, Db, Mb, Yb, idx, Kb,
               roff, Y, perms, starts, stops, lrs, costs, full, beta, nesterov,
               lambd, keep_prob, seed, step0, eps, n00):
    """``lrs.shape[0]`` passes; ``costs[p]`` gets pass p's cost. Returns
    :data:`OK`, or the first pass whose cost is not finite (that pass ran
    to its end, the later ones did not run).

    ``perms[p]`` is pass p's column order (``perms[0]`` for every pass
    when ``full``), its batches
    ``perms[p, starts[s]:stops[s]]``; ``lrs[p]`` its learning rate. ``co``
    holds ``(a, av)``; ``step0`` is the global update counter (dropout's)
    of the first batch. ``Zb``, ``Ab``, ``Db``, ``Mb`` hold the batch's
    pre-activations, activations, gradients and dropout masks of every
    layer, layer ``q + 1`` from row ``roff[q]``; ``Yb`` the batch's labels;
    ``Kb`` (mbmax, m) the scratch of :func:`k_product`.
    ``full``: one batch of all m columns in order, whose cost is the pass's
    (else the pass cost is ``sum(cost_b mb) / m``)."""
    L = dims.shape[0]
    n1 = dims[0]
    nL = dims[L - 1]
    m = Y.shape[1]
    zero = Zb.dtype.type(0)
    one = Zb.dtype.type(1)
    dt = Zb.dtype.type
    beta_t = dt(beta)
    omb = dt(1.0 - beta)
    kp = dt(keep_prob)
    mbmax = Zb.shape[1]
    top = np.empty(mbmax, dtype=Zb.dtype)
    total = np.empty(mbmax, dtype=Zb.dtype)
    dropout = keep_prob < 1.0 and L > 1
    step = step0
    for p in range(lrs.shape[0]):
        prow = 0 if full else p
        lr = dt(lrs[p])
        pass_cost = 0.0
        for s in range(starts.shape[0]):
            b0 = starts[s]
            mb = stops[s] - b0
            for j in range(mb):
                idx[j] = perms[prow, b0 + j]
            inv_mb = dt(1.0 / mb)
            lam_mb = dt(lambd / mb)
            a = co[0]
            # ---- layer 1: Z1 = a W1_0 X + C K + b1 on the batch's columns
            for i in range(n1):
                z = Zb[i]
                pr = P0[i]
                rr = R[i]
                bi = b1[i]
                for j in range(mb):
                    c = idx[j]
                    z[j] = (a * pr[c] + rr[c]) + bi
            for i in range(nL):
                yr = Y[i]
                yb = Yb[i]
                for j in range(mb):
                    yb[j] = yr[idx[j]]
            if L == 1:
                # np.int64: one compilation (see fastdnn._gram_kernels).
                _output_rows(Ab, Zb, np.int64(0), n1, mb, output, top, total,
                             zero, one)
            else:
                _activate_rows(Ab, Zb, np.int64(0), n1, mb, acts[0], zero,
                               one)
                if dropout:
                    dropout_apply(Ab[:n1, :mb], Mb[:n1, :mb], seed,
                                  np.int64(1), step, keep_prob)
            # ---- layers 2..L
            for q in range(1, L):
                nout = dims[q]
                nin = dims[q - 1]
                for i in range(nout):
                    zr = Zb[roff[q] + i]
                    _combine_rows(zr, Wf, woff[q] + i * nin, 1, Ab,
                                  roff[q - 1], nin, mb)
                    bq = bf[boff[q] + i]
                    for j in range(mb):
                        zr[j] += bq
                if q == L - 1:
                    _output_rows(Ab, Zb, roff[q], nout, mb, output, top,
                                 total, zero, one)
                else:
                    _activate_rows(Ab, Zb, roff[q], nout, mb, acts[q], zero,
                                   one)
                    if dropout:
                        r0 = roff[q]
                        dropout_apply(Ab[r0:r0 + nout, :mb],
                                      Mb[r0:r0 + nout, :mb], seed,
                                      np.int64(q + 1), step, keep_prob)
            # ---- cost of the batch (+ L2), into the pass's
            cost = _output_cost(Ab, roff[L - 1], nL, mb, Yb, output, eps,
                                zero, one)
            if lambd > 0.0:
                cost += (1.0 / mb) * (lambd / 2.0) * _l2_sum(
                    P0, R, C, a, n00, Wf)
            if full:
                pass_cost = cost
            else:
                pass_cost += cost * mb
            # ---- dZ_L = AL - Y
            for i in range(nL):
                al = Ab[roff[L - 1] + i]
                yb = Yb[i]
                dl = Db[roff[L - 1] + i]
                for j in range(mb):
                    dl[j] = al[j] - yb[j]
            # ---- layers L..2: dA_prev with the old W, then the update
            for q in range(L - 1, 0, -1):
                nout = dims[q]
                nin = dims[q - 1]
                act = acts[q - 1]
                for j in range(nin):
                    r = roff[q - 1] + j
                    t = Db[r]
                    _combine_rows(t, Wf, woff[q] + j, nin, Db, roff[q],
                                  nout, mb)
                    if dropout:
                        d = Mb[r]
                        for k in range(mb):
                            t[k] = (t[k] * d[k]) / kp
                    _grad_row(t, Zb[r], mb, act)
                for i in range(nout):
                    dz = Db[roff[q] + i]
                    for j in range(nin):
                        ap = Ab[roff[q - 1] + j]
                        acc = zero
                        for k in range(mb):
                            acc += dz[k] * ap[k]
                        w = woff[q] + i * nin + j
                        g = inv_mb * acc
                        if lambd > 0.0:
                            g += lam_mb * Wf[w]
                        Wf[w], vWf[w] = _step(Wf[w], vWf[w], g, lr, beta_t,
                                              omb, nesterov)
                    acc = zero
                    for k in range(mb):
                        acc += dz[k]
                    w = boff[q] + i
                    bf[w], vbf[w] = _step(bf[w], vbf[w], inv_mb * acc, lr,
                                          beta_t, omb, nesterov)
            # ---- layer 1 in dual form
            for i in range(n1):
                dz = Db[i]
                acc = zero
                for j in range(mb):
                    acc += dz[j]
                b1[i], vb1[i] = _step(b1[i], vb1[i], inv_mb * acc, lr,
                                      beta_t, omb, nesterov)
            # G = dW1's X^T coefficients, T = G K (dW1 = ga W1_0 + G X^T)
            k_product(T, Db, K, idx, n1, mb, full, Kb)
            for i in range(n1):
                g = G[i]
                c = C[i]
                t = T[i]
                rr = R[i]
                dz = Db[i]
                for k in range(m):
                    g[k] = lam_mb * c[k]
                    t[k] = inv_mb * t[k] + lam_mb * rr[k]
                for j in range(mb):
                    g[idx[j]] += inv_mb * dz[j]
            co[0], co[1] = _step(a, co[1], lam_mb * a, lr, beta_t, omb,
                                 nesterov)
            _step_rows(C, D, G, n1, m, lr, beta_t, omb, nesterov)
            _step_rows(R, S, T, n1, m, lr, beta_t, omb, nesterov)
            step += 1
        if not full:
            pass_cost = pass_cost / m
        costs[p] = pass_cost
        if not math.isfinite(pass_cost):
            return p
    return OK
