"""The AVX2 build of fastdnn's GEMM (Zen 3's code), tested on a host with
AVX-512.

numba compiles the register tile for the target's registers
(:mod:`fastdnn._kernels_gemm_tile`): 8 rows by two 64-byte vectors with
AVX-512, 6 rows by two 32-byte vectors with AVX2 and FMA. Every test runs
the host's own build; here an AVX-512 host also runs the AVX2 build, in a
new process that has numba compile for Zen 3 (``NUMBA_CPU_NAME=znver3``,
the host's features with AVX-512 off) into an empty cache of its own: a
CI run on an AVX-512 host tests both tiles, one on an AVX2 host the AVX2
tile (its own build), which cannot run the AVX-512 one: the test is
skipped there.

Two checks: the product tests and the fused first-layer tests pass in
that build, and its register-tile products are this process's bits (each
element of C is one chain of fused multiply-adds in the order of k,
whatever the tile's shape; the dot-product tile, whose sums follow the
vector width, is not compared).
"""
import hashlib
import os

import llvmlite.binding as llvm_binding
import numba
import numpy as np
import pytest

from fastdnn._kernels_gemm import (DOT_MAX_ROWS, KC_MIN_K, matmul_into,
                                   matmul_scaled_into)
from fastdnn._kernels_gemm_tile import HAS_AVX512, MR
from fresh_process import run_json_script
from test_gemm import _operands

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The test modules run in the AVX2 build: the products (every path, odd
#: shapes, strides, threads), the first layer's fused backward pass and
#: update, and the forward product with its bias and activation, whose
#: row blocks follow the tile's rows and panels.
AVX2_TEST_MODULES = ("test_gemm.py", "test_backward_update.py",
                     "test_forward_gemm.py")

#: Register-tile products compared bit for bit: (M, K, N, B's layout), M
#: and N off the tiles' multiples, a sum long enough to go in blocks, a
#: transposed B copied (M >= DOT_MAX_ROWS, so not the dot-product tile).
COMPARED = [(13, 70, 37, "columns"), (50, 784, 128, "columns"),
            (9, KC_MIN_K + 77, 40, "columns"),
            (DOT_MAX_ROWS + 7, 300, 33, "rows"), (20, 64, 24, "strided")]

_SKIP = None
if numba.config.DISABLE_JIT:
    _SKIP = "NUMBA_DISABLE_JIT: no compiled tiles"
elif not HAS_AVX512:
    _SKIP = ("this process's build is the AVX2 (or older) one already; the "
             "AVX-512 build needs an AVX-512 CPU")
pytestmark = pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")

# The GEMM kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()

_CHILD = """
import contextlib, json, os, sys
root = json.loads(sys.argv[1])
sys.path.insert(0, os.path.join(root, "tests"))
import pytest
from test_other_isa import AVX2_TEST_MODULES, product_digests
from fastdnn._kernels_gemm_tile import HAS_AVX512, HAS_AVX2_FMA, MR
digests = product_digests()
# pytest's report to stderr, which a failed run shows; its exit code ours.
with contextlib.redirect_stdout(sys.stderr):
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-n", "0",
                        "--rootdir", root,
                        *[os.path.join(root, "tests", m)
                          for m in AVX2_TEST_MODULES]])
print(json.dumps({"avx512": bool(HAS_AVX512), "avx2_fma":
                  bool(HAS_AVX2_FMA), "mr": MR, "digests": digests}))
sys.exit(int(code))
"""


def _avx2_features():
    # The host's features with every AVX-512 one off: what numba compiles
    # for a Zen 3 CPU.
    return ",".join(
        "-" + f[1:] if f.startswith("+avx512") or f == "+evex512" else f
        for f in llvm_binding.get_host_cpu_features().flatten().split(","))


def _avx2_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST_")}  # not this run's xdist worker
    env.update(NUMBA_CPU_NAME="znver3", NUMBA_CPU_FEATURES=_avx2_features())
    return env


def product_digests():
    """sha256 of each COMPARED product (plain, and scaled by 1/3) in both
    dtypes, on two threads: ``{case: hex digest}``."""
    out = {}
    for M, K, N, layout in COMPARED:
        for dtype in ("float32", "float64"):
            A, B = _operands(M, K, N, dtype, layout, seed=M * K + N)
            C = np.empty((M, N), dtype)
            S = np.empty((M, N), dtype)
            matmul_into(A, B, C, 2)
            matmul_scaled_into(A, B, S, 2, C.dtype.type(1.0 / 3.0))
            key = "%dx%dx%d %s %s" % (M, K, N, layout, dtype)
            out[key] = hashlib.sha256(C.tobytes() + S.tobytes()).hexdigest()
    return out


def test_the_avx2_build_passes_the_product_tests_with_the_same_bits(
        tmp_path):
    # One process compiles the AVX2 build once for both checks; it fails
    # (showing pytest's report) when a test fails there.
    other = run_json_script(_CHILD, ROOT, tmp_path, timeout=1200,
                            env=_avx2_env())
    # The other process did compile the AVX2 tile.
    assert (other["avx512"], other["avx2_fma"], other["mr"]) == (
        False, True, 6)
    assert MR == 8
    assert other["digests"] == product_digests()
