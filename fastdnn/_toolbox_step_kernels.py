"""The per-step pieces of the jit backend's training toolbox (private): the
optimizer codes and the fused optimizer update (dropout's masks are
:mod:`fastdnn._dropout_kernels`).

Optimizers are small integers, in the order of
:data:`fastdnn._toolbox_options.OPTIMIZER_NAMES` (checked at import)::

    OPT_GD = 0, OPT_MOMENTUM = 1, OPT_NESTEROV = 2, OPT_RMSPROP = 3,
    OPT_ADAM = 4, OPT_SGD_SKLEARN = 5, OPT_NESTEROV_SKLEARN = 6,
    OPT_ADAM_SKLEARN = 7

:func:`update_params` is the whole optimizer step of a parameter vector in
one pass: the L2 term added to the gradient, the state (velocity ``V``,
second moment ``S``) and the parameter read and written once. It walks the
vector in fixed chunks (on several threads for long vectors); each element
is computed by the same instructions whichever thread runs its chunk, and
the chunks' sums of squares are added in chunk order, so results never
depend on the thread count. No fastmath: the formulas are the course's,
rounding for rounding.

Adam's loops, the course's form and scikit-learn's with their exact
float32 shortcuts, are :mod:`fastdnn._adam_step_kernels`.
"""
import numpy as np

from ._adam_step_kernels import absorb_threshold, adam_loop, adam_sklearn_loop
from ._kernels_by_symbol_arrays import arrays_by_symbol, row_at
from ._kernels_common import (_exact, _exact_leaf, _exact_parallel,
                              _exact_pinned_leaf)
from ._toolbox_options import OPTIMIZER_NAMES, WITH_SECOND_MOMENT

from numba import prange  # noqa: E402
from numba.core import types  # noqa: E402

OPT_GD = 0
OPT_MOMENTUM = 1
OPT_NESTEROV = 2
OPT_RMSPROP = 3
OPT_ADAM = 4
OPT_SGD_SKLEARN = 5
OPT_NESTEROV_SKLEARN = 6
OPT_ADAM_SKLEARN = 7

#: Optimizer codes by name.
OPT_BY_NAME = {"gd": OPT_GD, "momentum": OPT_MOMENTUM,
               "nesterov": OPT_NESTEROV, "rmsprop": OPT_RMSPROP,
               "adam": OPT_ADAM, "sgd_sklearn": OPT_SGD_SKLEARN,
               "nesterov_sklearn": OPT_NESTEROV_SKLEARN,
               "adam_sklearn": OPT_ADAM_SKLEARN}

# The codes are frozen into compiled (and cached) code: they must follow
# the shared table's order (codes past its end are harmless).
if any(OPT_BY_NAME.get(name) != code
       for code, name in enumerate(OPTIMIZER_NAMES)):
    raise ImportError("optimizer codes out of step with OPTIMIZER_NAMES")

#: The codes of the optimizers that keep a second moment S.
_SECOND_MOMENT_CODES = (OPT_RMSPROP, OPT_ADAM, OPT_ADAM_SKLEARN)
if sorted(_SECOND_MOMENT_CODES) != sorted(OPT_BY_NAME[name]
                                          for name in WITH_SECOND_MOMENT):
    raise ImportError("second-moment codes out of step with "
                      "WITH_SECOND_MOMENT")

#: Elements per chunk of the update (a fixed split: see the module doc).
UPDATE_CHUNK = 8192
#: Elements from which the update runs its chunks on several threads.
UPDATE_PARALLEL_MIN = 1 << 16


# ------------------------------------------------------------- the update

@_exact_pinned_leaf
def _update_chunk_code(P, G, V, S, opt, lr, c2, beta, omb, beta1, omb1,
                       beta2, omb2, corr1, corr2, eps, lr_t, absorb,
                       absorb_t):
    # One optimizer step of P (constants in P's dtype); returns the sum of
    # squares of the parameters before it (float64) when c2 != 0 (L2),
    # else 0. The gradient is G + c2 * P, as the course's dW + lambd/m * W.
    # One loop per optimizer, each from 0 over whole slices: numba then
    # drops its negative-index checks and LLVM vectorises the loop.
    n = P.shape[0]
    sq = 0.0
    if c2 != 0:
        for i in range(n):
            p = np.float64(P[i])
            sq += p * p
    if opt == OPT_GD:
        for i in range(n):
            g = G[i] + c2 * P[i]
            P[i] = P[i] - lr * g
    elif opt == OPT_MOMENTUM:
        for i in range(n):
            g = G[i] + c2 * P[i]
            v = beta * V[i] + omb * g
            V[i] = v
            P[i] = P[i] - lr * v
    elif opt == OPT_NESTEROV:
        for i in range(n):
            g = G[i] + c2 * P[i]
            v = beta * V[i] + omb * g
            V[i] = v
            P[i] = P[i] - lr * (beta * v + omb * g)
    elif opt == OPT_SGD_SKLEARN or opt == OPT_NESTEROV_SKLEARN:
        # scikit-learn's SGD: the velocity is the step, lr included.
        nesterov = opt == OPT_NESTEROV_SKLEARN
        for i in range(n):
            g = G[i] + c2 * P[i]
            v = beta * V[i] - lr * g
            V[i] = v
            if nesterov:
                P[i] = P[i] + (beta * v - lr * g)
            else:
                P[i] = P[i] + v
    elif S is None:
        # No second moment: update_params and backward_update refuse a
        # second-moment optimizer before they get here. numba drops the
        # branches below from a kernel compiled for S None, so that an
        # optimizer without S compiles none of RMSprop's and Adam's code.
        pass
    elif opt == OPT_RMSPROP:
        for i in range(n):
            g = G[i] + c2 * P[i]
            s = beta2 * S[i] + omb2 * (g * g)
            S[i] = s
            P[i] = P[i] - lr * g / (np.sqrt(s) + eps)
    elif opt == OPT_ADAM_SKLEARN:
        # scikit-learn's Adam: lr_t carries the bias corrections.
        adam_sklearn_loop(P, G, V, S, -lr_t, c2, beta1, omb1, beta2, omb2,
                          eps, absorb_t)
    else:
        adam_loop(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1, corr2,
                  eps, absorb)
    return sq


def _update_chunk_at(x, P, nP, G, nG, V, nV, S, nS, opt, lr, c2, beta, omb,
                     beta1, omb1, beta2, omb2, corr1, corr2, eps, lr_t,
                     absorb, absorb_t):
    return _update_chunk_code(
        row_at(P, nP, x), row_at(G, nG, x), row_at(V, nV, x),
        row_at(S, nS, x), opt, lr, c2, beta, omb, beta1, omb1, beta2, omb2,
        corr1, corr2, eps, lr_t, absorb, absorb_t)


def _update_chunk_without_S_at(x, P, nP, G, nG, V, nV, opt, lr, c2, beta,
                               omb, beta1, omb1, beta2, omb2, corr1, corr2,
                               eps, lr_t, absorb, absorb_t):
    # S None: compiled without RMSprop's and Adam's code.
    return _update_chunk_code(
        row_at(P, nP, x), row_at(G, nG, x), row_at(V, nV, x), None, opt, lr,
        c2, beta, omb, beta1, omb1, beta2, omb2, corr1, corr2, eps, lr_t,
        absorb, absorb_t)


#: Compiled once per dtype (with S and without) and called by symbol:
#: each update loop and fused backward kernel calls it, and numba would
#: otherwise compile its code again inside each
#: (fastdnn._kernels_by_symbol_arrays).
_update_chunk = arrays_by_symbol(
    _update_chunk_code, _update_chunk_at, "update_chunk",
    ("row", "row", "row", "row?", "int") + ("float",) * 14,
    restype=types.float64, body_without=_update_chunk_without_S_at)


#: Entries of the constants vector of :func:`update_params`.
N_CONSTANTS = 14


@_exact_leaf
def fill_constants(hp, lr, c2, beta, beta1, beta2, eps, t):
    """The step's constants into ``hp`` (N_CONSTANTS, the parameters'
    dtype): lr, c2, beta, 1 - beta, beta1, 1 - beta1, beta2, 1 - beta2, the
    bias corrections 1 - beta1**t and 1 - beta2**t, eps, scikit-learn
    Adam's rate ``lr * sqrt(1 - beta2**t) / (1 - beta1**t)`` and the
    :func:`absorb_threshold` of each Adam. Each is computed in float64
    (Python's float arithmetic, as the course computes them) and then cast,
    as numpy casts a Python float operand to an array's dtype; the
    thresholds from the cast values."""
    T = hp.dtype.type
    hp[0] = T(lr)
    hp[1] = T(c2)
    hp[2] = T(beta)
    hp[3] = T(1.0 - beta)
    hp[4] = T(beta1)
    hp[5] = T(1.0 - beta1)
    hp[6] = T(beta2)
    hp[7] = T(1.0 - beta2)
    # A float exponent: numba raises a float to an integer power by
    # repeated multiplication, Python (float ** int) with libm's pow.
    tf = np.float64(t)
    hp[8] = T(1.0 - beta1 ** tf)
    hp[9] = T(1.0 - beta2 ** tf)
    hp[10] = T(eps)
    hp[11] = T(lr * np.sqrt(1.0 - beta2 ** tf) / (1.0 - beta1 ** tf))
    hp[12] = T(absorb_threshold(np.float64(hp[0]), np.float64(hp[10]),
                                np.float64(hp[8]), np.float64(hp[4])))
    # scikit-learn's step mlr * v / (...) is the course's with corr1 = 1.
    hp[13] = T(absorb_threshold(np.float64(hp[11]), np.float64(hp[10]), 1.0,
                                np.float64(hp[4])))


@_exact_leaf
def _part(S, lo, hi):
    # S[lo:hi], or None for S None (an optimizer without a second moment):
    # numba compiles one branch or the other, by S's type.
    if S is None:
        return None
    return S[lo:hi]


@_exact_leaf
def update_range(P, G, V, S, opt, hp, lo, hi):
    """One optimizer step of elements ``lo:hi`` of the flat vectors (the
    constants ``hp`` of :func:`fill_constants`); returns their sum of
    squares as :func:`update_params`' chunks do. Each element is computed
    the same whatever range it is taken in."""
    # Optimizers without a velocity get an empty V: its slice stays empty.
    # Those without a second moment get S None (see _update_chunk).
    return _update_chunk(P[lo:hi], G[lo:hi], V[lo:hi], _part(S, lo, hi), opt,
                         hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6],
                         hp[7], hp[8], hp[9], hp[10], hp[11], hp[12],
                         hp[13])


@_exact_leaf
def _chunk(P, G, V, S, c, opt, hp):
    lo = c * UPDATE_CHUNK
    return update_range(P, G, V, S, opt, hp, lo,
                        min(P.shape[0], lo + UPDATE_CHUNK))


@_exact_parallel
def _update_chunks_parallel(P, G, V, S, opt, hp, partial, nch):
    for c in prange(nch):
        # prange's index is unsigned: as int64, the serial loop's chunk.
        partial[c] = _chunk(P, G, V, S, np.int64(c), opt, hp)


@_exact_leaf
def check_second_moment(S, opt):
    """Raise ValueError for an optimizer that keeps a second moment given
    ``S = None``; nothing to do (and nothing compiled) for an array."""
    if S is None:
        for code in _SECOND_MOMENT_CODES:
            if opt == code:
                raise ValueError("RMSprop and Adam need their second "
                                 "moment S; pass an array like P, not "
                                 "None")


@_exact
def n_chunks(n):
    """Chunks of an update of n elements (the size of its scratch)."""
    return max(1, (n + UPDATE_CHUNK - 1) // UPDATE_CHUNK)


@_exact
def update_params(P, G, V, S, opt, hp, partial, parallel):
    """One optimizer step of the flat parameter vector ``P`` (in place).

    Parameters
    ----------
    P, G : 1-D arrays of one float dtype
        Parameters and their gradient (without the L2 term).
    V, S : 1-D arrays like P, or empty; S may be None
        Velocity (first moment) and second moment, as the optimizer uses
        them (others are not touched). S None: compiled without the code
        of the optimizers that keep a second moment (RMSprop, Adam), which
        then raise ValueError.
    opt : int
        ``OPT_*``.
    hp : array of N_CONSTANTS, P's dtype
        The step's constants (:func:`fill_constants`); ``hp[1]``, the L2
        coefficient ``lambd / mb``, is 0 for none.
    partial : float64 array of at least ``n_chunks(P.size)``
        Scratch for the chunks' sums of squares.
    parallel : bool
        Allow threads (for vectors of at least UPDATE_PARALLEL_MIN).

    Returns
    -------
    float
        ``sum(P**2)`` before the step when ``hp[1] != 0`` (float64), else
        0.
    """
    check_second_moment(S, opt)
    n = P.shape[0]
    nch = n_chunks(n)
    if parallel and n >= UPDATE_PARALLEL_MIN:
        _update_chunks_parallel(P, G, V, S, opt, hp, partial, nch)
    else:
        for c in range(nch):
            partial[c] = _chunk(P, G, V, S, c, opt, hp)
    total = 0.0
    for c in range(nch):
        total += partial[c]
    return total
