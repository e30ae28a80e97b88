"""A mini-batch's gather and the forward passes of its first GEMM layers in
one parallel region (private), for the training toolbox's loop.

Apart, the gather of the batch's rows of X^T takes a parallel region, and
each layer on fastdnn's GEMM another (:mod:`fastdnn._kernels_forward_gemm`):
three in a row on the MNIST shape, each paying numba's launch of the pool
(with TBB, a task arena made for each region, which the other thread
joins late) and waiting at its end for its slowest task. Here they are the
phases of one region: the gather's parts, then each layer's tasks, a phase
starting when every task of the one before is done (a layer reads all of
the previous one's output).

A phase's tasks are claimed one by one, each from a counter of its own
(:func:`fastdnn._kernels_tickets.fetch_add`, the first to add takes it),
worker w trying task w first: with both threads there, each core keeps the
rows of the layers (and of W1, whose step the first layer's backward task
q takes on the same core) that the separate regions gave it. No wait can
last forever: a worker waits, before a task it has claimed, for the
previous phase's tasks; a worker leaves a phase only once every one of its
tasks is claimed, so those are held by workers that are running them, or
waiting in turn for a phase before, down to the first, whose tasks wait
for nothing. When numba runs the workers one after another on one thread,
the first claims every task.

Each task is the computation of the separate regions' task of the same
number (the gather's examples, the product's tiles, the rows' bias and
activation): the results are theirs, bit for bit, on any thread count.
"""
import numpy as np
from numba import prange

from ._kernels_blas import forward_on_gemm
from ._kernels_common import (ZERO_INT, _exact, _exact_leaf, _exact_parallel,
                              _inline, flat_view)
from ._kernels_forward_gemm import forward_task, forward_task_plan
from ._kernels_gemm import NATIVE_GEMM, any_layout
from ._kernels_gemm_split import KIND_PACKED, packed_width
from ._kernels_gather import gather, gather_part
from ._kernels_tickets import fetch_add, load_acquire, spin_pause

#: The columns of :func:`forward_chain`'s plan (int64, a row per layer):
#: the product's kind, its tasks, whether they take C by rows, the start
#: of their copy blocks in the shared scratch and the blocks' width.
(PLAN_KIND, PLAN_PARTS, PLAN_ROWS, PLAN_OFFSET, PLAN_WIDTH,
 PLAN_FIELDS) = range(6)


@_inline
def _layer_operands(p, B0, Wf, woff, Zf, Af, roff, dims, mb):
    # Layer p's W, A_prev (B0, the gathered batch, for the first layer)
    # and Z: the views its plan is made for and its tasks compute on.
    n = dims[p + 1]
    K = dims[p]
    W = any_layout(flat_view(Wf, woff[p], n, K))
    if p == 0:
        B = B0
    else:
        B = any_layout(flat_view(Af, roff[p - 1] * mb, K, mb))
    return W, B, flat_view(Zf, roff[p] * mb, n, mb)


@_exact_leaf
def _layer_task(B0, Wf, woff, bf, boff, Zf, Af, roff, dims, acts, mb, p,
                plan, scratch, q):
    # Task q of layer p's forward pass, as forward_tasks runs it.
    W, B, Z = _layer_operands(p, B0, Wf, woff, Zf, Af, roff, dims, mb)
    n = dims[p + 1]
    parts = plan[p, PLAN_PARTS]
    width = plan[p, PLAN_WIDTH]
    start = plan[p, PLAN_OFFSET]
    forward_task(W, B, Z, flat_view(bf, boff[p], n, 1), acts[p],
                 flat_view(Af, roff[p] * mb, n, mb), plan[p, PLAN_KIND],
                 parts, plan[p, PLAN_ROWS] != 0,
                 scratch[start:start + parts * width].reshape((parts, width)),
                 q)


@_exact_leaf
def _phase_tasks(phase, gather_parts, plan):
    # Tasks of a phase of _chain_parallel: the gather's parts (phase 0),
    # else layer phase - 1's.
    if phase == 0:
        return gather_parts
    return plan[phase - 1, PLAN_PARTS]


@_exact_parallel
def _chain_parallel(XT, YT, perm, lo, Xb, Yb, columns, gather_parts, B0, Wf,
                    woff, bf, boff, Zf, Af, roff, dims, acts, mb, layers,
                    plan, scratch, workers, counters):
    # Phase 0: the gather's parts; phase p + 1: layer p's tasks. counters:
    # per phase a claim slot for each of ``workers`` tasks at most, then
    # its count of tasks done.
    stride = workers + 1
    for w in prange(workers):
        own = np.int64(w)
        for phase in range(layers + 1):
            n = _phase_tasks(phase, gather_parts, plan)
            for k in range(n):
                q = (own + k) % n
                if fetch_add(counters, phase * stride + q, 1) != 0:
                    continue
                # Worker w tries task w first (its rows, as in the layers'
                # own regions); a task taken, it waits for the phase before.
                if phase > 0:
                    before = _phase_tasks(phase - 1, gather_parts, plan)
                    done = (phase - 1) * stride + workers
                    while load_acquire(counters, done) < before:
                        spin_pause()
                if phase == 0:
                    gather_part(XT, YT, perm, lo, mb, q * mb // n,
                                (q + 1) * mb // n, Xb, Yb, columns)
                else:
                    _layer_task(B0, Wf, woff, bf, boff, Zf, Af, roff, dims,
                                acts, mb, phase - 1, plan, scratch, q)
                fetch_add(counters, phase * stride + workers, 1)


@_exact
def layer_plan(p, B0, t0, Wf, woff, Zf, Af, roff, dims, mb, hand, threads):
    """``(kind, parts, by_rows)`` of layer p's forward pass in
    :func:`forward_chain`, ``parts`` 0 where the layer does not join.

    A layer joins where its forward pass would run in a region of its own
    (:func:`fastdnn._kernels_forward_gemm.forward_tasks`): on fastdnn's GEMM
    by the loops' rule (``hand``: None when every layer is on a GEMM, see
    :func:`fastdnn._primal_kernels._forward`), in at least two tasks that
    take whole rows of Z. B0: the batch's X as the first layer's product
    reads it, the transposed view of the gathered X^T when ``t0``; Zf and
    Af: the layers' pre-activations and activations, as (n_l, mb) blocks
    from row ``roff``."""
    if not NATIVE_GEMM or threads < 2 or (
            hand is not None
            and not forward_on_gemm(dims[p + 1], dims[p], mb, t0 and p == 0)):
        return KIND_PACKED, 0, False
    W, B, Z = _layer_operands(p, B0, Wf, woff, Zf, Af, roff, dims, mb)
    return forward_task_plan(W, B, Z, threads)


@_exact
def forward_chain(XT, YT, perm, lo, Xb, Yb, columns, gather_parts, A0, t0,
                  Wf, woff, bf, boff, Zf, Af, roff, dims, acts, mb, hand,
                  threads):
    """Gather the batch ``perm[lo:lo + mb]`` into Xb and Yb and run the
    forward passes of its first layers that join (:func:`layer_plan`), in
    one parallel region of ``threads`` workers; return how many layers ran
    (0: none joins, and nothing is written).

    The gather as :func:`fastdnn._kernels_gather.gather_parallel` splits it
    into ``gather_parts`` (0: on the calling thread, before the region).
    Buffers as :func:`fastdnn._toolbox_kernels.train_steps` holds them: the
    layers' W and b flat in Wf and bf from ``woff`` and ``boff``, their Z
    and A as (n_l, mb) blocks of Zf and Af from row ``roff``; A0 the batch's
    X in Xb, (mb, n_x) when ``t0`` (read through its transposed view)."""
    B0 = any_layout(A0.T) if t0 else any_layout(A0)
    # ZERO_INT: typed as the loop's p below, so that layer_plan compiles
    # once (a bare 0 is typed as its own literal).
    kind, parts, by_rows = layer_plan(ZERO_INT, B0, t0, Wf, woff, Zf, Af,
                                      roff, dims, mb, hand, threads)
    if parts == 0:
        return 0
    L = dims.shape[0] - 1
    plan = np.zeros((L, PLAN_FIELDS), np.int64)
    size = 0
    # Typed int64 from the start: a literal 0 would compile the region a
    # second time, for a count of layers that is always 0.
    layers = np.int64(0)
    for p in range(L):
        if p > 0:
            kind, parts, by_rows = layer_plan(p, B0, t0, Wf, woff, Zf, Af,
                                              roff, dims, mb, hand, threads)
            if parts == 0:
                break
        width = 0
        if kind == KIND_PACKED:
            width = packed_width(dims[p + 1], mb, dims[p], Af.itemsize,
                                 parts, by_rows)
        plan[p, PLAN_KIND] = kind
        plan[p, PLAN_PARTS] = parts
        plan[p, PLAN_ROWS] = 1 if by_rows else 0
        plan[p, PLAN_OFFSET] = size
        plan[p, PLAN_WIDTH] = width
        size += parts * width
        layers += 1
    if gather_parts == 0:
        gather(XT, YT, perm, lo, lo + mb, Xb, Yb, columns)
    counters = np.zeros((layers + 1) * (threads + 1), np.int64)
    _chain_parallel(XT, YT, perm, lo, Xb, Yb, columns, gather_parts, B0, Wf,
                    woff, bf, boff, Zf, Af, roff, dims, acts, mb, layers,
                    plan, np.empty(size, Af.dtype), threads, counters)
    return layers
