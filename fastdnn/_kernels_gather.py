"""The gather of a mini-batch (private): its examples' rows of X^T and Y^T,
in the order of a pass's permutation, into the training loop's flat batch
buffers (:mod:`fastdnn._toolbox_kernels`)."""
from numba import prange

from ._kernels_by_symbol_arrays import (arrays_by_symbol, indices_at,
                                        matrix_at, row_at)
from ._kernels_common import (ZERO_INT, _exact_leaf, _exact_parallel,
                              _exact_pinned_leaf)


#: A mini-batch of at most this many inputs is gathered as X (n_x, mb)
#: rather than X^T (mb, n_x), when its first layer runs on the
#: hand-written kernels: over so few inputs their C-ordered forward and
#: backward passes are the faster ones, by more than the strided gather
#: costs (at n_x = 16, batch 32, float32: forward 1000 -> 560 ns, backward
#: 957 -> 625, gather 64 -> 205; a loss from n_x = 48 on; measured at
#: batches of 32, 64 and 128). dW has the same bits either way; the
#: forward's sums run in the other layout's order.
GATHER_COLUMNS_MAX = 32


#: A batch of at least this many inputs (mb * n_x) is gathered on numba's
#: threads when the loop runs parallel. The gather reads rows scattered
#: over X^T, mostly from memory, at the speed of one core's outstanding
#: misses; two cores keep twice as many in flight (the MNIST shape's
#: batch of 32 rows, 25,088 float32 inputs: 26 -> 12 us on a Zen 4 host;
#: of 128 rows: 102 -> 32 us).
GATHER_PARALLEL_MIN = 1 << 14


@_exact_pinned_leaf
def _gather_part_code(XT, YT, perm, lo, mb, j0, j1, Xb, Yb, columns):
    # Examples j0 .. j1 - 1 of the batch perm[lo:lo + mb] from the rows of
    # X^T and of Y^T (each example's features and labels contiguous: one
    # read each) into the flat Xb: as the (mb, n_x) X^T, its rows copied
    # as they are, or, with ``columns``, as the columns of the (n_x, mb)
    # X; Y^T's rows always as the columns of the flat (n_L, mb) Yb.
    n_x = XT.shape[1]
    nL = YT.shape[1]
    for j in range(j0, j1):
        e = perm[lo + j]
        src = XT[e]
        if columns:
            for k in range(n_x):
                Xb[k * mb + j] = src[k]
        else:
            dst = Xb[j * n_x:(j + 1) * n_x]
            for k in range(n_x):
                dst[k] = src[k]
        labels = YT[e]
        for i in range(nL):
            Yb[i * mb + j] = labels[i]


def _gather_part_at(x, XT, XT0, XT1, YT, YT0, YT1, perm, n_perm, lo, mb, j0,
                    j1, Xb, n_Xb, Yb, n_Yb, columns):
    _gather_part_code(matrix_at(XT, XT0, XT1, x), matrix_at(YT, YT0, YT1, x),
                      indices_at(perm, n_perm), lo, mb, j0, j1,
                      row_at(Xb, n_Xb, x), row_at(Yb, n_Yb, x), columns)


#: Compiled once per dtype and called by symbol: the gathers on one
#: thread and on several, and the forward chain's region, run it
#: (fastdnn._kernels_by_symbol_arrays).
gather_part = arrays_by_symbol(
    _gather_part_code, _gather_part_at, "gather_part",
    ("matrix", "matrix", "indices", "int", "int", "int", "int", "row", "row",
     "flag"))


@_exact_leaf
def gather(XT, YT, perm, s0, s1, Xb, Yb, columns):
    # The batch perm[s0:s1], on the calling thread (see gather_part).
    gather_part(XT, YT, perm, s0, s1 - s0, ZERO_INT, s1 - s0, Xb, Yb,
                columns)


@_exact_parallel
def gather_parallel(XT, YT, perm, s0, s1, Xb, Yb, columns, parts):
    # The batch perm[s0:s1] in ``parts`` ranges of examples, one per task
    # (each element is copied once, whichever thread copies it).
    mb = s1 - s0
    for q in prange(parts):
        gather_part(XT, YT, perm, s0, mb, q * mb // parts,
                    (q + 1) * mb // parts, Xb, Yb, columns)
