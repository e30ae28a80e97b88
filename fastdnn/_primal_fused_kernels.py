"""The primal solver's first layer over many inputs in one pass over X
(private; see :mod:`fastdnn._primal_kernels`).

An iteration of gradient descent reads X twice in its first layer: for
``dW1 = dZ1 X^T / m`` at the end of the iteration and for ``Z1 = W1 X + b1``
at the start of the next. Over the cat's 12288 inputs X (20.5 MB in
float64) does not stay in the caches between the two, and both products
wait on memory. Here the two share one pass: X goes by blocks of
:data:`fastdnn._kernels_backward.BACKWARD_ROWS` rows, and while a block is in
L1 its columns of dW1 are computed, its columns of W1 updated, and its
terms added to the next iteration's ``W1 X`` by fastdnn's register tiles
(:mod:`fastdnn._kernels_gemm_tile`).

Bits. dW1 is the backward kernel's (the same blocks and sums) and the
update :func:`fastdnn._kernels.update_into`'s formula. The forward product
``W1 X`` is summed in the forward kernels' fixed chunks of the input axis
(:func:`fastdnn._kernels._n_chunks`),
each chunk a whole number of blocks, by the register tiles (one fused
multiply-add per term, in input order), the chunks' sums added in chunk
order with the bias by :func:`fastdnn._kernels._forward_finish`:
:func:`forward_parts` computes the same sums on their own, so an iteration
gives the same bits whether its forward product was fused into the last
one's backward pass or not, on any number of threads. These sums differ
from the layer kernels' (which sum along X^T's rows) in the last bits.
"""
import numpy as np

from numba import prange

from ._kernels import _n_chunks, update_into
from ._kernels_backward import BACKWARD_ROWS, _dW_block
from ._kernels_blas import use_blas
from ._kernels_common import _exact, _exact_leaf, _exact_parallel
from ._kernels_gemm import NATIVE_GEMM, _tile
from ._kernels_gemm_dot import line_aligned_rows
from ._kernels_gemm_split import panel_width
from ._kernels_gemm_tile import MR, address

#: Chunks of the input axis from which the fused pass is taken: its
#: chunks are what the threads share, and with one chunk (fewer than 2048
#: inputs, see fastdnn._kernels._n_chunks) it would run on one thread where
#: the layer kernels run on two (20 units over 209 examples, two Zen 4
#: threads: 1024 inputs 1.18x and 1.34x the two kernels' time in float64
#: and float32; 2048 inputs 0.92x and 0.86x, 4096 0.85x and 0.87x, 12288
#: 0.76x and 0.84x; over 64 examples 0.87-0.98x from 2048 inputs; one
#: thread 0.80-0.98x; benchmarks/test_primal_pass_times.py times both).
FUSED_MIN_CHUNKS = 2


def fuses_first_layer(n_1, n_x, m):
    """Whether the primal loop runs a first layer of ``n_1`` units over
    ``n_x`` inputs and ``m`` examples by this module's one pass: on hosts
    with fastdnn's GEMM, for a layer the hand-written kernels would run
    (not :func:`fastdnn._kernels_blas.use_blas`) over at least
    :data:`FUSED_MIN_CHUNKS` chunks of inputs."""
    return bool(NATIVE_GEMM and not use_blas(n_1, n_x, m)
                and _n_chunks(n_x) >= FUSED_MIN_CHUNKS)


@_exact
def chunk_rows(n_x, chunks):
    """Inputs per chunk (the last may have fewer): n_x / chunks rounded up
    to whole blocks of BACKWARD_ROWS, so that a chunk's blocks are the
    backward kernel's. Every chunk has at least one input when n_x is at
    least 1024 per chunk."""
    per = (n_x + chunks - 1) // chunks
    return (per + BACKWARD_ROWS - 1) // BACKWARD_ROWS * BACKWARD_ROWS


@_exact_leaf
def _chunk(dZ, X, W, dW, lr, part, k0, k1, grad):
    # Inputs k0:k1, block by block. With ``grad``: the block's dW columns
    # (prefetching the next block meanwhile, as the backward kernel does),
    # then its W columns updated. Then part (n_1, m) += W[:, block] X[block]
    # by the register tiles; the first block stores rather than adds.
    n = W.shape[0]
    n_x, m = X.shape
    item = X.itemsize
    nr = panel_width(item)
    one = X.dtype.type(1)
    c0 = address(part)
    w0 = address(W)
    x0 = address(X)
    for kb in range(k0, k1, BACKWARD_ROWS):
        ke = min(k1, kb + BACKWARD_ROWS)
        if grad:
            k2 = min(k1, ke + BACKWARD_ROWS)
            _dW_block(dZ, X, dW, kb, ke, ke * m, k2 * m)
            update_into(W[:, kb:ke], dW[:, kb:ke], lr, W[:, kb:ke])
        accumulate = 1 if kb > k0 else 0
        for j in range(0, m, nr):
            nc = min(nr, m - j)
            for i in range(0, n, MR):
                _tile(one, c0 + (i * m + j) * item, m,
                      w0 + (i * n_x + kb) * item, n_x, 1,
                      x0 + (kb * m + j) * item, m, ke - kb,
                      min(MR, n - i), nc, nr, accumulate)


@_exact_leaf
def _chunk_task(dZ, X, W, dW, lr, parts, grad, c):
    # Chunk c of the input axis (the same bounds on any thread).
    n_x = X.shape[0]
    rows = chunk_rows(n_x, parts.shape[0])
    _chunk(dZ, X, W, dW, lr, parts[c], c * rows, min(n_x, (c + 1) * rows),
           grad)


@_exact_parallel
def _chunks_parallel(dZ, X, W, dW, lr, parts, grad):
    for c in prange(parts.shape[0]):
        # prange's index is unsigned: as int64, the serial loop's task.
        _chunk_task(dZ, X, W, dW, lr, parts, grad, np.int64(c))


@_exact_leaf
def _chunks_serial(dZ, X, W, dW, lr, parts, grad):
    for c in range(parts.shape[0]):
        _chunk_task(dZ, X, W, dW, lr, parts, grad, c)


@_exact_leaf
def forward_parts(W, X, parts, parallel):
    """``parts[c] = W[:, chunk c] X[chunk c]``: W (n_1, n_x), X (n_x, m)
    and parts (_n_chunks(n_x), n_1, m), all C-contiguous; the chunks on
    numba's threads when ``parallel``. The same sums whichever."""
    if parallel:
        _chunks_parallel(W, X, W, W, X.dtype.type(0), parts, False)
    else:
        _chunks_serial(W, X, W, W, X.dtype.type(0), parts, False)


@_exact_leaf
def backward_update_forward(dZ, X, W, dW, lr, parts, parallel):
    """``dW = dZ X^T / m`` (the backward kernel's), ``W = W - lr dW``
    (:func:`fastdnn._kernels.update_into`'s formula), then
    :func:`forward_parts` of the new W, in one pass over X. dZ (n_1, >= m)
    (its first m columns; :func:`dZ_buffer` gives rows that the dW tiles
    read fastest), X (n_x, m), W and dW (n_1, n_x), parts as in
    forward_parts; ``lr`` a scalar of their dtype."""
    if parallel:
        _chunks_parallel(dZ, X, W, dW, lr, parts, True)
    else:
        _chunks_serial(dZ, X, W, dW, lr, parts, True)


def parts_buffer(n_1, n_x, m, dtype):
    """The chunk sums' buffer for a first layer that
    :func:`fuses_first_layer`, else an empty one of the same type."""
    if not fuses_first_layer(n_1, n_x, m):
        return np.empty((0, 0, 0), dtype)
    return np.empty((_n_chunks(n_x), n_1, m), dtype)


def dZ_buffer(parts):
    """dZ1 as the fused pass's dW tiles read it: (n_1, >= m), each row
    starting on a cache line (the layout of
    :func:`fastdnn._kernels_gemm_dot.line_aligned_rows`, which makes it), for
    the ``parts`` of :func:`parts_buffer`; empty when those are."""
    _, n_1, m = parts.shape
    if not parts.size:
        return np.empty((0, 0), parts.dtype)
    return line_aligned_rows(np.empty((n_1, m), parts.dtype))
