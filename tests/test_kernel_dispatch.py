"""Kernels compiled without numba's CPython wrapper for jitted callers
(:mod:`fastdnn._kernel_dispatch`): Python's calls run a twin compiled with
it, both give the same results, and each is cached under its own name."""
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from fastdnn._kernel_dispatch import (TWIN_SUFFIX, KernelDispatcher,
                                      compiled_signatures, kernel_jit)
from fastdnn._kernels_common import _exact, _exact_leaf, _exact_loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _scaled_sum(x, a):
    total = 0.0
    for i in range(x.shape[0]):
        total += a * x[i]
    return total


def test_jitted_callers_compile_it_without_a_wrapper_python_calls_its_twin():
    kernel = kernel_jit(nogil=True)(_scaled_sum)
    assert isinstance(kernel, KernelDispatcher)

    @numba.njit
    def caller(x):
        return kernel(x, 2.0)

    x = np.arange(7.0)
    assert caller(x) == 42.0
    [sig] = kernel.signatures
    assert kernel.targetoptions["no_cpython_wrapper"] is True
    assert kernel.from_python().signatures == []
    # From Python: the twin, compiled with the wrapper, the same result.
    assert kernel(x, 2.0) == 42.0
    twin = kernel.from_python()
    assert twin is kernel.from_python()
    assert twin.py_func.__qualname__.endswith(TWIN_SUFFIX)
    assert "no_cpython_wrapper" not in twin.targetoptions
    assert twin.targetoptions["nogil"] is True
    assert kernel.signatures == [sig]
    assert compiled_signatures(kernel) == [sig]
    assert kernel(x.astype(np.float32), 1.0) == 21.0
    assert len(compiled_signatures(kernel)) == 2


def test_a_python_call_never_reaches_a_version_without_a_wrapper():
    # Compiled first for a jitted caller, then called from Python with the
    # same types: numba would call that version through a null pointer.
    kernel = kernel_jit()(_scaled_sum)
    x = np.ones(3)
    kernel.compile((numba.typeof(x), numba.float64))
    assert kernel(x, 3.0) == 9.0
    with pytest.raises(TypeError, match="not enough arguments"):
        kernel(x)


@pytest.mark.parametrize("decorator", [_exact, _exact_leaf])
def test_the_kernel_kinds_use_it_and_the_training_loops_do_not(decorator):
    assert isinstance(decorator(_scaled_sum), KernelDispatcher)
    loop = _exact_loop(_scaled_sum)
    assert not isinstance(loop, KernelDispatcher)
    assert "no_cpython_wrapper" not in loop.targetoptions


_MODULE = """
import numpy as np
from fastdnn._kernel_dispatch import kernel_jit
import numba


@kernel_jit(cache=True)
def kernel(x):
    return x.sum() * 2.0


@numba.njit(cache=True)
def caller(x):
    return kernel(x) + 1.0
"""

_RUN = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import cached_dispatch_kernel as m
x = np.arange(5.0)
print(m.caller(x), m.kernel(x))
print(sum(m.kernel.stats.cache_hits.values()),
      sum(m.kernel.from_python().stats.cache_hits.values()))
"""


def test_the_two_versions_load_from_numbas_cache_each_its_own(tmp_path):
    (tmp_path / "cached_dispatch_kernel.py").write_text(_MODULE)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH",
                                                             ""))
    runs = [subprocess.run([sys.executable, "-c", _RUN, str(tmp_path)],
                           env=env, capture_output=True, text=True,
                           timeout=300) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (run.stdout.split("\n") for run in runs)
    assert first[0] == second[0] == "21.0 20.0"
    # The first process compiled both; the second loaded the twin (the
    # caller, loaded whole, does not ask for the kernel's other version).
    assert first[1] == "0 0"
    assert second[1] == "0 1"
