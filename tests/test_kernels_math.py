"""The vectorisable exp, expm1, tanh and sigmoid of fastdnn._kernels_math:
their distance in ulps to numpy and to correctly rounded values over every
finite float (random bit patterns) and dense grids around the hard spots,
under each compile flag set of the kernels; the special values; float32 kept
float32; the loops vectorise; the polynomial is the minimax one."""
import functools
import os
import re
import subprocess
import sys
from decimal import Decimal, localcontext

import numba
import numpy as np
import pytest

from fastdnn import _kernels_math as M
from fastdnn import _numba_config as cfg

DTYPES = ("float64", "float32")
FUNCTIONS = {"exp": M.exp_fast, "expm1": M.expm1_fast, "tanh": M.tanh_fast,
             "sigmoid": M.sigmoid_fast}
#: The fastmath flags of the kernel kinds (_kernels_common): none (_exact),
#: contract (element-wise), reassoc + contract (sums).
FLAGS = {"none": False, "contract": cfg.FASTMATH_ELEMENTWISE,
         "reassoc": cfg.FASTMATH_SUM}
# Test loops are not cached (they live outside the package).
_JIT_KW = dict(cfg.JIT_KW, cache=False)


@functools.lru_cache(maxsize=None)
def _loop(name, flags):
    f = FUNCTIONS[name]

    @numba.njit(fastmath=FLAGS[flags], **_JIT_KW)
    def loop(x, out):
        for i in range(x.size):
            out[i] = f(x[i])
    return loop


def _run(name, flags, x):
    out = np.empty_like(x)
    _loop(name, flags)(x, out)
    return out


def _sigmoid_formula(x):
    # The reference's (fastdnn._reference_activations.sigmoid).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_NUMPY = {"exp": np.exp, "expm1": np.expm1, "tanh": np.tanh,
          "sigmoid": _sigmoid_formula}


def _reference(name, x, exact):
    """numpy's value in x's dtype, or (exact) numpy's in a wider type
    (80-bit long double for float64, float64 for float32) rounded to x's
    dtype: correctly rounded but for rare near-ties."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if not exact:
            return _NUMPY[name](x)
        wide = np.longdouble if x.dtype == np.float64 else np.float64
        return _NUMPY[name](x.astype(wide)).astype(x.dtype)


def ulp_distance(got, ref):
    """Representable numbers between got and ref, elementwise (0 for two
    NaNs, a huge distance for a NaN against a number)."""
    ints = np.int64 if got.dtype == np.float64 else np.int32

    def ordered(a):
        i = a.view(ints).astype(np.int64)
        return np.where(i < 0, np.int64(np.iinfo(ints).min) - i, i)
    d = np.abs(ordered(got) - ordered(ref))
    nan_got, nan_ref = np.isnan(got), np.isnan(ref)
    d[nan_got & nan_ref] = 0
    d[nan_got != nan_ref] = 1 << 40
    return d


@functools.lru_cache(maxsize=None)
def _inputs(dtype):
    """10**6 random bit patterns (finite ones) and dense grids around 0,
    the reduction boundaries (j + 1/2) ln2, the overflow and underflow
    thresholds and tanh's saturation."""
    dtype = np.dtype(dtype)
    uint = np.uint64 if dtype == np.float64 else np.uint32
    rng = np.random.default_rng(20261202)
    bits = rng.integers(0, np.iinfo(uint).max, 10**6, dtype=uint,
                        endpoint=True)
    x = bits.view(dtype)
    grids = [x[np.isfinite(x)]]
    f = np.float64
    grids += [np.linspace(-1, 1, 200001), np.linspace(-1e-3, 1e-3, 20001),
              np.linspace(-40, 40, 200001)]
    for j in range(-1100, 1100):
        c = (j + 0.5) * np.log(2)
        grids.append(np.linspace(c - 1e-6 * max(1, abs(c)),
                                 c + 1e-6 * max(1, abs(c)), 21))
    for c in (709.78, -708.4, -745.13, 88.72, -87.34, -103.97, 19.06, 9.01,
              -19.06, -9.01, 37.4, -37.4, 17.33, -17.33):
        grids.append(np.linspace(c - 0.05, c + 0.05, 20001))
    tiny = np.finfo(dtype).smallest_subnormal
    lowest = -324 if dtype == np.float64 else -46
    magnitudes = np.concatenate([np.logspace(lowest, 1, 20001),
                                 tiny * np.arange(1, 2000, dtype=f)])
    grids += [magnitudes, -magnitudes]
    with np.errstate(under="ignore", over="ignore"):
        out = np.concatenate([g.astype(dtype) for g in grids])
    return out[np.isfinite(out)]


@functools.lru_cache(maxsize=None)
def _numpy_error(name, dtype):
    """numpy's own largest distance in ulps from the exact values, on
    this machine."""
    x = _inputs(dtype)
    return int(np.max(ulp_distance(_reference(name, x, False),
                                   _reference(name, x, True))))


@pytest.mark.parametrize("flags", sorted(FLAGS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_ulps_against_numpy_and_exact(name, dtype, flags):
    x = _inputs(dtype)
    got = _run(name, flags, x)
    assert got.dtype == x.dtype
    extra = M.REASSOC_EXTRA_ULPS[name] if flags == "reassoc" else 0
    for exact, table in ((False, M.MAX_ULPS), (True, M.MAX_ULPS_EXACT)):
        bound = table[name][dtype] + extra
        if not exact:
            # The table's distance to numpy holds where numpy's own error
            # is what it was where the table was measured; numpy's SIMD
            # versions differ by CPU (AVX-512 hosts run another float32
            # expm1): at most our exact bound plus numpy's own error.
            bound = max(bound, M.MAX_ULPS_EXACT[name][dtype] + extra
                        + _numpy_error(name, dtype))
        d = ulp_distance(got, _reference(name, x, exact))
        worst = int(np.argmax(d))
        assert d[worst] <= bound, (
            "%s(%r) = %r, %s %r: %d ulps > %d" % (
                name, x[worst], got[worst], "exact" if exact else "numpy",
                _reference(name, x[worst:worst + 1], exact)[0], d[worst],
                bound))


SPECIAL = {
    # input: exp, expm1, tanh, sigmoid
    np.inf: (np.inf, np.inf, 1.0, 1.0),
    -np.inf: (0.0, -1.0, -1.0, 0.0),
    0.0: (1.0, 0.0, 0.0, 0.5),
    1000.0: (np.inf, np.inf, 1.0, 1.0),
    -1000.0: (0.0, -1.0, -1.0, 0.0),
}


@pytest.mark.parametrize("flags", sorted(FLAGS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values(dtype, flags):
    dtype = np.dtype(dtype)
    for i, name in enumerate(("exp", "expm1", "tanh", "sigmoid")):
        x = np.array(list(SPECIAL), dtype=dtype)
        want = np.array([SPECIAL[v][i] for v in SPECIAL], dtype=dtype)
        got = _run(name, flags, x)
        np.testing.assert_array_equal(got, want, err_msg=name)
        nan = _run(name, flags, np.array([np.nan, -np.nan], dtype=dtype))
        assert np.isnan(nan).all(), name
    # Odd functions keep the sign of zero; so does tanh of a subnormal.
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([-0.0, 0.0, -tiny, tiny], dtype=dtype)
    for name in ("expm1", "tanh"):
        got = _run(name, flags, x)
        np.testing.assert_array_equal(got, x)
        assert list(np.signbit(got)) == [True, False, True, False], name
    # Subnormal results are kept, not flushed (exact: a power of two).
    k = -1074 if dtype == np.float64 else -149
    x = np.array([k * np.log(2)], dtype=dtype)
    assert _run("exp", flags, x)[0] == tiny


def _ir(name, dtype, flags):
    loop = _loop(name, flags)
    loop.compile((numba.from_dtype(np.dtype(dtype))[::1],) * 2)
    sig = [s for s in loop.signatures if str(s[0].dtype) == dtype][0]
    return loop.inspect_llvm(sig)


@pytest.mark.parametrize("flags", ["none", "contract"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_loop_vectorises_and_float32_stays_float32(name, dtype, flags):
    # The loop `for i in range(n): out[i] = f(x[i])` of an element-wise
    # kernel (contract) or of an exact one (no fastmath): LLVM's loop
    # vectoriser turned it into vector code, which it cannot do with a
    # libm call in the loop.
    ir = _ir(name, dtype, flags)
    scalar = "double" if dtype == "float64" else "float"
    assert re.search(r"<\d+ x %s>" % scalar, ir), "not vectorised"
    assert not re.search(r"call [^\n]*@(exp|tanh|expm1)f?\(", ir)
    if dtype == "float32":
        # No float64 arithmetic, conversion nor constant in the kernel.
        assert not re.search(r"\bfpext\b|\bfptrunc\b|\bdouble\b", ir)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_scalar_result_type(name, dtype):
    f = FUNCTIONS[name]
    caller = numba.njit(lambda x: f(x), **_JIT_KW)
    value = np.dtype(dtype).type(0.25)
    assert caller(value) == pytest.approx(
        float(_reference(name, np.array([value]), True)[0]), rel=1e-6)
    assert str(caller.nopython_signatures[0].return_type) == dtype


def test_disable_jit_fallback_gives_the_same_values():
    # NUMBA_DISABLE_JIT=1 runs the same formulas as plain Python (numpy
    # scalars, the bit casts through views, an exact fma).
    x = np.array([-800.0, -30.5, -1.0, -1e-9, -0.0, 0.3, 0.7, 20.0, 100.0,
                  750.0, np.inf, np.nan])
    code = (
        "import numpy as np, sys\n"
        "from fastdnn import _kernels_math as M\n"
        "x = np.array(%r)\n"
        "for dt in (np.float64, np.float32):\n"
        "    for f in (M.exp_fast, M.expm1_fast, M.tanh_fast,"
        " M.sigmoid_fast):\n"
        "        v = [f(dt(a)) for a in x]\n"
        "        assert all(type(a) is dt for a in v), (f, v)\n"
        "        print(' '.join(repr(float(a)) for a in v))\n"
        % x.tolist()).replace("nan", "float('nan')").replace(
            "inf", "float('inf')")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    rows = iter(out)
    for dtype in DTYPES:
        for name in ("exp", "expm1", "tanh", "sigmoid"):
            python = np.array([float(v) for v in next(rows).split()],
                              dtype=dtype)
            jitted = _run(name, "none", x.astype(dtype))
            assert ulp_distance(python, jitted).max() <= 1, (name, dtype)


_CACHED_KERNEL = """
import numba
from fastdnn._kernels_math import exp_fast, sigmoid_fast, tanh_fast


@numba.njit(cache=True, fastmath={"contract"}, error_model="numpy")
def kernel(x, out):
    for i in range(x.size):
        out[i] = tanh_fast(x[i]) + sigmoid_fast(x[i]) * exp_fast(x[i])
"""

_CACHED_RUN = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import cached_math_kernel as m
for dtype in (np.float64, np.float32):
    x = np.linspace(-3, 3, 13).astype(dtype)
    out = np.empty_like(x)
    m.kernel(x, out)
    print(" ".join(repr(float(v)) for v in out))
print(sum(m.kernel.stats.cache_hits.values()),
      sum(m.kernel.stats.cache_misses.values()))
"""


def test_kernels_using_them_load_from_numbas_cache(tmp_path):
    # The bit-cast and fma intrinsics and the dtype overloads compile into
    # a cached kernel: a second process loads it instead of compiling.
    (tmp_path / "cached_math_kernel.py").write_text(_CACHED_KERNEL)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run(
        [sys.executable, "-c", _CACHED_RUN, str(tmp_path)], env=env,
        check=True, capture_output=True, text=True).stdout.split("\n")
        for _ in range(2)]
    assert runs[0][2].split() == ["0", "2"]  # compiled both dtypes
    assert runs[1][2].split() == ["2", "0"]  # loaded both
    assert runs[0][:2] == runs[1][:2]


# ------------------------------------------- the polynomial is the minimax


def _g(r):
    # (expm1(r) - r - r**2/2) / r**3 = sum_j r**j / (j + 3)!
    s, term, j = Decimal(0), Decimal(1) / 6, 0
    while abs(term) > Decimal(10) ** -40:
        s += term
        j += 1
        term = term * r / (j + 3)
    return s


def _solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda i: abs(m[i][c]))
        m[c], m[p] = m[p], m[c]
        for i in range(c + 1, n):
            f = m[i][c] / m[c][c]
            for k in range(c, n + 1):
                m[i][k] -= f * m[c][k]
    x = [Decimal(0)] * n
    for i in reversed(range(n)):
        x[i] = (m[i][n] - sum(m[i][k] * x[k] for k in range(i + 1, n))
                ) / m[i][i]
    return x


def _poly(c, r):
    s = Decimal(0)
    for ci in reversed(c):
        s = s * r + ci
    return s


def remez(degree, h, iterations=8, grid=1200):
    """Minimax polynomial (coefficients, constant first) of :func:`_g` on
    [-h, h] by Remez exchange, and its largest error on the grid."""
    n = degree
    xs = [h * (Decimal(2 * i) / grid - 1) for i in range(grid + 1)]
    gs = [_g(x) for x in xs]
    # Start from the Chebyshev extrema (grid points nearest to them).
    ref = sorted({round((1 - np.cos(np.pi * i / (n + 1))) * grid / 2)
                  for i in range(n + 2)})
    for _ in range(iterations):
        a = [[xs[i] ** j if j else Decimal(1) for j in range(n + 1)]
             + [Decimal(-1) ** k]
             for k, i in enumerate(ref)]
        c = _solve(a, [gs[i] for i in ref])[:-1]
        err = [_poly(c, x) - g for x, g in zip(xs, gs)]
        peaks = [i for i in range(len(xs))
                 if (i == 0 or abs(err[i]) >= abs(err[i - 1]))
                 and (i == grid or abs(err[i]) >= abs(err[i + 1]))]
        alternating = []
        for i in peaks:
            if alternating and (err[i] > 0) == (err[alternating[-1]] > 0):
                if abs(err[i]) > abs(err[alternating[-1]]):
                    alternating[-1] = i
            else:
                alternating.append(i)
        while len(alternating) > n + 2:
            drop = 0 if abs(err[alternating[0]]) < abs(
                err[alternating[-1]]) else -1
            alternating.pop(drop)
        ref = alternating
    return c, max(abs(e) for e in err)


@pytest.mark.parametrize("coefficients,bound,rounded_bound", [
    (M._P, 8.7e-18, 2e-17), (M._P_F, 8.2e-9, 1.4e-8)])
def test_coefficients_are_the_minimax_polynomial(coefficients, bound,
                                                 rounded_bound):
    # The degree's minimax error is the documented one, and the module's
    # coefficients (rounded to their dtype) come within rounded_bound of
    # g on [-0.35, 0.35].
    with localcontext() as ctx:
        ctx.prec = 50
        derived, error = remez(len(coefficients) - 1, Decimal("0.35"))
        assert float(error) <= bound
        mine = [Decimal(float(v)) for v in coefficients]
        r = [Decimal("0.35") * (Decimal(i) / 500 - 1) for i in range(1001)]
        assert max(abs(_poly(mine, x) - _g(x)) for x in r) <= rounded_bound
        assert max(abs(_poly(mine, x) - _poly(derived, x))
                   for x in r) <= rounded_bound


# ------------------------------------- float32 tanh over every float32


def test_float32_tanh_over_every_float32():
    # Every non-negative float32 below the saturation (every 61st bit
    # pattern by default, each of them with FASTDNN_EXHAUSTIVE=1: about two
    # minutes), its negation giving the negated value bit for bit: within
    # MAX_ULPS_EXACT of the correctly rounded value; beyond the
    # saturation, +-1 exactly (the check of the module's table, which
    # random bit patterns sample sparsely).
    stride = 1 if os.environ.get("FASTDNN_EXHAUSTIVE") == "1" else 61
    loop = _loop("tanh", "none")
    top = int(np.float32(M._TANH_SAT_F).view(np.uint32)) + 1
    bound = M.MAX_ULPS_EXACT["tanh"]["float32"]
    worst = 0
    for start in range(0, top, 1 << 25):
        x = np.arange(start, min(top, start + (1 << 25)), stride,
                      dtype=np.uint32).view(np.float32)
        got, neg = np.empty_like(x), np.empty_like(x)
        loop(x, got)
        loop(-x, neg)
        np.testing.assert_array_equal(neg, -got)
        d = ulp_distance(got, _reference("tanh", x, True))
        worst = max(worst, int(d.max()))
        assert worst <= bound, x[np.argmax(d)]
    assert worst >= bound - 1  # the table is not loose either
    x = np.nextafter(M._TANH_SAT_F, np.float32(np.inf)) * np.array(
        [1, 1.5, 1e10, np.inf], dtype=np.float32)
    got = _run("tanh", "none", np.concatenate([x, -x]))
    np.testing.assert_array_equal(got, [1] * 4 + [-1] * 4)


def _tanh_decimal(x):
    e = (2 * x).exp()
    return (e - 1) / (e + 1)


def test_float32_tanh_rational_fit():
    # The module's float32 coefficients, in exact arithmetic: within
    # 3.5e-8 of tanh's relative value over [2**-12, 9.02], and tanh is 1
    # in float32 from the saturation on (the rational is not used there).
    with localcontext() as ctx:
        ctx.prec = 40
        N = [Decimal(float(c)) for c in M._TANH_N_F]
        D = [Decimal(float(c)) for c in M._TANH_D_F]
        sat = Decimal(float(M._TANH_SAT_F))
        worst = Decimal(0)
        for i in range(4001):
            x = Decimal(2) ** -12 + (sat - Decimal(2) ** -12) * i / 4000
            u = x * x
            y = x * (1 + u * _poly(N, u)) / (1 + u * _poly(D, u))
            t = _tanh_decimal(x)
            worst = max(worst, abs(y / t - 1))
        assert worst <= Decimal("3.5e-8")
        assert np.float32(float(_tanh_decimal(sat))) == 1
