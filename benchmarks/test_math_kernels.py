"""tanh, exp and the sigmoid over 10**6 values, float64 and float32: a numba
element loop calling numpy's scalar functions (libm calls, one element at
a time: what the kernels compile today), the same loop calling
fastdnn._kernels_math's vectorisable functions, and numpy's ufuncs over
the array (the reference's formulas). Groups are named
``operation|n|dtype``; each case records the CPU and numba's LLVM target
(``extra_info``), as every benchmark table must name them."""
import functools
import platform

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest

from fastdnn import _numba_config as cfg
from fastdnn._kernels_math import exp_fast, sigmoid_fast, tanh_fast
from fastdnn._reference_activations import sigmoid as reference_sigmoid

N = 10 ** 6
# The element-wise kernels' flags; not cached (outside the package).
_JIT_KW = dict(cfg.JIT_KW, cache=False, fastmath=cfg.FASTMATH_ELEMENTWISE)


def _element_loop(f):
    @numba.njit(**_JIT_KW)
    def loop(x, out):
        for i in range(x.size):
            out[i] = f(x[i])
        return out
    return loop


@numba.njit(inline="always", **cfg.JIT_KW)
def _libm_tanh(x):
    return np.tanh(x)


@numba.njit(inline="always", **cfg.JIT_KW)
def _libm_exp(x):
    return np.exp(x)


@numba.njit(inline="always", **cfg.JIT_KW)
def _libm_sigmoid(x):
    # The reference's formula with numpy's scalar exp (a libm call).
    one = type(x)(1)
    e = np.exp(-abs(x))
    return one / (one + e) if x >= 0 else e / (one + e)


IMPLEMENTATIONS = {
    "tanh": {"numba-libm": _libm_tanh, "numba-fast": tanh_fast,
             "numpy": np.tanh},
    "exp": {"numba-libm": _libm_exp, "numba-fast": exp_fast,
            "numpy": np.exp},
    "sigmoid": {"numba-libm": _libm_sigmoid, "numba-fast": sigmoid_fast,
                "numpy": reference_sigmoid},
}


@functools.lru_cache(maxsize=None)
def _function(operation, impl):
    f = IMPLEMENTATIONS[operation][impl]
    if impl == "numpy":
        return f
    loop = _element_loop(f)
    return lambda x: loop(x, np.empty_like(x))


@functools.lru_cache(maxsize=None)
def _values(dtype):
    # tanh's and the sigmoid's working range (and exp's, up to e**16).
    rng = np.random.default_rng(0)
    return (rng.standard_normal(N) * 4).astype(dtype)


def _cpu():
    model = platform.processor() or platform.machine()
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in (
                        "", "x86_64", platform.machine()):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    break
    except OSError:
        pass
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    return model, simd


CASES = [(op, dtype, impl) for op in IMPLEMENTATIONS
         for dtype in ("float64", "float32")
         for impl in sorted(IMPLEMENTATIONS[op])]


@pytest.mark.parametrize("operation,dtype,impl", CASES,
                         ids=["%s-%s-%s" % c for c in CASES])
def test_math_kernel(benchmark, operation, dtype, impl):
    fn = _function(operation, impl)
    x = _values(dtype)
    fn(x)  # compile outside the timing
    model, simd = _cpu()
    benchmark.group = "%s|%d|%s" % (operation, N, dtype)
    benchmark.extra_info.update(
        implementation=impl, operation=operation, cpu=model,
        simd=",".join(simd), llvm_target=llvm.get_host_cpu_name())
    result = benchmark(fn, x)
    assert result.dtype == x.dtype and result.shape == x.shape
    assert np.isfinite(result).all()
