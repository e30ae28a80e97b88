"""Adam's step in the jit backend's toolbox (private): the course's form
and scikit-learn's, each with its exact float32 shortcuts.

:func:`adam_loop` and :func:`adam_sklearn_loop` compute the formulas
rounding for rounding (no fastmath). Two shortcuts leave the bits as they
are and only save time:

- A bias correction that has rounded to 1 (1 - beta1**t, from step 165 on
  in float32 with beta1 = 0.9; 356 in float64) is passed as None, which
  leaves its division out of the compiled loop (``x / 1`` is ``x``, bit for
  bit, NaN, inf and signed zeros included).
- A first moment that decays with a zero gradient (a dead unit's weights)
  spends some 150 steps as a float32 subnormal before it reaches zero, and
  arithmetic on subnormals is several times slower on x86 CPUs (the update
  of the MNIST shape, 235,146 weights, 40 -> 109 us on Zen 5). For those
  elements the moment's decay ``beta1 * V`` is computed from V's bits with
  normal float64 arithmetic (exact: a 23-bit integer times beta1's 24 bits
  fits float64's 53, then one rounding to the integer, as float32 rounds a
  subnormal product), and the parameter's step is left out where it cannot
  change the parameter: ``|P| > absorb`` (:func:`absorb_threshold`).

That careful loop costs more than the formula's where no moment is
subnormal (on one Zen 4 core, 95 against 67 us for the MNIST shape's
weights), so float32 Adam runs the formula's loop block by block
(:data:`SUBNORMAL_BLOCK` elements), scanning each next block's moments as
it goes, and the careful loop from the first block whose moments hold a
nonzero subnormal to the end of the vector (dead units' moments are
spread all over it once they appear). Both loops give the formula's bits
for every element, so the split changes the time only.
"""
import numpy as np

from ._kernels_common import _exact, _exact_leaf, _inline
from ._kernels_math import _bits, _from_bits

from numba import types  # noqa: E402
from numba.extending import overload  # noqa: E402

#: Elements per block of float32 Adam's check for subnormal first moments.
SUBNORMAL_BLOCK = 2048

#: Fields of a float32's bits.
_F32_EXPONENT = np.int32(0x7F800000)
_F32_SIGNIFICAND = np.int32(0x007FFFFF)
_F32_SIGN = np.int32(-0x80000000)
_F32_MAGNITUDE = np.int32(0x7FFFFFFF)
_I32_ZERO = np.int32(0)


@_inline
def _moments(P, G, V, S, i, c2, beta1, omb1, beta2, omb2):
    # Element i's gradient with the L2 term and both moments, stored;
    # returns P[i] and the new moments.
    p = P[i]
    g = G[i] + c2 * p
    v = beta1 * V[i] + omb1 * g
    s = beta2 * S[i] + omb2 * (g * g)
    V[i] = v
    S[i] = s
    return p, v, s


@_inline
def _subnormal_decay(x, g, p, absorb, b1):
    # For the first moment x of a float32 Adam element (gradient g,
    # parameter p): whether it is "tiny" (x's exponent field is 0, g is
    # +-0, |p| > absorb), the moment the formula is to run on (a zero of
    # x's sign if tiny, else x) and the bits of beta1 * x when it does not
    # round to zero (kept: False when it does, or when not tiny).
    #
    # Run on a signed zero, beta1 * x + omb1 * g gives the formula's own
    # signed zero whenever beta1 * x rounds to zero, and the step P - lr *
    # (+-0) ... leaves P, which is what the formula gives for a step |P|
    # absorbs. Otherwise beta1 * x is +-round(k * beta1) * 2**-149 for x =
    # +-k * 2**-149 (ties to even: the conversion's rounding), whose bits
    # are the sign and that integer.
    bits = _bits(x)
    sign = bits & _F32_SIGN
    tiny = ((bits & _F32_EXPONENT) == _I32_ZERO) and g == 0 and (
        abs(p) > absorb)
    k = np.int32(np.rint(np.float64(bits & _F32_SIGNIFICAND) * b1))
    return (tiny and k != _I32_ZERO, _from_bits(sign, x) if tiny else x,
            sign | k)


@_inline
def _moments_float32(P, G, V, S, i, c2, beta1, omb1, beta2, omb2, absorb,
                     b1):
    # _moments' results and stores, a subnormal first moment of a zero
    # gradient decayed from its bits (_subnormal_decay).
    p = P[i]
    g = G[i] + c2 * p
    kept, x, bits = _subnormal_decay(V[i], g, p, absorb, b1)
    v = beta1 * x + omb1 * g
    s = beta2 * S[i] + omb2 * (g * g)
    S[i] = s
    V[i] = _from_bits(bits, v) if kept else v
    return p, v, s


def _corrected(x, corr):
    """``x / corr``, a moment divided by its bias correction; ``x`` itself
    for a correction passed as None, one that has rounded to 1."""
    return x / corr


@overload(_corrected, inline="always", jit_options=dict(error_model="numpy"))
def _corrected_for(x, corr):
    # A correction below 1 stays a division. In float32 it could be a
    # multiplication: float32(float64(x) * (1 / float64(corr))) rounds to
    # x / corr's bits for every x (the product is within 2**-52 of the
    # quotient, relative, which is never nearer than 2**-49 to a point
    # halfway between two float32s), but on a Zen 4 core the careful loop
    # took 134 us for the MNIST shape's 235,146 weights with it against
    # 102 with the division (the formula's loop 93 against 97, two
    # threads within 1 us), and a batch-32 Adam epoch 4% longer.
    if isinstance(corr, types.NoneType):
        return lambda x, corr: x
    return lambda x, corr: x / corr


@_inline
def _by_corrections(loop, P, G, V, S, lr, c2, beta1, omb1, beta2, omb2,
                    corr1, corr2, eps, absorb):
    # loop(...) with each bias correction equal to 1 passed as None, so
    # that its division is left out of the compiled loop (x / 1 is x, bit
    # for bit, NaN, inf and signed zeros included). Divisions bound Adam's
    # step (three and a square root an element), and 1 - beta1**t rounds
    # to 1 from step 165 on in float32 (beta1 = 0.9; 356 in float64):
    # the update of 235,146 float32 weights on a Zen 4 host, 118 -> 103 us
    # on one thread, 65.6 -> 58.0 on two. The second correction rounds to
    # 1 first only when beta2 < beta1: that case keeps its division (one
    # compiled copy of the loop fewer).
    if corr1 == 1:
        if corr2 == 1:
            loop(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, None, None,
                 eps, absorb)
        else:
            loop(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, None, corr2,
                 eps, absorb)
    else:
        loop(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1, corr2,
             eps, absorb)


@_inline
def _course_step(p, v, s, lr, corr1, corr2, eps):
    # The course's Adam step of one parameter from its new moments.
    return p - lr * _corrected(v, corr1) / (
        np.sqrt(_corrected(s, corr2)) + eps)


@_exact_leaf
def _adam_formula_loop(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1,
                       corr2, eps, absorb):
    # The course's Adam step, element by element (``absorb`` unused).
    for i in range(P.shape[0]):
        p, v, s = _moments(P, G, V, S, i, c2, beta1, omb1, beta2, omb2)
        P[i] = _course_step(p, v, s, lr, corr1, corr2, eps)


@_inline
def _nonzero_subnormal(x):
    # Whether the float32 x is a subnormal other than +-0: the bits of its
    # magnitude are 1 .. 2**23 - 1 (integer work, no arithmetic on x).
    b = _bits(x) & _F32_MAGNITUDE
    return (b <= _F32_SIGNIFICAND) & (b != _I32_ZERO)


@_exact_leaf
def _any_subnormal(V):
    found = False
    for i in range(V.shape[0]):
        found |= _nonzero_subnormal(V[i])
    return found


@_exact_leaf
def _formula_scan(P, G, V, S, W, lr, c2, beta1, omb1, beta2, omb2, corr1,
                  corr2, eps):
    # _adam_formula_loop's step of P, G, V, S; returns whether W (the next
    # block's first moments: as long as P, or empty) holds a nonzero
    # subnormal. The scan costs little beside the step, which its division
    # and square root bound (in the careful loop it would not: there it
    # competes with the integer work).
    scan = W.shape[0] != 0
    found = False
    for i in range(P.shape[0]):
        if scan:
            found |= _nonzero_subnormal(W[i])
        p, v, s = _moments(P, G, V, S, i, c2, beta1, omb1, beta2, omb2)
        P[i] = _course_step(p, v, s, lr, corr1, corr2, eps)
    return found


@_exact_leaf
def _adam_float32_loop(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1,
                       corr2, eps, absorb):
    # _adam_formula_loop's results, without arithmetic on the subnormal
    # first moments of zero gradients (see the module doc).
    b1 = np.float64(beta1)
    for i in range(P.shape[0]):
        p, v, s = _moments_float32(P, G, V, S, i, c2, beta1, omb1, beta2,
                                   omb2, absorb, b1)
        P[i] = _course_step(p, v, s, lr, corr1, corr2, eps)


@_exact_leaf
def _adam_float32_blocks(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2,
                         corr1, corr2, eps, absorb):
    # The course's float32 Adam step: the formula's loop block by block
    # (SUBNORMAL_BLOCK elements) until a block's first moments hold a
    # nonzero subnormal, the careful loop from that block to the end (dead
    # units' moments are spread over the whole vector once they appear).
    # The same bits either way: see the module doc.
    n = P.shape[0]
    careful = _any_subnormal(V[:min(SUBNORMAL_BLOCK, n)])
    lo = 0
    while lo < n and not careful:
        hi = min(lo + SUBNORMAL_BLOCK, n)
        # The next block may be shorter (the last): its scan rides on
        # this block's first k elements, the rest run without one.
        k = min(hi + SUBNORMAL_BLOCK, n) - hi
        careful = _formula_scan(P[lo:lo + k], G[lo:lo + k], V[lo:lo + k],
                                S[lo:lo + k], V[hi:hi + k], lr, c2, beta1,
                                omb1, beta2, omb2, corr1, corr2, eps)
        if lo + k < hi:
            _formula_scan(P[lo + k:hi], G[lo + k:hi], V[lo + k:hi],
                          S[lo + k:hi], V[:0], lr, c2, beta1, omb1, beta2,
                          omb2, corr1, corr2, eps)
        lo = hi
    if lo < n:
        _adam_float32_loop(P[lo:], G[lo:], V[lo:], S[lo:], lr, c2, beta1,
                           omb1, beta2, omb2, corr1, corr2, eps, absorb)


def _adam_formula(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1,
                  corr2, eps, absorb):
    _by_corrections(_adam_formula_loop, P, G, V, S, lr, c2, beta1, omb1,
                    beta2, omb2, corr1, corr2, eps, absorb)


def _adam_float32(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1,
                  corr2, eps, absorb):
    _by_corrections(_adam_float32_blocks, P, G, V, S, lr, c2, beta1, omb1,
                    beta2, omb2, corr1, corr2, eps, absorb)


def _adam_sklearn_formula(P, G, V, S, mlr, c2, beta1, omb1, beta2, omb2,
                          eps, absorb):
    # scikit-learn's Adam step (``absorb`` unused).
    for i in range(P.shape[0]):
        p, v, s = _moments(P, G, V, S, i, c2, beta1, omb1, beta2, omb2)
        P[i] = p + mlr * v / (np.sqrt(s) + eps)


def _adam_sklearn_float32(P, G, V, S, mlr, c2, beta1, omb1, beta2, omb2,
                          eps, absorb):
    # _adam_sklearn_formula's results as the course's float32 step with lr
    # = -mlr and no bias corrections: p + mlr * x and p - (-mlr) * x are
    # the same bits (negation is exact and rounding symmetric; a NaN
    # operand passes through either unchanged).
    _adam_float32_blocks(P, G, V, S, -mlr, c2, beta1, omb1, beta2, omb2,
                         None, None, eps, absorb)


def adam_loop(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1, corr2,
              eps, absorb):
    """The course's Adam step of the slices P, G, V, S (in place), with the
    constants of :func:`fill_constants`; compiled as :func:`_adam_float32`
    for float32 and as the formula itself otherwise."""
    _adam_formula(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1, corr2,
                  eps, absorb)


@overload(adam_loop, jit_options=dict(error_model="numpy"))
def _adam_loop_for(P, G, V, S, lr, c2, beta1, omb1, beta2, omb2, corr1,
                   corr2, eps, absorb):
    if P.dtype == types.float32 and lr == types.float32:
        return _adam_float32
    return _adam_formula


def adam_sklearn_loop(P, G, V, S, mlr, c2, beta1, omb1, beta2, omb2, eps,
                      absorb):
    """scikit-learn's Adam step ``P + mlr * v / (sqrt(s) + eps)`` (in
    place), as :func:`adam_loop`."""
    _adam_sklearn_formula(P, G, V, S, mlr, c2, beta1, omb1, beta2, omb2, eps,
                          absorb)


@overload(adam_sklearn_loop, jit_options=dict(error_model="numpy"))
def _adam_sklearn_loop_for(P, G, V, S, mlr, c2, beta1, omb1, beta2, omb2,
                           eps, absorb):
    if P.dtype == types.float32 and mlr == types.float32:
        return _adam_sklearn_float32
    return _adam_sklearn_formula


@_exact
def absorb_threshold(lr, eps, corr1, beta1):
    """A bound on ``|P|`` above which float32 Adam's step from a subnormal
    first moment cannot change P (float64; inf where no bound is given).

    With ``|v| <= 2**-126`` (beta1 in [0, 1]), bias correction ``corr1 >
    0`` and ``eps > 0`` (the denominator ``sqrt(.) + eps`` is then at least
    eps), each float32 operation of the step ``lr * (v / corr1) / (...)``
    is bounded with twice its rounding error (relative 2**-23, and 2**-149
    where the result is subnormal); P - x rounds to P when ``|x| < |P| *
    2**-26``. The bound is that of x times 2**27: twice what is needed.
    """
    u = 2.0 ** -23
    quantum = 2.0 ** -149
    if not (0.0 <= beta1 <= 1.0 and corr1 > 0.0 and eps > 0.0
            and abs(lr) < np.inf):
        return np.inf
    step = 2.0 ** -126 / corr1 * (1.0 + u) + quantum
    step = abs(lr) * step * (1.0 + u) + quantum
    step = step / (eps * (1.0 - u)) * (1.0 + u) + quantum
    bound = step * 2.0 ** 27
    return bound if bound < 1e38 else np.inf
