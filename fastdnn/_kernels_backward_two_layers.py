"""The backward passes of the first two layers and the optimizer step of
the weights in one parallel region (private), for the training toolbox's
loop.

Apart, the second layer's two products (``dW2 = dZ2 A1^T / m`` and ``dA1 =
W2^T dZ2``, :mod:`fastdnn._kernels_gemm_pair`) take one region and the
first layer's backward pass with the step of every layer's weights
(:mod:`fastdnn._kernels_backward_update`) a second one, which starts when
the slower of the two products ends. Here the pair's tasks are the first
phase of the first layer's region (:mod:`fastdnn._kernels_tickets`): the
workers take them by tickets, then worker q runs the first layer's task q
once every product is done (its dZ1 reads its rows of dA1, and its step
writes W2, which dA1 reads). Worker q runs task q as when the region runs
alone, so each core keeps its rows of W1 and their state in its cache
from one step to the next; and the region is one compiled function for
both uses (a region of its own compiled the GEMM's task code once more).

The tasks are those of the two regions, with the same shares of the
work: the results are theirs, bit for bit, on any thread count.
"""
import numpy as np

from ._kernels_backward_update import (_tasks_parallel, plan_update,
                                       update_tasks)
from ._kernels_blas import dZ_db
from ._kernels_common import _exact
from ._kernels_gemm import any_layout
from ._kernels_gemm_pair import check_pair, matmul_pair_scaled_into, plan_pair
from ._kernels_tickets import TICKET_SLOTS


@_exact
def backward_two_layers(dA2, Z2, Aout2, act2, dZ2, dW2, db2, W2, A1, dA1,
                        Z1, Aout1, act1, dZ1, dW1, db1, R, r_is_x, P, G, V,
                        S, opt, hp, threads):
    """The second layer's backward pass on fastdnn's GEMM, then the first
    layer's with every layer's weights' optimizer step
    (:func:`fastdnn._kernels_backward_update.backward_update`): in one
    parallel region where both would take one of their own, else as those
    two passes.

    Layer 2: ``dZ2 = dA2 * g'(Z2)`` and ``db2`` (before the region, as
    :func:`fastdnn._kernels_blas.backward_blas_unchecked` computes them),
    ``dW2 = dZ2 A1^T / m``, ``dA1 = W2^T dZ2``; all (n_2, m) but W2 and
    dW2 (n_2, n_1), db2 (n_2, 1), A1 and dA1 (n_1, m). Layer 1 and the
    step: the arguments of ``backward_update`` (``dA1`` its dA; dW1 the
    2-D view of G). No dropout between the layers (dA1 is read as the
    product leaves it). Returns whether the one region ran."""
    dZ_db(dA2, Z2, Aout2, act2, dZ2, db2, threads)
    inv_m = dW2.dtype.type(1.0 / dZ2.shape[1])
    one = W2.dtype.type(1)
    # The pair's operands as backward_blas_unchecked gives them.
    dZ2_any = any_layout(dZ2)
    A1T = any_layout(A1.T)
    dW2_any = any_layout(dW2)
    W2T = any_layout(W2.T)
    dA1_any = any_layout(dA1)
    B, kind, alpha, parts, scratch = plan_update(dZ1, R, r_is_x, dW1, S,
                                                 opt, hp, threads)
    if parts < 2 or not check_pair(dZ2_any, A1T, dW2_any, W2T, dZ2_any,
                                   dA1_any, threads):
        # The two regions apart; the first layer's as planned above.
        matmul_pair_scaled_into(dZ2_any, A1T, dW2_any, inv_m, W2T, dZ2_any,
                                dA1_any, one, threads)
        update_tasks(dA1, Z1, Aout1, act1, dZ1, db1, B, dW1, alpha, kind,
                     scratch, P, G, V, S, opt, hp, parts)
        return False
    kind1, parts1, rows1, scratch1, kind2, parts2, rows2, scratch2 = (
        plan_pair(dZ2_any, A1T, dW2_any, W2T, dZ2_any, dA1_any, threads))
    _tasks_parallel(dZ2_any, A1T, dW2_any, inv_m, kind1, parts1, rows1,
                    scratch1, W2T, dZ2_any, dA1_any, one, kind2, parts2,
                    rows2, scratch2, dA1, Z1, Aout1, act1, dZ1, db1, B, dW1,
                    alpha, kind, scratch, P, G, V, S, opt, hp, parts,
                    np.zeros(TICKET_SLOTS, np.int64))
    return True
