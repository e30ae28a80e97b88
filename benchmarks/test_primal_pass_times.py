"""The primal loop's first layer over many inputs: one pass over X
(:mod:`fastdnn._primal_fused_kernels`: dW, the update and the next
iteration's W X together) against the two layer kernels it replaces (the
backward kernel over X, the update, the forward kernel over X^T), side by
side in one group per shape and dtype. Each case first checks that both
give the same dW and W bit for bit and the same next Z to rounding.

``fastdnn._primal_fused_kernels.FUSED_MIN_CHUNKS`` (the pass from 2048
inputs on) rests on these timings: below two chunks of inputs the pass
would run on one thread.
"""
import numba
import numpy as np
import pytest

from fastdnn import _numba_config as cfg
from fastdnn._kernels import (ACT_BY_NAME, _forward_finish, _n_chunks,
                              backward_parallel, backward_serial,
                              forward_parallel, forward_serial, update_into)
from fastdnn._kernels_gemm import NATIVE_GEMM
from fastdnn._primal_fused_kernels import backward_update_forward

#: (name, n_1, n_x, m): the cat's first layer, and the edges of the rule.
SHAPES = [
    ("cat", 20, 12288, 209),
    ("cat-wide-batch", 20, 12288, 1000),
    ("2048-inputs", 20, 2048, 209),
    ("1024-inputs", 20, 1024, 209),
    ("4096-inputs-64", 7, 4096, 64),
]

CASES = [(shape, dtype, side)
         for shape in SHAPES
         for dtype in ("float32", "float64")
         for side in ("layer-kernels", "one-pass")]


def _arrays(n, K, m, dtype):
    rng = np.random.default_rng(0)
    X = rng.random((K, m)).astype(dtype)
    return dict(
        X=X, XT=np.ascontiguousarray(X.T),
        W=(0.01 * rng.standard_normal((n, K))).astype(dtype),
        b=rng.standard_normal((n, 1)).astype(dtype),
        dA=rng.standard_normal((n, m)).astype(dtype),
        Z=rng.standard_normal((n, m)).astype(dtype),
        Znext=np.empty((n, m), dtype), Anext=np.empty((n, m), dtype),
        dZ=np.empty((n, m), dtype), dW=np.empty((n, K), dtype),
        db=np.empty((n, 1), dtype),
        parts=np.empty((_n_chunks(K), n, m), dtype),
        lr=np.dtype(dtype).type(0.01))


def _call(side, a):
    relu = ACT_BY_NAME["relu"]
    n, K = a["W"].shape
    m = a["X"].shape[1]
    parallel = cfg.parallel_ok() and n * K * m >= cfg.PARALLEL_MIN_WORK
    threads = numba.get_num_threads()
    # The relu mask reads Z; the backward pass leaves Z, and so each call
    # computes the same thing (W moves by lr dW each call).
    if side == "one-pass":
        from fastdnn._kernels_backward import _dZ_db

        def one_pass():
            _dZ_db(a["dA"], a["Z"], a["Z"], relu, a["dZ"], a["db"])
            backward_update_forward(a["dZ"], a["X"], a["W"], a["dW"],
                                    a["lr"], a["parts"], parallel)
            _forward_finish(a["parts"], a["b"], relu, a["Znext"],
                            a["Anext"])
        return one_pass
    args = (a["dA"], a["Z"], a["Z"], a["X"], a["W"], relu, False, a["dZ"],
            a["dW"], a["db"], a["dZ"], False)
    forward = forward_parallel if parallel else forward_serial

    def layer_kernels():
        if parallel:
            backward_parallel(*args, threads, False)
        else:
            backward_serial(*args, False)
        update_into(a["W"], a["dW"], a["lr"], a["W"])
        forward(a["W"], a["XT"], a["b"], relu, a["Znext"], a["Anext"], True)
    return layer_kernels


@pytest.mark.skipif(not NATIVE_GEMM,
                    reason="the one pass runs only with fastdnn's GEMM")
@pytest.mark.parametrize(
    "shape,dtype,side", CASES,
    ids=["%s-%s-%s" % (c[0][0], c[1], c[2]) for c in CASES])
def test_first_layer_pass(benchmark, shape, dtype, side):
    name, n, K, m = shape
    results = []
    for s in ("layer-kernels", "one-pass"):
        a = _arrays(n, K, m, dtype)
        _call(s, a)()
        results.append((a["dW"], a["W"], a["Anext"]))
    (dW0, W0, A0), (dW1, W1, A1) = results
    np.testing.assert_array_equal(dW1, dW0)
    np.testing.assert_array_equal(W1, W0)
    rtol = 2e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(A1, A0, rtol=0,
                               atol=rtol * np.max(np.abs(A0)))
    benchmark.group = "primal-first-layer|%s|%s" % (name, dtype)
    benchmark(_call(side, _arrays(n, K, m, dtype)))
