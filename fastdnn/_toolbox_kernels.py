"""The compiled passes of the jit backend's training toolbox (see
:mod:`fastdnn._toolbox`): every optimizer, mini-batches, L2, dropout and a
learning rate per pass, for every activation and output.

:func:`train_steps` runs steps (batches) of passes in one call: per batch it
gathers the batch's columns into preallocated buffers, runs every layer's
forward kernel (dropout drawn and applied after each hidden activation),
the output's cost and ``dZ_L = AL - Y``, every layer's backward kernel
(the mask applied to each hidden ``dA``), then one fused optimizer pass
over all the weights and one over all the biases
(:func:`fastdnn._toolbox_step_kernels.update_params`). The forward and
backward kernels are :mod:`fastdnn._kernels`' (those of the primal loop);
nothing is allocated per step here. Without dropout, the gather and the
forward passes of the first layers on fastdnn's GEMM run in one parallel
region (:mod:`fastdnn._kernels_forward_chain`); without L2, the first
layer's backward pass takes the weights' step
(:mod:`fastdnn._kernels_backward_update`), with the second layer's
products where it can (:mod:`fastdnn._kernels_backward_two_layers`).

Buffers are flat and shared by layers as in :mod:`fastdnn._primal_kernels`:
layer q's W from ``woff[q]``, its b from ``boff[q]``, its (n_l, mb) blocks
of the activations, pre-activations, gradients and masks from row
``roff[q]``.
"""
import numpy as np

from ._kernels_common import _exact_loop, _exact_loop_inline, flat_view
from ._kernels import (ACT_IDENTITY, activation_into, _grad_reads_a,
                       output_step)
from ._kernels_blas import first_layer_layouts, use_blas
from ._kernels_backward_update import backward_update
from ._kernels_backward_two_layers import backward_two_layers
from ._kernels_forward_chain import forward_chain
from ._kernels_gather import (GATHER_COLUMNS_MAX, GATHER_PARALLEL_MIN,
                              gather, gather_parallel)
from ._kernels_gemm import NATIVE_GEMM
from ._primal_kernels import _backward, _block, _forward, _param
from ._dropout_kernels import dropout_apply, mask_apply
from ._toolbox_step_kernels import fill_constants, update_params


#: Hyperparameters' positions in :func:`train_steps`' ``hyper`` vector.
#: ``H_COST_SCALE`` multiplies each batch's data cost (not its L2 term) as
#: it is recorded: 1 for the course, 1 / n_outputs for scikit-learn's
#: squared error over several targets (the gradient is unchanged).
(H_BETA, H_BETA1, H_BETA2, H_EPSILON, H_LAMBD, H_KEEP_PROB,
 H_COST_SCALE) = range(7)


@_exact_loop_inline
def _step(A0f, t0f, A0b, t0b, Yc, mb, dims, acts, output, Wf, bf, offsets,
          blocks, dWf, dbf, dropout, eps, parallel, min_work, nthreads, wide,
          hand, hand_threads, fuse, VWf, SWf, opt, hpW, first):
    # Forward, cost and backward of one batch: returns the output's cost
    # (the data term) in the training dtype. A0f is the batch's X (n_x,
    # mb) for the forward pass (X^T, (mb, n_x), when t0f), A0b its X for
    # the backward one (X^T when t0b). With ``fuse`` (a first layer on
    # fastdnn's GEMM, no L2 term) the first layer's backward pass takes
    # the weights' optimizer step too (VWf, SWf: the state; hpW: the
    # constants). The forward passes of the first ``first`` layers are done
    # (forward_chain).
    #
    # Inlined into train_steps, some arguments come in tuples: offsets
    # (woff, boff, roff), blocks (Zf, Af, dAf, dZf) and dropout (Df,
    # keep_prob, seed, step). Python passes a call's arguments as one tuple
    # from 31 on, which numba's inliner does not take.
    woff, boff, roff = offsets
    Zf, Af, dAf, dZf = blocks
    Df, keep_prob, seed, step = dropout
    L = dims.shape[0] - 1
    nL = dims[L]
    for q in range(first, L):
        if q == 0:
            A_prev = A0f
        else:
            A_prev = _block(Af, roff[q - 1], dims[q], mb)
        A = _block(Af, roff[q], dims[q + 1], mb)
        _forward(_param(Wf, woff[q], dims[q + 1], dims[q]), A_prev,
                 _param(bf, boff[q], dims[q + 1], 1), acts[q],
                 _block(Zf, roff[q], dims[q + 1], mb), A, q == 0 and t0f,
                 parallel, min_work, nthreads, wide, hand, hand_threads)
        if q < L - 1 and keep_prob < 1.0:
            dropout_apply(A, _block(Df, roff[q], dims[q + 1], mb), seed,
                          q + 1, step, keep_prob)
    # The cost and dZ_L = AL - Y (softmax's AL too, fused), as the primal
    # loop computes them.
    cost = output_step(_block(Zf, roff[L - 1], nL, mb),
                       _block(Af, roff[L - 1], nL, mb), Yc,
                       _block(dAf, roff[L - 1], nL, mb), output, eps,
                       nthreads if parallel else 1)
    if not np.isfinite(cost):
        return cost
    # np.int64: typed as the codes of acts are, so the kernels called with
    # it compile once (a bare module constant is typed as its literal).
    act = np.int64(ACT_IDENTITY)
    for q in range(L - 1, -1, -1):
        nout = dims[q + 1]
        dA = _block(dAf, roff[q], nout, mb)
        if q < L - 1 and keep_prob < 1.0:
            mask_apply(dA, _block(Df, roff[q], nout, mb), keep_prob)
        dZ = _block(dZf, roff[q], nout, mb)
        Z = _block(Zf, roff[q], nout, mb)
        if q < L - 1 and keep_prob < 1.0 and _grad_reads_a(act):
            # Dropout scaled A in place: g(Z) again, by the forward
            # pass's own kernel, into dZ (which the backward kernel reads
            # element by element before it writes it).
            activation_into(Z, act, dZ)
            Aout = dZ
        else:
            Aout = _block(Af, roff[q], nout, mb)
        if q > 0:
            A_prev = _block(Af, roff[q - 1], dims[q], mb)
            dA_prev = _block(dAf, roff[q - 1], dims[q], mb)
            transposed = False
            if (q == 1 and fuse and keep_prob == 1.0 and parallel
                    and nthreads > 1 and wide is not None
                    and (hand is None or use_blas(nout, dims[1], mb))):
                # This layer's pass on fastdnn's GEMM (_backward's rule for
                # it) and the fused first layer's, in one region
                # (_backward_two).
                _backward_two(dA, Z, Aout, act, dZ, A_prev, dA_prev, A0b,
                              t0b, acts[0], dims, woff, boff, roff, mb, Wf,
                              dWf, dbf, Zf, Af, dZf, VWf, SWf, opt, hpW,
                              nthreads)
                break
        else:
            # X itself; no dA_0 (dZ stands in, unwritten).
            A_prev = A0b
            dA_prev = dZ
            transposed = t0b
            if fuse:
                _backward_first(dA, Z, Aout, A0b, t0b, act, dZ, dims, Wf,
                                dWf, dbf, VWf, SWf, opt, hpW,
                                nthreads if parallel else 1)
                break
        _backward(dA, Z, Aout, A_prev,
                  _param(Wf, woff[q], nout, dims[q]), act, q > 0, dZ,
                  _param(dWf, woff[q], nout, dims[q]),
                  _param(dbf, boff[q], nout, 1), dA_prev, transposed,
                  parallel, min_work, nthreads, wide, hand, hand_threads)
        if q > 0:
            act = acts[q - 1]
    return cost


@_exact_loop_inline
def _backward_first(dA, Z, Aout, A0b, t0b, act, dZ, dims, Wf, dWf, dbf, VWf,
                    SWf, opt, hpW, threads):
    # The first layer's backward pass with the weights' optimizer step
    # (backward_update): B = X^T, given as it is (t0b) or as X, whose
    # transposed view it reads.
    dW = _param(dWf, 0, dims[1], dims[0])
    db = _param(dbf, 0, dims[1], 1)
    backward_update(dA, Z, Aout, A0b, not t0b, act, dZ, dW, db, Wf, dWf, VWf,
                    SWf, opt, hpW, threads)


@_exact_loop_inline
def _backward_two(dA, Z, Aout, act, dZ, A1, dA1, A0b, t0b, act1, dims, woff,
                  boff, roff, mb, Wf, dWf, dbf, Zf, Af, dZf, VWf, SWf, opt,
                  hpW, threads):
    # The second layer's backward pass (dA, Z, Aout, act, dZ: its blocks)
    # and the first layer's with the weights' optimizer step
    # (backward_two_layers); no dropout, so layer 1's output is its A.
    n1 = dims[1]
    n2 = dims[2]
    backward_two_layers(
        dA, Z, Aout, act, dZ, _param(dWf, woff[1], n2, n1),
        _param(dbf, boff[1], n2, 1), _param(Wf, woff[1], n2, n1), A1, dA1,
        _block(Zf, roff[0], n1, mb), _block(Af, roff[0], n1, mb), act1,
        _block(dZf, roff[0], n1, mb), _param(dWf, 0, n1, dims[0]),
        _param(dbf, 0, n1, 1), A0b, not t0b, Wf, dWf, VWf, SWf, opt, hpW,
        threads)


@_exact_loop
def train_steps(X, XT, Y, YT, full, perms, starts, stops, lrs, step0, dims,
                acts, output, Wf, woff, bf, boff, Zf, Af, dAf, dZf, Df,
                dWf, dbf, roff, VWf, Vbf, SWf, Sbf, hpW, hpb, partial, XTb,
                Yb, opt, hyper, seed, eps, s0, s1, total, costs, parallel,
                min_work, nthreads, wide, hand, hand_threads):
    """Run steps ``s0 .. s1 - 1`` of ``lrs.size`` passes; return how many
    were completed.

    Step ``s`` is batch ``s % nb`` of pass ``s // nb`` (``nb`` batches a
    pass): the passes can be run in one call (``s0 = 0``, ``s1 = nb *
    lrs.size``) or in several, in order, which give the same bits
    (:func:`fastdnn._threads.run_blocks` runs them in blocks).

    Parameters
    ----------
    X, XT : (n_x, m) and (m, n_x) C-contiguous
        The training set and its transpose; X is read in full batch only
        (mini-batches are gathered from XT), and may be empty otherwise.
    Y, YT : (n_L, m) and (m, n_L) C-contiguous
        Labels (one-hot for softmax) and their transpose; YT is read with
        mini-batches only, and may be empty in full batch.
    full : bool
        Full batch: one update per pass on X as it is (``perms`` unused).
    perms : int64 (passes, m)
        Each pass's column order (mini-batches).
    starts, stops : int64 (batches,)
        The batch bounds in a pass's order.
    lrs : float64 (passes,)
        Each pass's learning rate.
    step0 : int
        Updates made before this call (dropout's and Adam's counter).
    dims, acts, output, Wf, woff, bf, boff, Zf, Af, dAf, dZf, dWf, dbf, roff
        As :func:`fastdnn._primal_kernels.train` (blocks as wide as the
        largest batch); ``Df`` like ``Af``: the dropout masks.
    VWf, Vbf, SWf, Sbf : 1-D like Wf, bf
        The optimizer's state (empty for a part it does not keep; SWf and
        Sbf None without a second moment, see
        :func:`fastdnn._toolbox_step_kernels.update_params`).
    hpW, hpb : (N_CONSTANTS,) of the training dtype
        Scratch for the update's constants.
    partial : float64
        Scratch of the update's chunk sums (``n_chunks(Wf.size)``).
    XTb, Yb : flat buffers of mb_max * n_x and n_L * mb_max
        The gathered batch: X^T (mb, n_x), or X (n_x, mb) for at most
        GATHER_COLUMNS_MAX inputs on the hand-written kernels; Y (n_L,
        mb).
    opt : int
        ``OPT_*`` of :mod:`fastdnn._toolbox_step_kernels`.
    hyper : float64 (7,)
        beta, beta1, beta2, epsilon, lambd, keep_prob, cost scale
        (``H_*``).
    seed : int
        Dropout's seed.
    eps : scalar of the training dtype
        Its machine epsilon (the cross-entropies' clip).
    s0, s1 : int
        The steps to run.
    total : float64 (1,)
        The running sum of the pass's batch costs, carried from one call
        to the next.
    costs : float64 (passes,)
        Receives each pass's cost, at its last step: the iteration's cost
        in full batch, else the sum over batches of batch cost * mb, over
        m. A batch whose cost is not finite stops the run before its
        update: its pass gets that cost, the later passes NaN, and the
        steps done before it are returned; so is a pass whose total is not
        finite (the steps before its last).
    parallel, min_work, nthreads, wide, hand, hand_threads
        As :func:`fastdnn._primal_kernels.train` (``hand`` and
        ``hand_threads`` over every batch size of the run).
    """
    n = lrs.shape[0]
    m, n_x = XT.shape
    nL = Y.shape[0]
    nb = starts.shape[0]
    beta = hyper[H_BETA]
    beta1 = hyper[H_BETA1]
    beta2 = hyper[H_BETA2]
    epsilon = hyper[H_EPSILON]
    lambd = hyper[H_LAMBD]
    keep_prob = hyper[H_KEEP_PROB]
    cost_scale = hyper[H_COST_SCALE]
    # Full batch, as in the primal loop (read only then: X may be empty
    # with mini-batches).
    x_forward, xt_dW = first_layer_layouts(dims[1], dims[0], X.shape[1], wide)
    # The forward chain: no dropout between its layers.
    chain = (not full and keep_prob == 1.0 and wide is not None and parallel
             and nthreads > 1)
    for s in range(s0, s1):
        k = s // nb
        first = 0
        bi = s - k * nb
        step = step0 + s
        lr = lrs[k]
        if bi == 0:
            total[0] = 0.0
        lo = starts[bi]
        mb = stops[bi] - lo
        if full:
            # The hand-written kernels read X^T forward and X backward;
            # fastdnn's GEMM mostly the other way round (first_layer_layouts).
            A0f = X if x_forward else XT
            A0b = XT if xt_dW else X
            t0f = not x_forward
            t0b = xt_dW
            Yc = Y
        else:
            columns = n_x <= GATHER_COLUMNS_MAX
            if wide is not None:
                if use_blas(dims[1], n_x, mb):
                    columns = False
            if columns:
                A0f = flat_view(XTb, 0, n_x, mb)
            else:
                A0f = flat_view(XTb, 0, mb, n_x)
            A0b = A0f
            t0f = not columns
            t0b = not columns
            Yc = flat_view(Yb, 0, nL, mb)
            gather_parts = 0
            if parallel and nthreads > 1 and mb * n_x >= GATHER_PARALLEL_MIN:
                gather_parts = min(nthreads, mb)
            if chain:
                # The gather and the first GEMM layers' forward passes in
                # one region, where those would take one each.
                first = forward_chain(XT, YT, perms[k], lo, XTb, Yb,
                                      columns, gather_parts, A0f, t0f, Wf,
                                      woff, bf, boff, Zf, Af, roff, dims,
                                      acts, mb, hand, nthreads)
            if first == 0:
                if gather_parts > 0:
                    gather_parallel(XT, YT, perms[k], lo, lo + mb, XTb, Yb,
                                    columns, gather_parts)
                else:
                    gather(XT, YT, perms[k], lo, lo + mb, XTb, Yb, columns)
        c2 = lambd / mb
        t = step + 1
        fill_constants(hpW, lr, c2, beta, beta1, beta2, epsilon, t)
        fill_constants(hpb, lr, 0.0, beta, beta1, beta2, epsilon, t)
        # The weights' step in the first layer's backward pass (see
        # _step) for a first layer on fastdnn's GEMM, without L2 (its cost
        # term wants the sum of squares of the whole vector, chunk by
        # chunk).
        fuse = False
        if wide is not None:
            fuse = (lambd == 0.0 and NATIVE_GEMM
                    and use_blas(dims[1], n_x, mb))
        cost = _step(A0f, t0f, A0b, t0b, Yc, mb, dims, acts, output, Wf, bf,
                     (woff, boff, roff), (Zf, Af, dAf, dZf), dWf, dbf,
                     (Df, keep_prob, seed, step), eps, parallel, min_work,
                     nthreads, wide, hand, hand_threads, fuse, VWf, SWf, opt,
                     hpW, first)
        if not np.isfinite(cost):
            costs[k] = cost
            costs[k + 1:n] = np.nan
            return s - s0
        sq = 0.0
        if not fuse:
            sq = update_params(Wf, dWf, VWf, SWf, opt, hpW, partial,
                               parallel)
        update_params(bf, dbf, Vbf, Sbf, opt, hpb, partial, parallel)
        c = np.float64(cost) * cost_scale
        if lambd != 0.0:
            # The course's (1/m) * (lambd/2) * sum ||W_l||^2.
            c = c + (1.0 / mb) * (lambd / 2.0) * sq
        if full:
            total[0] = c
        else:
            total[0] += c * mb
        if bi == nb - 1:
            costs[k] = total[0] if full else total[0] / m
            if not np.isfinite(costs[k]):
                costs[k + 1:n] = np.nan
                return s - s0
    return s1 - s0
