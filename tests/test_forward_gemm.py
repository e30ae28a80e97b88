"""A GEMM layer's forward pass in one parallel region
(:mod:`fastdnn._kernels_forward_gemm`): Z and A are those of the product
followed by the bias and activation pass, bit for bit, for every
activation, both dtypes, each way the product reads B and shares C out,
and 2 or 3 tasks; where the product's tasks would not take whole rows it
declines and writes nothing."""
import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from fastdnn._kernels_blas import bias_activate_rows, forward_blas
from fastdnn._kernels_elementwise import ACT_ALL
from fastdnn._kernels_forward_gemm import forward_tasks
from fastdnn._kernels_gemm import (NATIVE_GEMM, matmul_scaled_into,
                                   product_kind)
from fastdnn._kernels_gemm_split import (KIND_DOT, KIND_PACKED, KIND_TILES,
                                         NR_FLOAT32, NR_FLOAT64,
                                         panel_width, plan_product,
                                         task_rows)
from fastdnn._kernels_gemm_tile import MR

from thread_counts import numba_threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()

#: (n_l, n_{l-1}, m, A_prev given as A_prev^T): the MNIST shape's first
#: layer over a gathered batch of 32 (B copied, one column panel) and of
#: 128 (shared out by rows), its second layer over C-ordered activations
#: (read in place), odd shapes split by rows and by row blocks of one
#: panel, and two the one region does not take: tiles spread over several
#: panels (a short sum) and the dot-product tile (few rows, a long sum).
LAYERS = [
    (256, 784, 32, True),
    (256, 784, 128, True),
    (128, 256, 32, False),
    (8 * MR + 3, 150, 2 * NR_FLOAT32 + 5, False),
    (4 * MR + 5, 2000, NR_FLOAT64 - 3, True),
    (4 * MR + 1, 48, 8 * NR_FLOAT32 + 3, False),
    (20, 600, 64, True),
]

DTYPES = ["float32", "float64"]


def _case(n, K, m, transposed, dtype, seed):
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return rng.standard_normal(shape).astype(dtype)
    A_prev = normal(K, m)
    # A_prev^T as the array the loops gather, or A_prev itself.
    A = np.ascontiguousarray(A_prev.T) if transposed else A_prev
    return normal(n, K) * 0.3, A, normal(n, 1)


def _b_operand(A, transposed):
    return A.T if transposed else A


def _separate(W, A, b, act, transposed):
    # The product on one task, then the pass over every row.
    n = W.shape[0]
    m = A.shape[0] if transposed else A.shape[1]
    Z = np.empty((n, m), W.dtype)
    Aout = np.empty_like(Z)
    matmul_scaled_into(W, _b_operand(A, transposed), Z, 1, Z.dtype.type(1))
    bias_activate_rows(Z, b, act, Aout, 0, n)
    return Z, Aout


def _whole_rows_expected(n, K, m, transposed, dtype, threads=2):
    # Independently of the module's rule: each task's tiles, as the
    # product shares them, must cover whole rows.
    W, A, _ = _case(n, K, m, transposed, dtype, 0)
    B = _b_operand(A, transposed)
    kind = product_kind(W, B)
    if kind == KIND_DOT:
        return False
    Z = np.empty((n, m), dtype)
    parts, by_rows, _ = plan_product(W, B, Z, kind, threads)
    return parts > 1 and (by_rows or m <= panel_width(Z.itemsize))


def test_the_layers_cover_every_kind_and_both_outcomes():
    kinds, taken = set(), set()
    for n, K, m, transposed in LAYERS:
        W, A, _ = _case(n, K, m, transposed, "float32", 0)
        kinds.add(product_kind(W, _b_operand(A, transposed)))
        taken.add(_whole_rows_expected(n, K, m, transposed, "float32"))
    assert kinds == {KIND_TILES, KIND_PACKED, KIND_DOT}
    assert taken == {True, False}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS, ids=str)
def test_the_bits_of_the_product_then_the_pass(layer, dtype):
    n, K, m, transposed = layer
    W, A, b = _case(n, K, m, transposed, dtype, n + K)
    for act in ACT_ALL:
        want_Z, want_A = _separate(W, A, b, act, transposed)
        for threads in (2, 3):
            expected = _whole_rows_expected(n, K, m, transposed, dtype,
                                            threads)
            Z = np.full((n, m), np.nan, dtype)
            Aout = np.full((n, m), np.nan, dtype)
            done = forward_tasks(W, _b_operand(A, transposed), Z, b, act,
                                 Aout, threads)
            assert done == expected, (act, threads)
            if not done:
                # Nothing written: the caller runs the product and the
                # pass apart.
                assert np.isnan(Z).all() and np.isnan(Aout).all()
                continue
            assert np.array_equal(Z, want_Z), (act, threads)
            assert np.array_equal(Aout, want_A), (act, threads)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_activation_in_place(dtype):
    # Aout may be Z (the layer kernels' callers pass it so).
    n, K, m, transposed = LAYERS[0]
    W, A, b = _case(n, K, m, transposed, dtype, 1)
    for act in ACT_ALL:
        _, want_A = _separate(W, A, b, act, transposed)
        Z = np.empty((n, m), dtype)
        assert forward_tasks(W, A.T, Z, b, act, Z, 2)
        assert np.array_equal(Z, want_A), act


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS, ids=str)
def test_the_task_rows_cover_every_row_once(layer, dtype):
    n, K, m, transposed = layer
    W, A, _ = _case(n, K, m, transposed, dtype, 0)
    B = _b_operand(A, transposed)
    Z = np.empty((n, m), dtype)
    for threads in (2, 3):
        if not _whole_rows_expected(n, K, m, transposed, dtype, threads):
            continue
        parts, by_rows, _ = plan_product(W, B, Z, product_kind(W, B),
                                         threads)
        covered = np.zeros(n, int)
        for q in range(parts):
            r0, r1 = task_rows(q, parts, n, m, Z.itemsize, by_rows)
            covered[r0:r1] += 1
        assert (covered == 1).all()


@pytest.mark.skipif(not NATIVE_GEMM, reason="BLAS keeps the products here")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_the_layer_pass_gives_the_same_bits_on_any_thread_count(dtype,
                                                                threads):
    # forward_blas takes the one region on two threads and the product and
    # the pass apart on one.
    for n, K, m, transposed in LAYERS:
        W, A, b = _case(n, K, m, transposed, dtype, 2)
        for act in ACT_ALL:
            want_Z, want_A = _separate(W, A, b, act, transposed)
            Z = np.empty((n, m), dtype)
            Aout = np.empty((n, m), dtype)
            with numba_threads(threads):
                forward_blas(W, A, b, act, Z, Aout, transposed, threads)
            assert np.array_equal(Z, want_Z), (n, K, m, act)
            assert np.array_equal(Aout, want_A), (n, K, m, act)


#: Counts the arrays that forward_tasks allocates for each layer of LAYERS
#: and a small one, on 1 and 2 tasks, with numba's allocation statistics
#: on (NUMBA_NRT_STATS, read when numba starts: a process of its own, which
#: loads the kernels from the cache). Python's arrays passed in count as
#: allocations too: the calls are made k times inside one compiled call,
#: and the counts of k = 2 and k = 1 subtracted.
_ALLOCATIONS = """
import json, os, sys
root = json.loads(sys.argv[1])
sys.path.insert(0, os.path.join(root, "tests"))
import numba
import numpy as np
from numba.core.runtime import rtsys
from test_forward_gemm import LAYERS, _b_operand, _case
from fastdnn._kernels_forward_gemm import forward_tasks

@numba.njit
def calls(W, B, Z, b, Aout, threads, k):
    done = False
    for i in range(k):
        done = forward_tasks(W, B, Z, b, np.int64(0), Aout, threads)
    return done

def allocations(args, k):
    before = rtsys.get_allocation_stats().alloc
    done = calls(*args, k)
    return done, rtsys.get_allocation_stats().alloc - before

out = []
for n, K, m, transposed in LAYERS + [(16, 16, 32, False)]:
    W, A, b = _case(n, K, m, transposed, "float32", 0)
    Z = np.empty((n, m), np.float32)
    for threads in (1, 2):
        args = (W, _b_operand(A, transposed), Z, b, Z, threads)
        calls(*args, 1)  # compiled, and numba's runtime started
        done, once = allocations(args, 1)
        _, twice = allocations(args, 2)
        out.append([[n, K, m, threads], bool(done), twice - once])
print(json.dumps(out))
"""


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no compiled code")
def test_a_declined_layer_allocates_nothing():
    # The decline comes from the shapes alone, before any scratch is
    # made: the product that then runs apart plans its own.
    env = dict(os.environ, NUMBA_NRT_STATS="1", NUMBA_NUM_THREADS="2")
    done = subprocess.run(
        [sys.executable, "-c", _ALLOCATIONS, json.dumps(ROOT)], env=env,
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    assert {taken for _, taken, _ in rows} == {True, False}
    for layer, taken, allocated in rows:
        if not taken:
            assert allocated == 0, layer
