"""fastdnn's own matrix product, ``C = A B`` (private), for the layers
whose products would otherwise go to BLAS.

Why not BLAS: numpy's and scipy's OpenBLAS pick their kernels when they
load, from the CPU or from ``OPENBLAS_CORETYPE``; a host that sets it to
an AVX2 core (``Haswell``) runs AVX2 kernels on an AVX-512 CPU, and BLAS
then takes about 3/4 of a mini-batch epoch. The register tile of
:mod:`fastdnn._kernels_gemm_tile`, compiled by numba for the host itself,
reaches about 230 GFLOP/s on one Zen 5 core in float32 where OpenBLAS's
AVX2 kernels reach about 160 on two. It is used in the training kernels
on hosts with AVX-512 or AVX2 and FMA (:data:`NATIVE_GEMM`); on older
CPUs BLAS keeps the products. Tests run it on every host.

Layout: C (M, N) has unit column stride; A (M, K) may have any strides
(W^T is a view). B (K, N) is read in place when its columns are
contiguous; a transposed view (A_prev^T in dW, X^T in a mini-batch's
forward pass) is copied in transposed blocks, each task copying the
column panels its tiles read, or, for a C of few rows over a long sum,
read in place by the dot-product tile (see :func:`matmul_into`). C's
tiles are independent, computed by the same code whichever thread runs
them, each element summed in one fixed order: the results do not depend
on the thread count.
"""
import numba
import numpy as np
from numba import prange

from ._kernels_gemm_tile import HAS_AVX2_FMA, HAS_AVX512, MR, \
    SHORT_ROWS, address, lanes, tile_edge, tile_edge_2, tile_edge_4, \
    tile_full, tile_full_2, tile_full_4
from ._kernels_gemm_transpose import transpose_block
from ._kernels_by_symbol import by_symbol
from ._kernels_by_symbol_arrays import arrays_by_symbol, matrix_at, strided_at
from ._kernels_common import (FALSE_FLAG, ONE_INT, ZERO_INT, _exact,
                              _exact_leaf, _exact_parallel, _exact_pinned_leaf,
                              _inline)
from ._kernels_gemm_dot import _dot_task, line_aligned_rows
from ._kernels_gemm_split import (KIND_DOT, KIND_PACKED, KIND_TILES,
                                  panel_width, panels_of, product_scratch,
                                  row_blocks, share, split_product)

#: Whether the training kernels run their wide layers' products here
#: rather than on BLAS: on hosts with AVX-512, where the tile was measured
#: 1.5-2.5x as fast as OpenBLAS (with its AVX2 kernels) on the layers of
#: ``fastdnn bench``, and on AVX2 hosts, where the two products are about
#: as fast as each other (benchmarks/test_gemm_times.py times both) but an
#: epoch is not: with BLAS the training loops run their element-wise
#: passes and the optimizer's update on one thread (see
#: :func:`fastdnn._kernels_blas.network_uses_blas`). On a Zen 3 host
#: (``fastdnn bench``'s trainer, three pairs of alternating processes) the
#: batch-32 Adam epoch took 1.2-2.2x as long with BLAS, batch-32 momentum
#: 1.1-1.6x, batch 128 and the digits' float32 about the same, the digits'
#: float64 about 4% less. The derivation from the target's
#: features (not an environment switch) keeps numba's on-disk cache right:
#: its index keys on the CPU and its features. With ``NUMBA_DISABLE_JIT=1``
#: (no cache then) BLAS keeps the products: the register tiles are LLVM
#: IR, which plain Python cannot run.
NATIVE_GEMM = (HAS_AVX512 or HAS_AVX2_FMA) and not numba.config.DISABLE_JIT

#: A B given as a transposed view (B^T row-contiguous) is read in place by
#: the dot-product tile when C has fewer than DOT_MAX_ROWS rows and the
#: summed axis at least DOT_MIN_K elements; otherwise B is copied (in
#: transposed blocks) and the register tile runs. The copy costs K N
#: element moves against M K N multiply-adds, so it pays off from a few
#: dozen rows of C, while the dot-product tile's horizontal sums, 16 per
#: tile, weigh on short sums (benchmarks/test_gemm_times.py times the
#: workloads' cases: the digits' 10-row dW over 1797 examples is 2x as
#: fast in place, the MNIST shape's first layer 1.4x as fast copied).
DOT_MAX_ROWS = 32
DOT_MIN_K = 128

#: Elements of the summed axis per pass of the register tiles over their
#: share of C: a tile's rows of A (MR x KC) and B's panel (KC x NR) stay
#: in L1 while the tiles down the panel reuse it; over a long sum (the
#: digits' dW, 1797 examples) the panel otherwise streams from L2 or
#: beyond for every tile.
KC = 512
#: Sums shorter than this go in one pass (MNIST's 784 inputs: blocks were
#: slower, the tiles' fixed costs repeated for each block).
KC_MIN_K = 1024

#: Rows per transposed block when B is copied (a block of B's rows and one
#: of its columns stay in L1 while they are swapped).
_PACK_BLOCK = 32


#: Elements per vector for float32 and float64 (the transposed blocks).
_LANES_FLOAT32 = lanes(4)
_LANES_FLOAT64 = lanes(8)


@_inline
def _tile(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr, nc, nr,
          accumulate):
    # One tile: all NR columns or masked ones, with the fewest rows that
    # hold mr (see SHORT_ROWS).
    if nc == nr:
        if mr <= SHORT_ROWS[0]:
            tile_full_2(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr,
                        nc, accumulate)
        elif mr <= SHORT_ROWS[1]:
            tile_full_4(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr,
                        nc, accumulate)
        else:
            tile_full(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr, nc,
                      accumulate)
    elif mr <= SHORT_ROWS[0]:
        tile_edge_2(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr, nc,
                    accumulate)
    elif mr <= SHORT_ROWS[1]:
        tile_edge_4(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr, nc,
                    accumulate)
    else:
        tile_edge(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr, nc,
                  accumulate)


def _tiles_body(alpha, itemsize, nr, c, ldc, a, as0, as1, b, ldb, N, K, r0,
                r1, t0, t1):
    # Tiles t0 .. t1 - 1 of C's rows r0:r1 in row blocks of MR from r0 (the
    # last one shorter), numbered down those row blocks, then across C's
    # column panels: consecutive tiles share B's panel (K, nr). ``alpha``,
    # addresses and strides as in the tile. The summed axis goes in blocks
    # of KC, each over all the tiles: the tiles carry their sums over in C
    # (the bits of one pass, see the tile), alpha applied by the last.
    rows = row_blocks(r1 - r0)
    one = type(alpha)(1)
    # At least one block, so that a sum of no terms still stores its zeros.
    k_end = max(K, 1)
    kb = KC if K >= KC_MIN_K else k_end
    for k0 in range(0, k_end, kb):
        kc = min(kb, K - k0)
        scale = alpha if k0 + kb >= K else one
        a_k = a + k0 * as1 * itemsize
        b_k = b + k0 * ldb * itemsize
        accumulate = 1 if k0 > 0 else 0
        for t in range(t0, t1):
            panel = t // rows
            i = r0 + (t - panel * rows) * MR
            j = panel * nr
            mr = min(MR, r1 - i)
            nc = min(nr, N - j)
            c_t = c + (i * ldc + j) * itemsize
            a_t = a_k + i * as0 * itemsize
            b_t = b_k + j * itemsize
            _tile(scale, c_t, ldc, a_t, as0, as1, b_t, ldb, kc, mr, nc, nr,
                  accumulate)


#: Compiled once per dtype, called by symbol (a function of scalars with
#: the GEMM's inner loops: its callers' libraries do not hold it).
_tiles = by_symbol(_tiles_body, "gemm_tiles")


@_exact_leaf
def _tiles_task(alpha, itemsize, nr, c, ldc, a, as0, as1, b, ldb, M, N, K,
                parts, by_rows, q):
    # Task q of ``parts``: its fixed share of the tiles (share).
    r0, r1, t0, t1 = share(q, parts, M, (N + nr - 1) // nr, by_rows)
    _tiles(alpha, itemsize, nr, c, ldc, a, as0, as1, b, ldb, N, K, r0, r1, t0,
           t1)


@_exact_leaf
def _tile_args(A, B, C, alpha):
    # The leading arguments of _tiles_task for C = alpha A B: alpha, the
    # item size, the panel width, addresses and strides.
    itemsize = C.itemsize
    nr = panel_width(itemsize)
    return (alpha, itemsize, nr, address(C),
            C.strides[0] // itemsize, address(A), A.strides[0] // itemsize,
            A.strides[1] // itemsize, address(B), B.strides[0] // itemsize)


@_exact_leaf
def _tiles_alone(A, B, C, alpha):
    # C = alpha A B, B and C of unit column stride, as one task on the
    # calling thread: every tile, no scratch.
    M, K = A.shape
    _tiles_task(*_tile_args(A, B, C, alpha), M, C.shape[1], K, ONE_INT,
                FALSE_FLAG, ZERO_INT)


@_exact
def any_layout(X):
    """A view of the 2-D ``X`` that numba types as an array of any layout
    ('A'), whatever X's: the GEMM's inner functions take their operands so
    and compile once for all layouts."""
    return X[:, :]


@_exact_leaf
def matmul_serial_into(A, B, C):
    """``C = A B`` on the calling thread, B and C of unit column stride
    (A any strides): the register tiles alone, with neither a parallel
    region nor B's copy to compile (a kernel that runs a small product
    inside its own loop, such as the dual-form toolbox's step). The bits
    of :func:`matmul_into` on such a B, whatever its thread count."""
    check_product(A, B, C)
    # An empty B (K = 0) has no layout to read (numpy may give it zero
    # strides).
    if B.shape[0] > 0 and product_kind(A, B) != KIND_TILES:
        raise ValueError("matmul_serial_into: B must have contiguous "
                         "columns")
    _tiles_alone(A, B, C, C.dtype.type(1))


@_exact_leaf
def _pack_columns(B, j0, j1, out):
    # out[k * w + c] = B[k, j0 + c] for w = j1 - j0: B's columns j0:j1 as a
    # C-ordered (K, w) block. A transposed view of a row-contiguous array
    # (B^T's rows contiguous) is copied in square blocks transposed in
    # vector registers; the edges, and other strides, element by element
    # in blocks that stay in L1.
    K = B.shape[0]
    w = j1 - j0
    item = B.itemsize
    size = _LANES_FLOAT32 if item == 4 else _LANES_FLOAT64
    k_full = 0
    w_full = 0
    if B.strides[0] == item:
        k_full = K - K % size
        w_full = w - w % size
        zero = B.dtype.type(0)
        ld = B.strides[1] // item
        for k0 in range(0, k_full, size):
            for c0 in range(0, w_full, size):
                src = address(B) + (k0 + (j0 + c0) * ld) * item
                transpose_block(zero, src, ld,
                                address(out) + (k0 * w + c0) * item, w)
    for k0 in range(0, K, _PACK_BLOCK):
        k1 = min(K, k0 + _PACK_BLOCK)
        for c0 in range(0, w, _PACK_BLOCK):
            c1 = min(w, c0 + _PACK_BLOCK)
            for k in range(k0, k1):
                # Columns w_full.. only, on the rows the blocks covered.
                start = c0 if k >= k_full else max(c0, w_full)
                for c in range(start, c1):
                    out[k * w + c] = B[k, j0 + c]


@_exact_leaf
def _packed_tiles(alpha, A, B, C, nr, scratch, parts, by_rows, q):
    # Task q of a product of B given as a transposed view: its panels of B
    # into its own block of scratch, then its tiles over that block. The
    # tiles see the same values of B in the same order: the same bits as
    # the tiles over a contiguous copy of B. A copy made by one thread and
    # read by the others would cross between the cores' caches, in a
    # copy's whole size, within each product (256 x 784 x 128 float32 on
    # two Zen 4 threads: 310 -> 268 us with a block per task).
    M, K = A.shape
    N = C.shape[1]
    itemsize = C.itemsize
    r0, r1, t0, t1 = share(q, parts, M, (N + nr - 1) // nr, by_rows)
    j0, j1 = panels_of(r0, r1, t0, t1, nr, N)
    if j1 > j0:
        block = scratch[q]
        _pack_columns(B, j0, j1, block)
        # The tiles address B's column j as block's column j - j0.
        _tiles(alpha, itemsize, nr, address(C), C.strides[0] // itemsize,
               address(A), A.strides[0] // itemsize, A.strides[1] // itemsize,
               address(block) - j0 * itemsize, j1 - j0, N, K, r0, r1,
               t0, t1)


@_exact_pinned_leaf
def _product_task_code(A, B, C, alpha, kind, parts, by_rows, scratch, q):
    """Task q of the ``parts`` tasks of ``C = alpha A B`` of ``kind``, as
    the product alone splits it (``parts``, ``by_rows`` and ``scratch``
    from :func:`plan_product`): for the regions that run one product's
    tasks or those of several products."""
    M, K = A.shape
    N = C.shape[1]
    itemsize = C.itemsize
    nr = panel_width(itemsize)
    if kind == KIND_PACKED:
        _packed_tiles(alpha, A, B, C, nr, scratch, parts, by_rows, q)
    elif kind == KIND_DOT:
        # B^T's rows are B's columns: its row stride is B's column stride.
        _dot_task(alpha, itemsize, address(C), C.strides[0] // itemsize,
                  address(A), A.strides[0] // itemsize, address(B),
                  B.strides[1] // itemsize, M, N, K, parts, q)
    else:
        _tiles_task(alpha, itemsize, nr, address(C),
                    C.strides[0] // itemsize, address(A),
                    A.strides[0] // itemsize, A.strides[1] // itemsize,
                    address(B), B.strides[0] // itemsize, M, N, K, parts,
                    by_rows, q)


def _product_task_at(x, A, A0, A1, As0, As1, B, B0, B1, Bs0, Bs1, C, C0, C1,
                     Cs0, Cs1, alpha, kind, parts, by_rows, scratch,
                     scratch0, scratch1, q):
    _product_task_code(strided_at(A, A0, A1, As0, As1, x),
                       strided_at(B, B0, B1, Bs0, Bs1, x),
                       strided_at(C, C0, C1, Cs0, Cs1, x), alpha, kind,
                       parts, by_rows,
                       matrix_at(scratch, scratch0, scratch1, x), q)


#: Compiled once per dtype and called by symbol: the parallel regions of
#: the layer kernels and training loops run it, and numba would otherwise
#: compile it and all the product code below it again inside each
#: (fastdnn._kernels_by_symbol_arrays).
product_task = arrays_by_symbol(
    _product_task_code, _product_task_at, "product_task",
    ("strided", "strided", "strided", "float", "int", "int", "flag",
     "matrix", "int"))


@_exact_parallel
def _product_tasks_parallel(A, B, C, alpha, kind, parts, by_rows, scratch):
    # The ``parts`` tasks of one product (plan_product), one per thread.
    for q in prange(parts):
        # prange's index is unsigned: as int64, product_task is the one
        # the one-task calls compile.
        product_task(A, B, C, alpha, kind, parts, by_rows, scratch,
                     np.int64(q))


@_exact
def reads_transposed_b_in_place(M, K):
    """Whether a product of ``M`` rows of C over a sum of ``K`` terms, B
    given as a transposed view (its rows contiguous), takes the
    dot-product tile on B in place rather than copying it: the rule of
    :func:`matmul_scaled_into`, for the training loops, which pass X or
    X^T to a first layer's dW so that its bits are those of the layer
    kernels called with X
    (:func:`fastdnn._kernels_blas.first_layer_layouts`)."""
    return M < DOT_MAX_ROWS and K >= DOT_MIN_K


@_exact
def product_kind(A, B):
    """The ``KIND_*`` of the product A B."""
    M, K = A.shape
    item = B.itemsize
    if B.shape[1] < 2 or B.strides[1] == item:
        return KIND_TILES
    if (reads_transposed_b_in_place(M, K) and B.strides[0] == item
            and A.strides[1] == item):
        return KIND_DOT
    return KIND_PACKED


@_exact
def check_product(A, B, C):
    """ValueError or TypeError unless A (M, K), B (K, N) and C (M, N)
    share one dtype and C's columns are contiguous."""
    M, K = A.shape
    N = B.shape[1]
    if B.shape[0] != K or C.shape[0] != M or C.shape[1] != N:
        raise ValueError("matmul_into: shapes A (M, K), B (K, N) and "
                         "C (M, N) do not match")
    item = B.itemsize
    if A.itemsize != item or C.itemsize != item:
        raise TypeError("matmul_into: A, B and C must share one dtype")
    if N > 1 and C.strides[1] != item:
        raise ValueError("matmul_into: C must have contiguous columns")


@_exact
def matmul_scaled_into(A, B, C, threads, alpha):
    """``C = alpha A B``: A (M, K), B (K, N), C (M, N), float32 or float64;
    ``alpha`` a scalar of their dtype, which multiplies each finished sum
    once, before it is stored (the same bits as the product followed by a
    pass of ``C *= alpha``, without that pass).

    It embeds a parallel region, which numba links against its threading
    layer when it loads the function from its cache: numba's threads must
    be started first (``numba.get_num_threads()`` starts them; the
    training loops' callers and :func:`fastdnn._kernels.forward` do).

    Parameters
    ----------
    A : ndarray, shape (M, K)
        Any strides (a transposed view, such as W^T, is read in place).
    B : ndarray, shape (K, N)
        Read in place when its columns are contiguous, or when its rows
        are, M < DOT_MAX_ROWS and K >= DOT_MIN_K (the dot-product tile,
        with A's rows contiguous too, read from a copy whose rows start on
        cache lines when A's do not: :func:`line_aligned_rows`); else
        copied first, each task copying the columns its tiles read.
    C : ndarray, shape (M, N)
        Unit column stride; overwritten.
    threads : int
        Tasks a large product is split into (1: on the calling thread).
        The caller decides: ``numba.get_num_threads()``, or 1 on a thread
        that may not launch numba's pool (see
        :func:`fastdnn._numba_config.parallel_ok`). The result is the same
        either way.
    alpha : scalar of C's dtype
    """
    check_product(A, B, C)
    alpha = C.dtype.type(alpha)  # the tiles compute in C's type
    kind = product_kind(A, B)
    # Views typed as arrays of any layout (numba's 'A'): the products read
    # their operands through addresses and strides, so one compilation of
    # each serves every layout the callers give (C or Fortran order).
    A_any, B_any, C_any = any_layout(A), any_layout(B), any_layout(C)
    if kind == KIND_DOT:
        # The same values at other addresses: the same sums.
        A_any = line_aligned_rows(A_any)[:, :A.shape[1]]
    parts, by_rows = split_product(A_any, C_any, kind, threads)
    if parts == 1 and kind == KIND_TILES:
        # B read in place on this thread: the tiles' own task, with no
        # scratch to allocate (the per-step case's small layers run
        # several such products a step).
        _tiles_alone(A_any, B_any, C_any, alpha)
        return
    scratch = product_scratch(A_any, C_any, kind, parts, by_rows)
    # The tasks run product_task, called by symbol: the product code is
    # compiled once per dtype rather than into every caller of this.
    if parts > 1:
        _product_tasks_parallel(A_any, B_any, C_any, alpha, kind, parts,
                                by_rows, scratch)
    else:
        product_task(A_any, B_any, C_any, alpha, kind, ONE_INT, by_rows,
                     scratch, ZERO_INT)


@_exact
def matmul_into(A, B, C, threads):
    """``C = A B``: :func:`matmul_scaled_into` with ``alpha = 1`` (exact:
    the sums are stored as they are)."""
    matmul_scaled_into(A, B, C, threads, C.dtype.type(1))
