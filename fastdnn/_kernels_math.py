"""exp, expm1, tanh and the sigmoid as branch-free scalar formulas that LLVM
vectorises inside numba loops (private).

numba compiles ``np.exp``/``np.tanh``/``math.tanh`` of a scalar to a call
of the C library, one element at a time: a loop holding such a call is not
vectorised. The functions here use arithmetic, comparisons (lowered to
selects), ``llvm.rint``, ``llvm.fma`` and bit casts only, so a loop such as
``for i in range(n): out[i] = tanh_fast(x[i])`` runs 4 (float64) or 8
(float32) elements per AVX2 instruction. Each takes a float64 or a float32
scalar and computes in that type: a float32 argument gives a float32
result, computed with float32 constants and a shorter polynomial, so that
float32 kernels stay float32 and vectorise twice as wide.

Method
------
``x = k ln2 + r + c``, ``k = rint(x / ln2)``, ``|r| <= ln2 / 2`` (Cody-Waite:
``ln2`` split into a head of 42 (float64) / 16 (float32) significant bits,
so that ``k * head`` is exact for every ``k`` that occurs, and a tail; ``c``
the rounding error of ``r``, carried to first order).
``expm1(r) = r + r**2 (1/2 + r P(r))``, ``P`` the minimax polynomial (Remez
exchange on ``[-0.35, 0.35]``, absolute error of ``P``) of
``(expm1(r) - r - r**2/2) / r**3``: degree 9 for float64 (error of ``P``
8.7e-18, 1.9e-17 with its coefficients rounded to float64: a relative
error below 2.3e-18 on ``expm1(r)``), degree 4 for float32 (8.2e-9, 1.3e-8
rounded: relative 1.6e-9). The coefficients are re-derived by
``tests/test_kernels_math.py``. Then

- ``exp(x) = 2**k1 * (2**k2 * (1 + expm1(r)))``, ``k1 + k2 = k``, both
  powers of two normal numbers built from their bits, so that every
  result, subnormal ones included, is rounded once (subnormal results are
  kept, not flushed);
- ``expm1(x) = 2 * (2**(k-1) expm1(r) + (2**(k-1) - 1/2))``, with no
  cancellation beyond a factor of 2;
- float64 ``tanh(x) = sign(x) t / (t + 2)``, ``t = expm1(2 |x|)`` over
  ``2 |x| <= 40`` (so no clamp but the saturation's), the sign copied from
  ``x``'s bit (this keeps ``-0.0``; for tiny ``x``, ``t = 2 |x|`` and the
  quotient is ``|x|``), the quotient not compensated: 35 vector
  instructions a loop step against 55 with the general expm1 and the
  compensated quotient (AVX2 build), about half the time, for one ulp
  more;
- float32 ``tanh(x) = x (1 + u N(u)) / (1 + u D(u))``, ``u = x**2``, a
  (4, 4) rational fitted to tanh's relative error on ``[0, 9.02]`` (largest
  relative error 2.2e-8, 3.4e-8 with its coefficients rounded to float32),
  and +-1 beyond: one division and nine multiply-adds, a third of the
  exp-based form's time, for a few ulps (below). Odd by construction,
  ``x`` itself for tiny ``x``;
- ``sigmoid(x)``: the reference's ``1 / (1 + e)`` (``x >= 0``) or
  ``e / (1 + e)``, ``e = exp(-|x|)``;
- in the sigmoid's quotient the rounding errors of the sum and of the
  quotient are corrected (an exact remainder by ``fma``): one division,
  ~0.5 ulp.

Accuracy
--------
Largest distance, in units in the last place (representable numbers
between the two results), measured by ``tests/test_kernels_math.py`` over
10**6 random bit patterns (every finite float) and dense grids around 0,
the reduction boundaries ``(j + 1/2) ln2``, the overflow and underflow
thresholds and tanh's saturation, which asserts these bounds (held in
:data:`MAX_ULPS`, :data:`MAX_ULPS_EXACT`):

=========== ============== ============== ============== ==============
function    float64: numpy float32: numpy float64: exact float32: exact
=========== ============== ============== ============== ==============
exp_fast    1              3              1              1
expm1_fast  1              1              1              1
tanh_fast   3              5              2              5
sigmoid     3              3              1              1
=========== ============== ============== ============== ==============

"numpy" is ``np.exp``, ``np.expm1``, ``np.tanh`` and the reference's
sigmoid formula with ``np.exp``, in the argument's dtype; "exact" is the
correctly rounded value (numpy's in 80-bit long double for float64, in
float64 for float32, rounded). Every function but tanh is within 1 ulp of
the exact value, so the larger distances to numpy are numpy's own errors
(float64 tanh is 2 ulps from the exact value on about 0.05% of the
inputs, at most 1 elsewhere; the roundings of ``t``, ``t + 2`` and the
quotient add up): on the same inputs numpy's float32 ``exp`` is up to 2
ulps from the exact value, and the reference's sigmoid formula up to 2
(float64) / 3 (float32) ulps (the roundings of ``1 + e`` and of the
division add to those of ``exp``). float32 tanh is checked over every
float32 input (``FASTDNN_EXHAUSTIVE=1``; the default run takes every 61st
bit pattern):
5 ulps at most (3 for ``|x| < 0.5``), 2 or less for 99.98% of the inputs
below its saturation: the roundings of ``N``, ``D`` and the quotient add
to the fit's error, most where tanh is near 1. Under
``reassoc`` the compensation terms of expm1 are folded away, and in a
build for a CPU without FMA those of the sigmoid's quotient: 1 ulp more
there (:data:`REASSOC_EXTRA_ULPS`; tanh stays within its bounds).

NaN propagates; ``exp(inf) = inf``, ``exp(-inf) = 0``, overflow gives inf
(beyond 709.78 / 88.72), underflow gives subnormals (rounded once, not
flushed) then 0; ``expm1(-inf) = -1``; ``tanh(+-inf) = +-1``;
``tanh(-0.0) = -0.0``, ``expm1(-0.0) = -0.0``; ``sigmoid(inf) = 1``,
``sigmoid(-inf) = 0``.

Compile flags: the bounds hold without fastmath and with ``contract``
(``cfg.FASTMATH_ELEMENTWISE``), one ulp looser for expm1 and the
sigmoid with ``reassoc`` (``cfg.FASTMATH_SUM``); the functions must not be
used under ``nnan`` or ``ninf`` (``fastmath=True``), which assume away the
NaN and inf handling. The products that must be exact use ``llvm.fma``
explicitly (one instruction on every CPU with AVX2), whatever the flags.
"""
from fractions import Fraction

import numpy as np

# Before numba: _kernels_common imports _numba_config, which sets
# NUMBA_CACHE_DIR.
from ._kernels_common import _inline

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba.core import cgutils, types  # noqa: E402
from numba.extending import intrinsic, overload  # noqa: E402
from llvmlite import ir  # noqa: E402

#: Largest ulp distance to numpy, by function and dtype (measured; the
#: tests assert it).
MAX_ULPS = {
    "exp": {"float64": 1, "float32": 3},
    "expm1": {"float64": 1, "float32": 1},
    "tanh": {"float64": 3, "float32": 5},
    "sigmoid": {"float64": 3, "float32": 3},
}
#: Largest ulp distance to the correctly rounded value.
MAX_ULPS_EXACT = {name: {"float64": 1, "float32": 1} for name in MAX_ULPS}
MAX_ULPS_EXACT["tanh"] = {"float64": 2, "float32": 5}
#: Extra ulps when inlined into a kernel compiled with ``reassoc``.
REASSOC_EXTRA_ULPS = {"exp": 0, "expm1": 1, "tanh": 0, "sigmoid": 1}


# ------------------------------------------------------------------ bit casts


def _bits_jit(typingctx, x):
    # The bits of a float as the signed integer of its width (a bit cast:
    # vectorises as a no-op).
    if not isinstance(x, types.Float):
        return None
    res = types.int64 if x.bitwidth == 64 else types.int32

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(res))
    return res(x), codegen


def _from_bits_jit(typingctx, bits, like):
    # The float of the type of ``like`` whose bits are the low bits of the
    # integer ``bits`` (numba widens int32 arithmetic to int64).
    if not (isinstance(bits, types.Integer)
            and isinstance(like, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        ity = context.get_value_type(
            types.int64 if like.bitwidth == 64 else types.int32)
        value = args[0]
        if bits.bitwidth > like.bitwidth:
            value = builder.trunc(value, ity)
        elif bits.bitwidth < like.bitwidth:
            value = builder.sext(value, ity)
        return builder.bitcast(value, context.get_value_type(like))
    return like(bits, like), codegen


def _fma_jit(typingctx, a, b, c):
    # a * b + c rounded once (llvm.fma: one vfmadd instruction on every
    # x86-64 CPU with AVX2), whatever the caller's fastmath flags.
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, sig, args):
        lty = context.get_value_type(a)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(lty, [lty] * 3),
            "llvm.fma.%s" % lty.intrinsic_name)
        return builder.call(fn, args)
    return a(a, b, c), codegen


def _fma_python(a, b, c):
    # Exact product and sum, rounded once to double (then to float32:
    # a double rounding, good enough for debugging).
    if not np.isfinite(a * b + c):
        return a * b + c  # NaN or inf whatever the rounding
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    return type(a)(float(exact))


def _bits_python(x):
    # NUMBA_DISABLE_JIT=1: the same through numpy views.
    if isinstance(x, np.float32):
        return np.float32(x).view(np.int32)
    return np.float64(x).view(np.int64)


def _from_bits_python(bits, like):
    if isinstance(like, np.float32):
        return np.int64(bits).astype(np.int32).view(np.float32)
    return np.int64(bits).view(np.float64)


if numba.config.DISABLE_JIT:
    _bits, _from_bits = _bits_python, _from_bits_python
    _fma = _fma_python
else:
    _bits, _from_bits = intrinsic(_bits_jit), intrinsic(_from_bits_jit)
    _fma = intrinsic(_fma_jit)


# ------------------------------------------------------------------ constants

_LN2_HI = 0.6931471805598903            # 0x1.62e42fefa38p-1: 42 bits
_LN2_LO = 5.497923018708371e-14         # ln2 - _LN2_HI
_INV_LN2 = 1.4426950408889634
#: 1.5 * 2**52: ``k + _SHIFT`` holds the integer k in its low bits.
_SHIFT = 6755399441055744.0
#: ``bits(k + _SHIFT) + _BIAS`` shifted left by 52: the bits of 2**k.
_BIAS = 1023 - (1 << 51)
_EXP_MAX = 710.0                        # exp overflows beyond 709.78
_EXP_MIN = -750.0                       # exp is 0 below -745.14
_EXPM1_MIN = -60.0                      # expm1 is -1 below -37.4
_EXPM1_TINY = 2.0 ** -54                # expm1(x) rounds to x below
_TANH_MAX = 20.0                        # tanh is +-1 beyond 19.06
_SIGN_BIT_64 = -(1 << 63)               # the sign bit of a float64
#: Minimax P(r) ~ (expm1(r) - r - r**2/2) / r**3 on [-0.35, 0.35], P[0]
#: the constant term.
_P = (0.16666666666666669, 0.04166666666666667, 0.008333333333329796,
      0.0013888888888880307, 0.00019841269864365895, 2.4801587335876127e-05,
      2.75572664411147e-06, 2.7557262162114043e-07, 2.5101336357893717e-08,
      2.0918941130191098e-09)

_f4 = np.float32
_LN2_HI_F = _f4(0.69314575)             # 0x1.62e4p-1: 16 bits
_LN2_LO_F = _f4(1.4286068e-06)
_INV_LN2_F = _f4(1.442695)
_SHIFT_F = _f4(12582912.0)              # 1.5 * 2**23
_BIAS_F = 127 - (1 << 22)
_EXP_MAX_F = _f4(89.0)                  # exp overflows beyond 88.72
_EXP_MIN_F = _f4(-110.0)                # exp is 0 below -103.98
_EXPM1_MIN_F = _f4(-20.0)               # expm1 is -1 below -17.33
_EXPM1_TINY_F = _f4(2.0 ** -25)
#: tanh(x) ~ x (1 + u N(u)) / (1 + u D(u)), u = x**2, on [0, 9.02]: the
#: coefficients of N and D (constant first), a (4, 4) rational fitted to
#: the relative error of tanh (iteratively reweighted least squares),
#: 2.2e-8 (2**-25.4) at most, 3.4e-8 with the coefficients rounded to
#: float32. tanh is +-1 beyond _TANH_SAT_F in float32 (from 9.01).
_TANH_N_F = (_f4(0.13382687), _f4(0.0034974564), _f4(2.0635804e-05),
             _f4(1.338427e-08))
_TANH_D_F = (_f4(0.46716008), _f4(0.025884356), _f4(0.00032885154),
             _f4(7.7902394e-07))
_TANH_SAT_F = _f4(9.02)
_P_F = (_f4(0.16666667), _f4(0.04166655), _f4(0.008333299),
        _f4(0.0013926921), _f4(0.00019900434))
_ONE_F, _TWO_F, _HALF_F, _ZERO_F = _f4(1), _f4(2), _f4(0.5), _f4(0)


# ------------------------------------------------------------ division

@_inline
def _div_plus(n, t, b):
    """``n / (t + b)``, ``t, b >= 0``, with the roundings of the sum and of
    the quotient corrected: within about 0.5 ulp of the exact quotient
    of ``n`` by the exact sum, for one division."""
    d = t + b
    # d + ed = t + b exactly (Fast2Sum, the larger term first).
    ed = (b - d) + t if t <= b else (t - d) + b
    inv = type(d)(1) / d
    y = n * inv
    rem = _fma(-y, d, n)  # n - y d, exactly
    return y + (rem - y * ed) * inv


# ------------------------------------------------------------ float64 forms

@_inline
def _expm1_reduced64(r, c):
    # Estrin's scheme: a chain of 4 dependent multiply-adds instead of
    # Horner's 9, so that the CPU overlaps more of them.
    r2 = r * r
    r4 = r2 * r2
    p01 = _P[0] + _P[1] * r
    p23 = _P[2] + _P[3] * r
    p45 = _P[4] + _P[5] * r
    p67 = _P[6] + _P[7] * r
    p89 = _P[8] + _P[9] * r
    p = (p01 + p23 * r2) + r4 * ((p45 + p67 * r2) + r4 * p89)
    # expm1(r + c) = expm1(r) + c exp(r), to first order in c.
    return r + (r * r * (0.5 + r * p) + c * (1.0 + r))


@_inline
def _pow2_64(kf):
    # 2**kf for an integral float64 kf in [-1022, 1023], from its bits.
    return _from_bits((_bits(kf + _SHIFT) + _BIAS) << 52, kf)


@_inline
def _reduce64(x):
    # (k, r, c) with x = k ln2 + r + c, c the rounding error of r; a NaN
    # gives NaN for all three.
    kf = np.rint(x * _INV_LN2)
    rh = x - kf * _LN2_HI  # exact: kf * _LN2_HI is, and is close to x
    rl = kf * _LN2_LO
    r = rh - rl
    return kf, r, (rh - r) - rl


@_inline
def _exp64(x):
    # Clamped so that 2**k1 and 2**k2 stay normal; the comparisons are
    # False for NaN, which then flows through to the result.
    xc = _EXP_MAX if x > _EXP_MAX else x
    xc = _EXP_MIN if xc < _EXP_MIN else xc
    kf, r, c = _reduce64(xc)
    k1 = np.rint(kf * 0.5)
    return _pow2_64(k1) * (_pow2_64(kf - k1) * (1.0 + _expm1_reduced64(r, c)))


@_inline
def _expm1_64(x):
    xc = _EXP_MAX if x > _EXP_MAX else x
    xc = _EXPM1_MIN if xc < _EXPM1_MIN else xc
    kf, r, c = _reduce64(xc)
    # 2**(k-1): normal for every k here; the final doubling is exact or
    # overflows to inf as it should.
    h = _pow2_64(kf - 1.0)
    y = 2.0 * (h * _expm1_reduced64(r, c) + (h - 0.5))
    return x if abs(x) < _EXPM1_TINY else y


@_inline
def _tanh64(x):
    # tanh(|x|) = t / (t + 2), t = expm1(2 |x|) with 2 |x| in [0, 40]
    # (tanh is 1 beyond 19.06): no overflow or underflow to clamp against,
    # and 2**k (k <= 58) built in one step. The quotient is left
    # uncompensated: compensated (by _div_plus, or a cheaper correction of
    # the sum's rounding alone) it took 1.2-1.45 ns an element against 0.94
    # in the AVX2 build, for one ulp. The sign is x's own bit: -0.0 stays
    # -0.0, tiny x gives x (t = 2x, t + 2 = 2), NaN stays NaN.
    a = abs(x)
    a = _TANH_MAX if a > _TANH_MAX else a
    kf, r, c = _reduce64(a + a)
    h = _pow2_64(kf)
    t = h * _expm1_reduced64(r, c) + (h - 1.0)
    y = t / (t + 2.0)
    return _from_bits(_bits(y) | (_bits(x) & _SIGN_BIT_64), x)


@_inline
def _sigmoid64(x):
    e = _exp64(-abs(x))
    return _div_plus(1.0 if x >= 0.0 else e, e, 1.0)


# ------------------------------------------------------------ float32 forms

@_inline
def _expm1_reduced32(r, c):
    r2 = r * r
    p = (_P_F[0] + _P_F[1] * r) + r2 * (
        (_P_F[2] + _P_F[3] * r) + r2 * _P_F[4])
    return r + (r * r * (_HALF_F + r * p) + c * (_ONE_F + r))


@_inline
def _pow2_32(kf):
    # 2**kf for an integral float32 kf in [-126, 127], from its bits.
    return _from_bits((_bits(kf + _SHIFT_F) + _BIAS_F) << 23, kf)


@_inline
def _reduce32(x):
    kf = np.rint(x * _INV_LN2_F)
    rh = x - kf * _LN2_HI_F
    rl = kf * _LN2_LO_F
    r = rh - rl
    return kf, r, (rh - r) - rl


@_inline
def _exp32(x):
    xc = _EXP_MAX_F if x > _EXP_MAX_F else x
    xc = _EXP_MIN_F if xc < _EXP_MIN_F else xc
    kf, r, c = _reduce32(xc)
    k1 = np.rint(kf * _HALF_F)
    return _pow2_32(k1) * (_pow2_32(kf - k1)
                           * (_ONE_F + _expm1_reduced32(r, c)))


@_inline
def _expm1_32(x):
    xc = _EXP_MAX_F if x > _EXP_MAX_F else x
    xc = _EXPM1_MIN_F if xc < _EXPM1_MIN_F else xc
    kf, r, c = _reduce32(xc)
    h = _pow2_32(kf - _ONE_F)
    y = _TWO_F * (h * _expm1_reduced32(r, c) + (h - _HALF_F))
    return x if abs(x) < _EXPM1_TINY_F else y


@_inline
def _tanh32(x):
    # x (1 + u N(u)) / (1 + u D(u)), u = x**2, the numerator as
    # x + (x u) N(u) in one fma (its rounding is the last, and tiny terms
    # vanish in it); +-1 beyond the saturation, where the rational
    # (fitted up to 9.02) no longer holds and u may overflow. Tiny x gives
    # x exactly (u = 0 or its terms vanish below x's half ulp), -0.0
    # included; NaN propagates (the comparison is False).
    u = x * x
    n = _fma(_fma(_fma(_TANH_N_F[3], u, _TANH_N_F[2]), u, _TANH_N_F[1]),
             u, _TANH_N_F[0])
    d = _fma(_fma(_fma(_fma(_TANH_D_F[3], u, _TANH_D_F[2]), u,
                       _TANH_D_F[1]), u, _TANH_D_F[0]), u, _ONE_F)
    y = _fma(x * u, n, x) / d
    one = -_ONE_F if x < _ZERO_F else _ONE_F
    return one if abs(x) > _TANH_SAT_F else y


@_inline
def _sigmoid32(x):
    e = _exp32(-abs(x))
    return _div_plus(_ONE_F if x >= _ZERO_F else e, e, _ONE_F)


# --------------------------------------------------------- dtype dispatch

def _dispatcher(name, f64, f32):
    """A Python function choosing ``f32`` for a float32 argument and ``f64``
    otherwise, and its numba overload making the same choice at compile
    time (inlined, so the caller's fastmath flags apply)."""
    def dispatch(x):
        return f32(x) if isinstance(x, np.float32) else f64(x)
    dispatch.__name__ = dispatch.__qualname__ = name

    def typed(x):
        if isinstance(x, types.Float):
            impl = f32 if x.bitwidth == 32 else f64
            return lambda x: impl(x)
        return None
    overload(dispatch, inline="always")(typed)
    return dispatch


_exp = _dispatcher("_exp", _exp64, _exp32)
_expm1 = _dispatcher("_expm1", _expm1_64, _expm1_32)
_tanh = _dispatcher("_tanh", _tanh64, _tanh32)
_sigmoid = _dispatcher("_sigmoid", _sigmoid64, _sigmoid32)


# ------------------------------------------------------------------- public

@_inline
def exp_fast(x):
    """``exp(x)`` of a float64 or float32 scalar, in its type (see the
    module docstring for accuracy and special values)."""
    return _exp(x)


@_inline
def expm1_fast(x):
    """``exp(x) - 1`` of a float64 or float32 scalar, in its type, accurate
    near 0."""
    return _expm1(x)


@_inline
def tanh_fast(x):
    """``tanh(x)`` of a float64 or float32 scalar, in its type; odd
    (``tanh_fast(-0.0)`` is ``-0.0``) and accurate near 0."""
    return _tanh(x)


@_inline
def sigmoid_fast(x):
    """``1 / (1 + exp(-x))`` of a float64 or float32 scalar, in its type,
    as the reference computes it (``exp`` of ``-|x|`` only)."""
    return _sigmoid(x)
