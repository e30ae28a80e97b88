"""One layer's forward and backward pass with the matrix products done by
a blocked GEMM (private): for wide layers, where a GEMM beats the
hand-written kernels' loops. On hosts with AVX-512 or AVX2 and FMA the
GEMM is fastdnn's own (:mod:`fastdnn._kernels_gemm`, :data:`NATIVE_GEMM`),
on older CPUs BLAS's.

numba compiles ``np.dot(a, b, out)`` on contiguous 2-D arrays to a call of
the GEMM of scipy's BLAS (``scipy.linalg.cython_blas``), without a trip
through Python: these kernels are called from inside the compiled training
loops, once per layer and batch, with every buffer preallocated. The
element-wise parts (bias, activation, its gradient, the bias gradient) are
the hand-written kernels' own row functions. Forward, on fastdnn's GEMM
split among threads, each task takes the bias and activation of the rows
it computed, in the product's parallel region
(:mod:`fastdnn._kernels_forward_gemm`); otherwise, and backward, they are
dealt out to the threads by blocks of rows when the pass is long enough
(:data:`ELEMENTWISE_PARALLEL_MIN`).

Same arguments and results as :func:`fastdnn._kernels.forward_serial` and
:func:`fastdnn._kernels.backward_serial`, to rounding: GEMM sums in its own
order. The order depends on the shapes, not on the number of threads (the
BLAS splits the rows and columns of the product among its threads, never
the summed axis), so results are the same for any thread count.
"""
import numpy as np
from numba import prange

from ._kernels_backward import _dZ_db_rows, _nonfinite_flag
from ._kernels_common import ZERO_INT, _exact, _exact_parallel, _serial_leaf
from ._numba_config import PARALLEL_MIN_WORK
from ._kernels_elementwise import ACT_FORWARD_COST
from ._kernels_forward_gemm import bias_activate_rows, forward_tasks
from ._kernels_gemm import (NATIVE_GEMM, any_layout, matmul_scaled_into,
                            reads_transposed_b_in_place)
from ._kernels_gemm_pair import matmul_pair_scaled_into

#: A layer's products go to BLAS when it has a product of at least
#: BLAS_MIN_WORK multiply-adds (n_l n_{l-1} m) and either at least
#: BLAS_MIN_ROWS outputs, or at least BLAS_MIN_ROWS_LONG outputs over a
#: batch of at least BLAS_LONG_BATCH examples. Below the work, a call's
#: fixed cost wins; below the rows (the cat's 20 x 12288 first layer over
#: 64 or 209 examples), the hand-written kernels, which fuse the bias, the
#: activation and the sums into the products' passes, are faster than GEMM
#: plus a pass of their own. Over a long batch GEMM's blocking pays off
#: from fewer rows (the 10-class output layer over the 1797 digits:
#: backward 97 us on BLAS against 166 by hand in float64, forward 57
#: against 75; a tie in float32), but not below 8 (4 rows: 45 us forward
#: on BLAS against 20 by hand). Measured on the layers of ``fastdnn
#: bench``'s workloads and around them (benchmarks/test_blas_layer_times.py
#: times both sides).
BLAS_MIN_WORK = 1 << 16
BLAS_MIN_ROWS = 32
BLAS_MIN_ROWS_LONG = 8
BLAS_LONG_BATCH = 1536
#: On fastdnn's own GEMM (NATIVE_GEMM), a layer of at least
#: GEMM_MIN_ROWS_NARROW outputs over at most GEMM_MAX_INPUTS_NARROW inputs
#: (a 10-class output layer over 128 hidden units) goes to it too, from
#: GEMM_MIN_WORK_NARROW multiply-adds, at any batch: forward and backward
#: together took 1.09-1.6x less time there than by hand on a Zen 4 host,
#: both in its AVX-512 build and in its AVX2 one (10 to 24 outputs, 32 to
#: 1024 inputs, batches of 16 to 128, float32 and float64; the 10 x 128
#: layer over 32 examples in float32: forward 1.65 against 3.42 us,
#: backward 4.08 against 6.45). At 8 outputs AVX2's 6-row tiles leave a
#: 2-row remainder, and float64 lost by up to 16%; over more inputs (the
#: cat's 12288) the fused, prefetching kernels are kept.
GEMM_MIN_ROWS_NARROW = 10
GEMM_MIN_WORK_NARROW = 1 << 15
GEMM_MAX_INPUTS_NARROW = 1024
#: Smaller layers of those rows go to fastdnn's GEMM too, from
#: GEMM_MIN_INPUTS_SMALL inputs and GEMM_MIN_WORK_SMALL multiply-adds: on
#: a Zen 5 host, mini-batch training steps of networks whose layers have
#: 10 to 100 outputs over 16 to 128 inputs, at batches of 8 to 64, took
#: 1.04-1.8x less time with them on the GEMM (the bench's 16-16-16-10
#: network at batch 32: 1.12-1.44x in the AVX-512 build, float32 and
#: float64, and 1.05-1.14x in the AVX2 one). Over 10 or 12 inputs the
#: hand-written kernels were as fast or up to 1.2x faster (12-12-12-12 and
#: 10-10-10-10 networks, batches of 32 and 64).
GEMM_MIN_INPUTS_SMALL = 16
GEMM_MIN_WORK_SMALL = 1 << 11
#: The layer kernels' forward pass over a C-ordered A_prev (not the
#: course's X, whose transpose the fused kernels read) sums more than
#: GEMM_MAX_INPUTS_NARROW inputs chunk by chunk across A_prev's rows; on
#: fastdnn's GEMM, whose register tiles read those rows in place, it takes
#: 1.2 to 5 times less in the AVX-512 build and 1.1 to 3.7 in the AVX2
#: one from GEMM_MIN_ROWS_C_ORDER outputs (a Zen 5 host: 4 to 20 outputs,
#: 1100 to 12288 inputs, 16 to 1000 examples, float32 and float64; the
#: cat's first layer, 20 x 12288 over 209 examples, 1.33 against 2.76 ms
#: in float64 on AVX-512). At one output neither is ahead everywhere.
#: See :func:`gemm_takes_c_ordered`: the training loops' hidden layers,
#: whose inputs are C-ordered, follow it as the layer kernels do
#: (:func:`forward_on_gemm`); their first layers over many inputs read
#: X^T.
GEMM_MIN_ROWS_C_ORDER = 4
#: The element-wise passes of a GEMM layer (bias and activation forward,
#: where the product's own tasks do not take them, see forward_blas;
#: activation gradient and bias gradient backward) are dealt out to the
#: GEMM's threads, by blocks of rows, from this much work on: elements of Z
#: times the activation's ACT_FORWARD_COST forward, elements of Z backward.
#: A parallel region costs about 3 us, a relu pass over 30,000 float32
#: elements or a tanh pass over 5,000: splitting breaks even from about
#: 65,000 elements for relu (forward and backward) and the gradients, from
#: 16,000 for the tanh forward, in float32 and float64
#: (benchmarks/test_blas_layer_times.py times both sides). Each row is
#: computed by the same code whichever thread takes it, so the bits do not
#: depend on the thread count.
ELEMENTWISE_PARALLEL_MIN = 1 << 16


@_exact
def use_blas(n, K, m):
    """Whether a layer of ``n`` outputs, ``K`` inputs and ``m`` examples
    runs its products on BLAS."""
    work = n * K * m
    if work >= BLAS_MIN_WORK and (n >= BLAS_MIN_ROWS or (
            n >= BLAS_MIN_ROWS_LONG and m >= BLAS_LONG_BATCH)):
        return True
    return (NATIVE_GEMM and n >= GEMM_MIN_ROWS_NARROW
            and K <= GEMM_MAX_INPUTS_NARROW
            and (work >= GEMM_MIN_WORK_NARROW or (
                K >= GEMM_MIN_INPUTS_SMALL and work >= GEMM_MIN_WORK_SMALL)))


@_exact
def gemm_takes_c_ordered(n, K):
    """Whether the forward pass of a layer of ``n`` outputs over a
    C-ordered A_prev of ``K`` inputs runs on fastdnn's GEMM where
    :func:`use_blas` says no (see :data:`GEMM_MIN_ROWS_C_ORDER` and
    :func:`forward_on_gemm`).

    At every batch size: the GEMM is ahead from one example on (the cat's
    first layer over 1 to 7 examples: 54-64 us against 135-271 by hand),
    and a column's value does not then depend on how many come with it."""
    return (NATIVE_GEMM and K > GEMM_MAX_INPUTS_NARROW
            and n >= GEMM_MIN_ROWS_C_ORDER)


@_exact
def forward_on_gemm(n, K, m, transposed):
    """Whether the forward pass of a layer of ``n`` outputs, ``K`` inputs
    and ``m`` examples runs on a GEMM: the one rule of the public forward
    pass (:func:`fastdnn._kernels.forward`) and of the training loops'
    (which must give its bits). ``transposed``: A_prev is given as
    A_prev^T (the course's X); otherwise A_prev is C-ordered, as the loops'
    hidden activations are."""
    return use_blas(n, K, m) or (not transposed
                                 and gemm_takes_c_ordered(n, K))


@_exact
def first_layer_layouts(n_1, n_x, m, wide):
    """``(forward_from_X, dW_from_XT)`` for the first layer (``n_1``
    outputs, ``n_x`` inputs) of a full-batch training loop over ``m``
    examples, which holds both X and X^T and must give the bits of the
    layer kernels called with X^T forward and X backward: whether the
    forward product reads X rather than X^T, and whether dW reads X^T
    rather than X. The hand-written kernels read X^T forward and X
    backward. On fastdnn's GEMM, a product whose B is given transposed is
    either read in place by the dot-product tile
    (:func:`fastdnn._kernels_gemm.reads_transposed_b_in_place`), whose sums
    are its own, or copied and summed by the register tiles, whose bits
    are those of the other layout read directly: so the GEMM reads X
    forward and X^T for dW, except where the kernels' layout would take
    the dot-product tile. ``wide``: None for a network without GEMM layers
    (see :func:`network_uses_gemm`). The one rule of the primal and
    toolbox loops."""
    on_gemm = NATIVE_GEMM and wide is not None and use_blas(n_1, n_x, m)
    return (on_gemm and not reads_transposed_b_in_place(n_1, n_x),
            on_gemm and not reads_transposed_b_in_place(n_1, m))


def network_uses_gemm(dims, m):
    """Whether some layer of ``dims`` runs a product on a GEMM
    (:func:`use_blas`, or the forward pass of a hidden activation over
    many inputs: :func:`gemm_takes_c_ordered`) for batches of ``m`` (the
    loops' ``wide``, see :func:`loop_flags`). The loops hand the first
    layer over many inputs X^T, which that rule leaves out."""
    return any(use_blas(int(dims[q + 1]), int(dims[q]), int(m))
               or (q > 0 and gemm_takes_c_ordered(int(dims[q + 1]),
                                                  int(dims[q])))
               for q in range(len(dims) - 1))


def network_uses_hand_kernels(dims, batch_sizes, first=0, min_work=0):
    """Whether some layer of ``dims``, from layer ``first`` (0-based) on,
    runs on the hand-written kernels (not :func:`use_blas`) for a batch of
    one of ``batch_sizes``, with at least ``min_work`` multiply-adds.
    The sizes must be every batch size of the run (a last, smaller batch
    may fall below the GEMM's threshold)."""
    for q in range(first, len(dims) - 1):
        n, k = int(dims[q + 1]), int(dims[q])
        for m in batch_sizes:
            m = int(m)
            if n * k * m >= min_work and not use_blas(n, k, m):
                return True
    return False


#: The training loops' compiled variants by their flags ``(wide, hand,
#: hand_threads)`` (see :func:`loop_flags`): without the GEMM, with the
#: hand-written kernels serial only or also parallel; with both, likewise;
#: with the GEMM alone.
LOOP_VARIANTS = ((None, True, None), (None, True, True), (True, True, None),
                 (True, True, True), (True, None, None))


def loop_flags(dims, batch_sizes, first=0):
    """``(wide, hand, hand_threads)``, each True or None, for a training
    loop over ``dims`` and batches of every size in ``batch_sizes``, whose
    layers from ``first`` on run on the layer kernels (the primal loop
    runs a first layer of its own, see fuses_first_layer).

    ``wide``: some layer runs on a GEMM (:func:`network_uses_gemm`);
    ``hand``: some layer on the hand-written kernels; ``hand_threads``:
    one of those with :data:`PARALLEL_MIN_WORK` multiply-adds, the work of
    their parallel versions. numba drops the branch of a loop compiled for
    an argument of type None (``if wide is None`` is then a constant), so
    a run compiles only the kernels it can reach: the cat's network never
    compiles the GEMM, a wide network's none of the hand-written kernels.
    """
    wide = any(network_uses_gemm(dims, m) for m in batch_sizes)
    hand = not wide or network_uses_hand_kernels(dims, batch_sizes, first)
    threads = network_uses_hand_kernels(dims, batch_sizes, first,
                                        PARALLEL_MIN_WORK)
    return tuple(True if flag else None for flag in (wide, hand, threads))


def network_uses_blas(dims, m):
    """Whether some layer of ``dims`` runs its products on BLAS (not on
    :mod:`fastdnn._kernels_gemm`) for batches of ``m``.

    The training loops then run their other kernels on one thread: BLAS
    keeps its own threads spinning for a while after each product, and
    numba's threads started meanwhile would take turns with them on the
    cores (an epoch of the MNIST-shape workload took 1.4x as long).
    """
    return not NATIVE_GEMM and network_uses_gemm(dims, m)


@_exact_parallel
def _bias_activate_parallel(Z, b, act, Aout, threads):
    n = Z.shape[0]
    runs = min(n, threads)
    for r in prange(runs):
        bias_activate_rows(Z, b, act, Aout, r * n // runs,
                           (r + 1) * n // runs)


@_exact_parallel
def _dZ_db_parallel(dA, Z, Aout, act, dZ, db, threads):
    n = Z.shape[0]
    runs = min(n, threads)
    for r in prange(runs):
        _dZ_db_rows(dA, Z, Aout, act, dZ, db, r * n // runs,
                    (r + 1) * n // runs)


@_serial_leaf
def _scale(C, alpha):
    # C *= alpha, element by element.
    n, K = C.shape
    for i in range(n):
        row = C[i]
        for k in range(K):
            row[k] = row[k] * alpha


@_exact
def _product(A, B, C, threads, alpha):
    # C = alpha A B on the GEMM of this host (see the module's docstring):
    # fastdnn's applies alpha as it stores each sum; after BLAS's, a pass
    # does (the same bits), unless alpha is 1. fastdnn's takes views of
    # any layout (one compilation for every layout: the callers pass
    # them so); numba's np.dot wants the arrays' own layouts
    # (it copies one of unknown layout), so BLAS's callers make one call
    # per layout.
    if NATIVE_GEMM:
        matmul_scaled_into(A, B, C, threads, alpha)
    else:
        np.dot(A, B, C)
        if alpha != 1:
            _scale(C, alpha)


@_exact
def forward_blas(W, A, b, act, Z, Aout, transposed, threads):
    """``Z = W A_prev + b``, ``Aout = g(Z)`` (see
    :func:`fastdnn._kernels.forward_serial`); A is A_prev (n_{l-1}, m) or,
    when ``transposed``, A_prev^T (m, n_{l-1}). ``threads``: tasks for
    fastdnn's GEMM (1 on a thread that may not launch numba's pool; BLAS
    keeps its own)."""
    one = Z.dtype.type(1)
    if NATIVE_GEMM:
        # One product, compiled once, for both layouts of A (views of any
        # layout: numba drops the BLAS branch for a NATIVE_GEMM host).
        B = any_layout(A.T) if transposed else any_layout(A)
        if threads > 1 and forward_tasks(any_layout(W), B, Z, b, act, Aout,
                                         threads):
            return  # product, bias and activation in one region
        _product(any_layout(W), B, any_layout(Z), threads, one)
    elif transposed:
        # One call per layout: a conditional expression would give numba's
        # np.dot an array of unknown layout ('A'), which it copies.
        _product(W, A.T, Z, threads, one)
    else:
        _product(W, A, Z, threads, one)
    bias_activate(Z, b, act, Aout, threads)


@_exact
def bias_activate(Z, b, act, Aout, threads):
    """``Z += b``, ``Aout = g(Z)`` after a product of its own: dealt out to
    ``threads`` by blocks of rows from :data:`ELEMENTWISE_PARALLEL_MIN`,
    else on the calling thread (the bits are the same either way)."""
    if (threads > 1 and Z.size * ACT_FORWARD_COST[act]
            >= ELEMENTWISE_PARALLEL_MIN):
        _bias_activate_parallel(Z, b, act, Aout, threads)
    else:
        bias_activate_rows(Z, b, act, Aout, ZERO_INT, Z.shape[0])


@_exact
def dZ_db(dA, Z, Aout, act, dZ, db, threads):
    """``dZ = dA * g'(Z)`` and ``db``: dealt out to ``threads`` by blocks
    of rows from :data:`ELEMENTWISE_PARALLEL_MIN`, else on the calling
    thread (the bits are the same either way)."""
    if threads > 1 and Z.size >= ELEMENTWISE_PARALLEL_MIN:
        _dZ_db_parallel(dA, Z, Aout, act, dZ, db, threads)
    else:
        _dZ_db_rows(dA, Z, Aout, act, dZ, db, ZERO_INT, Z.shape[0])


@_exact
def backward_blas_unchecked(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ,
                            dW, db, dA_prev, transposed, threads):
    """:func:`backward_blas` without its check of dW, for the training
    loops, which stop on a non-finite cost rather than on a non-finite dW:
    no pass over dW of its own (``1/m`` is applied as the GEMM stores dW).
    Returns nothing."""
    dZ_db(dA, Z, Aout, act, dZ, db, threads)
    inv_m = dW.dtype.type(1.0 / dZ.shape[1])
    one = W.dtype.type(1)
    if NATIVE_GEMM:
        # Views of any layout, as in forward_blas.
        B = any_layout(A_prev) if transposed else any_layout(A_prev.T)
        dZ_any, dW_any = any_layout(dZ), any_layout(dW)
        if need_dA_prev:
            # Both products in one parallel region (see _kernels_gemm_pair).
            matmul_pair_scaled_into(dZ_any, B, dW_any, inv_m,
                                    any_layout(W.T), dZ_any,
                                    any_layout(dA_prev), one, threads)
        else:
            _product(dZ_any, B, dW_any, threads, inv_m)
        return
    if transposed:  # one call per layout, as in forward_blas
        _product(dZ, A_prev, dW, threads, inv_m)
    else:
        _product(dZ, A_prev.T, dW, threads, inv_m)
    if need_dA_prev:
        _product(W.T, dZ, dA_prev, threads, one)


@_exact
def backward_blas(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ, dW, db,
                  dA_prev, transposed, threads):
    """``dZ = dA * g'(Z)``, ``db``, ``dW = dZ A_prev^T / m`` and, when
    ``need_dA_prev``, ``dA_prev = W^T dZ`` (see
    :func:`fastdnn._kernels.backward_serial`, whose returns it shares:
    whether W and dW are finite, and a value to ignore). ``threads``: as in
    :func:`forward_blas`."""
    backward_blas_unchecked(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ,
                            dW, db, dA_prev, transposed, threads)
    flag = (_nonfinite_flag(dW, 0, dW.shape[1])
            + _nonfinite_flag(W, 0, W.shape[1]))
    return flag == 0, dW.dtype.type(0)
