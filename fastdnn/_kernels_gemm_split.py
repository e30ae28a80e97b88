"""How fastdnn's matrix product (:mod:`fastdnn._kernels_gemm`) is shared
out (private): how many tasks a product is split into, which of C's tiles
each task computes, and the blocks in which tasks copy a transposed B.

Integer arithmetic on the shapes only: a task's share depends on the
product's shape and the task count, never on which thread runs it, and
every tile is computed the same way in any share, so the results do not
depend on the split.
"""
import numpy as np

from ._kernels_common import _exact, _exact_leaf, _inline
from ._kernels_gemm_tile import DOT_MR, DOT_NR, MR, tile_columns

#: Products of fewer multiply-adds run on one thread: waking the pool
#: costs more than the second core saves.
GEMM_PARALLEL_MIN_WORK = 1 << 18

#: A product's tasks share C out by rows (see :func:`splits_rows`) from
#: ROW_SPLIT_MIN_BLOCKS row blocks a task on, over sums of at least
#: ROW_SPLIT_MIN_K terms. A task then reads all of B but only its own rows
#: of A, and writes whole rows of C, as the training loops' element-wise
#: passes around the product (bias and activation, dZ and db) share rows
#: out too. Epochs, paired against the split by panels on two Zen 4
#: threads: the MNIST shape at batch 128 5% faster, the digits 4.5%
#: (float64) and 6.5% (float32); at batch 32 (dW over 32 examples) 2%
#: slower, hence the shortest sum.
ROW_SPLIT_MIN_BLOCKS = 4
ROW_SPLIT_MIN_K = 64

#: How a product reads B: in place by the register tiles (B's columns
#: contiguous), in place by the dot-product tiles, or through per-task
#: copies of its column panels (see
#: :func:`fastdnn._kernels_gemm.matmul_scaled_into`). Typed int64, as the
#: kinds the kernels compute, so that a callee given one compiles once.
KIND_TILES = np.int64(0)
KIND_DOT = np.int64(1)
KIND_PACKED = np.int64(2)


#: Columns per tile for float32 and float64 elements.
NR_FLOAT32 = tile_columns(4)
NR_FLOAT64 = tile_columns(8)


@_inline
def panel_width(itemsize):
    """Columns per register tile (a column panel of C) for elements of
    ``itemsize`` bytes."""
    return NR_FLOAT32 if itemsize == 4 else NR_FLOAT64


@_inline
def row_blocks(rows):
    """Row blocks of MR that ``rows`` rows of C are cut into (the last one
    shorter)."""
    return (rows + MR - 1) // MR


@_exact_leaf
def tile_count(M, N, kind, itemsize):
    # (tiles, row blocks) of an M x N C in the tiles of ``kind``.
    if kind == KIND_DOT:
        dot_blocks = (M + DOT_MR - 1) // DOT_MR
        return dot_blocks * ((N + DOT_NR - 1) // DOT_NR), dot_blocks
    nr = panel_width(itemsize)
    blocks = row_blocks(M)
    return blocks * ((N + nr - 1) // nr), blocks


@_exact_leaf
def task_count(threads, M, N, K, tiles):
    # Tasks a product of M x K by K x N in ``tiles`` tiles is split into:
    # one below GEMM_PARALLEL_MIN_WORK multiply-adds, else one a thread,
    # at most one a tile.
    if threads > 1 and M * N * K >= GEMM_PARALLEL_MIN_WORK:
        return min(threads, tiles)
    return 1


@_exact_leaf
def share(q, parts, M, panels, by_rows):
    """Task q's tiles among ``parts`` tasks: C's rows r0:r1, cut into row
    blocks of MR from r0 (the last one shorter), and the tiles t0:t1
    numbered down those row blocks, then across the column panels. By
    rows: the task's own ``1 / parts`` of C's rows, to a row, every panel
    (so that where MR does not divide them, each task ends on a short
    block of its own: 64 rows of 6-row blocks go as 32 and 32, 5 blocks
    and 2 rows each, rather than as 5 blocks and 6, one of 4 rows); else
    a range of the tiles numbered down all of C's row blocks."""
    if by_rows:
        r0 = q * M // parts
        r1 = (q + 1) * M // parts
        return r0, r1, 0, row_blocks(r1 - r0) * panels
    tiles = row_blocks(M) * panels
    return 0, M, q * tiles // parts, (q + 1) * tiles // parts


@_exact_leaf
def splits_rows(M, N, K, itemsize, parts):
    """Whether a product's ``parts`` tasks share C out by rows (each task
    its own row blocks, across every column panel) rather than by ranges
    of tiles numbered down the row blocks (whole column panels, mostly).
    By rows from ROW_SPLIT_MIN_BLOCKS row blocks a task on, for C wider
    than a panel (one panel goes by rows either way) over a sum of at
    least ROW_SPLIT_MIN_K terms."""
    nr = panel_width(itemsize)
    return (parts > 1 and N > nr and K >= ROW_SPLIT_MIN_K
            and row_blocks(M) >= ROW_SPLIT_MIN_BLOCKS * parts)


@_exact_leaf
def tasks_take_whole_rows(N, itemsize, by_rows):
    """Whether each task of a product whose C has ``N`` columns computes
    whole rows of C (see :func:`task_rows`): when the tasks share C out by
    rows, or C is one column panel wide (its tiles, numbered down the row
    blocks, then cover whole rows)."""
    nr = panel_width(itemsize)
    return by_rows or N <= nr


@_exact_leaf
def task_rows(q, parts, M, N, itemsize, by_rows):
    """The rows r0:r1 of C whose tiles task q of ``parts`` computes, every
    column of them, where :func:`tasks_take_whole_rows` holds; (0, 0) for
    a task with no tiles."""
    nr = panel_width(itemsize)
    r0, r1, t0, t1 = share(q, parts, M, (N + nr - 1) // nr, by_rows)
    if by_rows:
        return r0, r1
    # One panel: tile t is the row block t.
    return min(M, t0 * MR), min(M, t1 * MR)


@_exact_leaf
def panels_of(r0, r1, t0, t1, nr, N):
    # The columns j0:j1 of C (and of B) that a task's tiles (share)
    # cover: the column panels of its tiles.
    if t1 <= t0:
        return 0, 0
    rows = row_blocks(r1 - r0)
    return (t0 // rows) * nr, min(N, ((t1 - 1) // rows + 1) * nr)


@_exact_leaf
def packed_width(M, N, K, itemsize, parts, by_rows):
    """Elements in each of the blocks that the ``parts`` tasks of a product
    of M x K by K x N copy a transposed B's column panels into: K * the
    widest task's columns."""
    nr = panel_width(itemsize)
    panels = (N + nr - 1) // nr
    width = 0
    for q in range(parts):
        r0, r1, t0, t1 = share(q, parts, M, panels, by_rows)
        j0, j1 = panels_of(r0, r1, t0, t1, nr, N)
        width = max(width, j1 - j0)
    return K * width


@_exact
def packed_scratch(M, N, K, C, parts, by_rows):
    """The blocks of a transposed B that the ``parts`` tasks of a product
    of M x K by K x N copy their column panels into: (parts,
    :func:`packed_width`), C's dtype."""
    return np.empty((parts, packed_width(M, N, K, C.itemsize, parts,
                                         by_rows)), C.dtype)


@_exact_leaf
def split_product(A, C, kind, threads):
    """How ``C = A B`` of ``kind`` is split on ``threads`` threads, from
    the shapes alone: its tasks (:func:`task_count`) and whether they take
    C by rows (:func:`splits_rows`)."""
    M, K = A.shape
    N = C.shape[1]
    tiles, _ = tile_count(M, N, kind, C.itemsize)
    parts = task_count(threads, M, N, K, tiles)
    return parts, splits_rows(M, N, K, C.itemsize, parts)


@_exact
def product_scratch(A, C, kind, parts, by_rows):
    """The blocks the tasks of ``C = A B`` copy B's panels into
    (:func:`packed_scratch` for KIND_PACKED, else empty)."""
    if kind == KIND_PACKED:
        M, K = A.shape
        return packed_scratch(M, C.shape[1], K, C, parts, by_rows)
    return np.empty((0, 0), C.dtype)


@_exact
def plan_product(A, B, C, kind, threads):
    """:func:`split_product` and :func:`product_scratch` together:
    ``(parts, by_rows, scratch)``."""
    parts, by_rows = split_product(A, C, kind, threads)
    return parts, by_rows, product_scratch(A, C, kind, parts, by_rows)
