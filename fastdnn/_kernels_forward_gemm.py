"""A GEMM layer's forward pass in one parallel region (private): each task
computes its rows of ``Z = W A_prev`` on fastdnn's GEMM, then adds their
bias and takes their activation, while those rows are still in its core's
cache.

Apart, the product's region ended before the element-wise pass began, and
that pass ran on the calling thread alone below
:data:`fastdnn._kernels_blas.ELEMENTWISE_PARALLEL_MIN` (the MNIST shape's
256 x 128 and 128 x 128 hidden layers, and every layer over a batch of
32): the other thread waited meanwhile. Here it runs on every task, with
no second region where it was split too.

A task's rows are those the product itself gives it
(:func:`fastdnn._kernels_gemm_split.task_rows`): each row of Z is computed
by the product's tiles, in the order they always sum, then by the bias and
activation code of the separate pass (:func:`bias_activate_rows`), whatever
task takes it. The results are those of the product followed by the pass,
bit for bit, on any thread count.
"""
import numpy as np
from numba import prange

from ._kernels_common import (_exact, _exact_leaf, _exact_parallel,
                              _serial_leaf)
from ._kernels_elementwise import (activate_row, bias_activate_simple_rows,
                                   is_simple)
from ._kernels_gemm import (any_layout, check_product, product_kind,
                            product_task)
from ._kernels_gemm_split import (KIND_DOT, product_scratch, split_product,
                                  task_rows, tasks_take_whole_rows)


@_serial_leaf
def bias_activate_rows(Z, b, act, Aout, i0, i1):
    """``Z[i] += b[i]``, ``Aout[i] = g(Z[i])`` on the rows ``i0:i1``: Z and
    Aout (n_l, m) (Aout may be Z), b (n_l, 1)."""
    if is_simple(act):
        bias_activate_simple_rows(Z, b, act, Aout, i0, i1)
        return
    # The sigmoid and tanh row by row: their rows cost far more than a
    # call.
    m = Z.shape[1]
    for i in range(i0, i1):
        zr = Z[i]
        bi = b[i, 0]
        for j in range(m):
            zr[j] += bi
        activate_row(zr, Aout[i], 0, m, act)


@_exact_leaf
def forward_task(W, B, Z, b, act, Aout, kind, parts, by_rows, scratch, q):
    """Task q of the ``parts`` tasks of ``Z = W B + b``, ``Aout = g(Z)``
    (:func:`forward_task_plan`'s split; ``scratch`` from
    :func:`fastdnn._kernels_gemm_split.product_scratch`): its tiles of the
    product, then the bias and activation of the rows it computed. For
    every region that runs a layer's forward pass by tasks."""
    # The product takes Z as a view of any layout (one compilation of its
    # tasks for every caller); the element-wise pass Z itself, whose rows
    # are then known to be contiguous (vectorised).
    M, N = Z.shape
    product_task(W, B, any_layout(Z), Z.dtype.type(1), kind, parts, by_rows,
                 scratch, q)
    r0, r1 = task_rows(q, parts, M, N, Z.itemsize, by_rows)
    bias_activate_rows(Z, b, act, Aout, r0, r1)


@_exact_parallel
def _tasks_parallel(W, B, Z, b, act, Aout, kind, parts, by_rows, scratch):
    for q in prange(parts):
        # prange's index is unsigned: as int64, product_task is the one the
        # one-task calls compile.
        forward_task(W, B, Z, b, act, Aout, kind, parts, by_rows, scratch,
                     np.int64(q))


@_exact
def forward_task_plan(W, B, Z, threads):
    """``(kind, parts, by_rows)``: how :func:`forward_tasks` splits ``Z = W
    B`` (its arguments of the same names), from the shapes alone; ``parts``
    0 where it declines (the dot-product tile, fewer than two tasks, or
    tasks that do not take whole rows of Z)."""
    # Z as a view of any layout, as the products pass C: the checks and
    # plans then compile once for both.
    Z_any = any_layout(Z)
    check_product(W, B, Z_any)
    kind = product_kind(W, B)
    if kind == KIND_DOT:
        # The dot-product tile reads W through a line-aligned copy and
        # shares C out by tiles of its own: left to matmul_scaled_into.
        return kind, 0, False
    parts, by_rows = split_product(W, Z_any, kind, threads)
    if parts < 2 or not tasks_take_whole_rows(Z.shape[1], Z.itemsize,
                                              by_rows):
        return kind, 0, by_rows
    return kind, parts, by_rows


@_exact
def forward_tasks(W, B, Z, b, act, Aout, threads):
    """``Z = W B + b``, ``Aout = g(Z)`` in one parallel region when the
    product runs on at least two tasks that each take whole rows of Z;
    return whether it did (otherwise nothing is written, and the caller
    runs the product and the pass apart).

    W (n_l, n_{l-1}) and B (n_{l-1}, m) as
    :func:`fastdnn._kernels_gemm.matmul_scaled_into` takes them (views of
    any layout); Z (n_l, m) and Aout C-ordered (Aout may be Z); b (n_l,
    1). ``threads``: tasks the product may be split into."""
    # Declined from the shapes alone, before any scratch is made: the
    # product then plans its own.
    kind, parts, by_rows = forward_task_plan(W, B, Z, threads)
    if parts == 0:
        return False
    scratch = product_scratch(W, any_layout(Z), kind, parts, by_rows)
    _tasks_parallel(W, B, Z, b, act, Aout, kind, parts, by_rows, scratch)
    return True
