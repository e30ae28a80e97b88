"""One layer's forward and backward pass on the layers of ``fastdnn bench``'s
workloads: the hand-written kernels (as the training loops ran them before
BLAS) against the BLAS kernels of :mod:`fastdnn._kernels_blas`, side by
side in one group per layer and direction; each case first checks that
both compute the same numbers to rounding.

``fastdnn._kernels_blas.use_blas`` sends a layer to BLAS from 32 outputs
(8 over a batch of 1536 examples) and 2**16 multiply-adds, and to
fastdnn's own GEMM from 10 outputs over at most 1024 inputs and 2**15
multiply-adds, or 2**11 from 16 inputs; these timings are what that rule
rests on (the small layers' rule also on whole training steps, see
``GEMM_MIN_INPUTS_SMALL``). The public
forward pass also sends a C-ordered A_prev over more than 1024 inputs to
fastdnn's GEMM from 4 outputs (``gemm_takes_c_ordered``): the "c-order"
layers.

Then the element-wise passes of a GEMM layer (bias and activation forward,
their gradients backward) on one thread against dealt out to all of them
by blocks of rows, for every activation of the table and a range of sizes:
what ``ELEMENTWISE_PARALLEL_MIN`` and ``ACT_FORWARD_COST`` rest on. Both
sides must give the same bits.
"""
import numba
import numpy as np
import pytest

from fastdnn import _numba_config as cfg
from fastdnn._kernels import ACT_BY_NAME
from fastdnn._kernels_backward import _dZ_db_rows
from fastdnn._kernels_blas import (_bias_activate_parallel,
                                   bias_activate_rows, _dZ_db_parallel,
                                   backward_blas, forward_blas, use_blas)

#: (name, n_l, n_{l-1}, m, A_prev given as A_prev^T): the workloads' layers.
LAYERS = [
    ("mnist-shape-l1", 256, 784, 128, True),
    ("mnist-shape-l2", 128, 256, 128, False),
    ("mnist-shape-l3", 10, 128, 128, False),
    ("mnist-shape-32-l1", 256, 784, 32, True),
    ("mnist-shape-32-l2", 128, 256, 32, False),
    ("mnist-shape-32-l3", 10, 128, 32, False),
    ("digits-l1", 64, 64, 1797, False),
    ("digits-l2", 10, 64, 1797, False),
    ("long-batch-8-rows", 8, 64, 2048, False),
    ("long-batch-4-rows", 4, 64, 2048, False),
    ("cat-batch64-l1", 20, 12288, 64, True),
    # A_prev in C order over long sums (gemm_takes_c_ordered, the public
    # forward pass): the cat's first layer, and 4 and 1 outputs.
    ("cat-l1-c-order", 20, 12288, 209, False),
    ("c-order-4-rows", 4, 2048, 209, False),
    ("c-order-1-row", 1, 12288, 209, False),
    ("tiny-l2", 16, 16, 32, False),
    ("tiny-12-inputs", 12, 12, 32, False),
]

CASES = [(layer, dtype, direction, side)
         for layer in LAYERS
         for dtype in ("float32", "float64")
         for direction in ("forward", "backward")
         for side in ("hand", "blas")]


def _arrays(n, K, m, transposed, dtype):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((n, K)).astype(dtype)
    A = rng.random((m, K) if transposed else (K, m)).astype(dtype)
    return dict(W=W, A=A, b=rng.standard_normal((n, 1)).astype(dtype),
                Z=np.empty((n, m), dtype), Aout=np.empty((n, m), dtype),
                dA=rng.standard_normal((n, m)).astype(dtype),
                dZ=np.empty((n, m), dtype), dW=np.empty((n, K), dtype),
                db=np.empty((n, 1), dtype), dA_prev=np.empty((K, m), dtype))


def _call(direction, side, a, transposed):
    relu = ACT_BY_NAME["relu"]
    parallel = cfg.parallel_ok()
    threads = numba.get_num_threads()
    gemm_threads = threads if parallel else 1
    if direction == "forward":
        if side == "blas":
            return lambda: forward_blas(a["W"], a["A"], a["b"], relu, a["Z"],
                                        a["Aout"], transposed, gemm_threads)
        # The hand-written choice: the loops' _forward without BLAS (and
        # without its row split).
        m = a["A"].shape[0] if transposed else a["A"].shape[1]
        big = parallel and a["W"].size * m >= cfg.PARALLEL_MIN_WORK
        from fastdnn._kernels import forward_parallel, forward_serial
        kernel = forward_parallel if big else forward_serial
        return lambda: kernel(a["W"], a["A"], a["b"], relu, a["Z"],
                              a["Aout"], transposed)
    args = (a["dA"], a["Z"], a["Aout"], a["A"], a["W"], relu, True, a["dZ"],
            a["dW"], a["db"], a["dA_prev"], transposed)
    if side == "blas":
        return lambda: backward_blas(*args, gemm_threads)
    from fastdnn._kernels import backward_parallel, backward_serial
    if parallel and a["W"].size * a["dZ"].shape[1] >= cfg.PARALLEL_MIN_WORK:
        return lambda: backward_parallel(*args, threads)
    return lambda: backward_serial(*args)


def _result(direction, a):
    return (a["Aout"].copy(),) if direction == "forward" else (
        a["dW"].copy(), a["db"].copy(), a["dA_prev"].copy())


@pytest.mark.parametrize(
    "layer,dtype,direction,side", CASES,
    ids=["%s-%s-%s-%s" % (c[0][0], c[1], c[2], c[3]) for c in CASES])
def test_layer(benchmark, layer, dtype, direction, side):
    name, n, K, m, transposed = layer
    a = _arrays(n, K, m, transposed, dtype)
    # Both sides on the same inputs agree to rounding.
    _call("forward", "hand", a, transposed)()
    results = []
    for s in ("hand", "blas"):
        _call(direction, s, a, transposed)()
        results.append(_result(direction, a))
    rtol = 2e-5 if dtype == "float32" else 1e-12
    for hand, blas in zip(*results):
        scale = np.max(np.abs(hand))
        np.testing.assert_allclose(blas, hand, rtol=0, atol=rtol * scale)
    benchmark.group = "%s|%s|%s" % (name, direction, dtype)
    benchmark.extra_info["uses_blas"] = bool(use_blas(n, K, m))
    benchmark(_call(direction, side, a, transposed))


#: (n_l, m) of the element-wise cases: from a small layer to the digits'.
PASS_SHAPES = [(64, 64), (128, 128), (256, 128), (256, 256), (64, 1797)]

PASS_CASES = [(act, shape, dtype, direction, side)
              for act in sorted(ACT_BY_NAME)
              for shape in PASS_SHAPES
              for dtype in ("float32", "float64")
              for direction in ("forward", "backward")
              for side in ("one-thread", "split")]


def _pass(direction, side, a, act):
    n = a["Z"].shape[0]
    threads = numba.get_num_threads()
    if direction == "forward":
        if side == "split":
            return lambda: _bias_activate_parallel(a["Z"], a["b"], act,
                                                   a["Aout"], threads)
        return lambda: bias_activate_rows(a["Z"], a["b"], act, a["Aout"],
                                          0, n)
    args = (a["dA"], a["Z"], a["Aout"], act, a["dZ"], a["db"])
    if side == "split":
        return lambda: _dZ_db_parallel(*args, threads)
    return lambda: _dZ_db_rows(*args, 0, n)


@pytest.mark.parametrize(
    "act,shape,dtype,direction,side", PASS_CASES,
    ids=["%s-%dx%d-%s-%s-%s" % (c[0], c[1][0], c[1][1], c[2], c[3], c[4])
         for c in PASS_CASES])
def test_element_wise_pass(benchmark, act, shape, dtype, direction, side):
    n, m = shape
    code = ACT_BY_NAME[act]
    results = []
    for s in ("one-thread", "split"):
        # Each side from the same Z (the forward pass adds b to it).
        a = _arrays(n, 1, m, False, dtype)
        a["Z"][...] = a["dA"][::-1]
        _pass("forward", s, a, code)()
        _pass("backward", s, a, code)()
        results.append((a["Aout"], a["dZ"], a["db"]))
    for one, split in zip(*results):
        np.testing.assert_array_equal(split, one)
    a["b"][...] = 0  # the timed forward rounds leave Z as it is
    benchmark.group = "%s %dx%d|%s|%s" % (act, n, m, direction, dtype)
    benchmark.extra_info["elements"] = n * m
    benchmark(_pass(direction, side, a, code))
