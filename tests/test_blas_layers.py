"""The BLAS layer kernels (:mod:`fastdnn._kernels_blas`): the hand-written
kernels' numbers to rounding for every activation, both dtypes and both
layouts of A_prev, at odd shapes; the same bits whatever the BLAS's thread
count; and which layers go to BLAS."""
import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import fastdnn
from fastdnn._kernels import (ACT_ALL, ACT_RELU, backward_serial, forward,
                              forward_serial)
from fastdnn._kernels_blas import (BLAS_LONG_BATCH, BLAS_MIN_ROWS,
                                   BLAS_MIN_ROWS_LONG,
                                   ELEMENTWISE_PARALLEL_MIN,
                                   GEMM_MAX_INPUTS_NARROW,
                                   GEMM_MIN_ROWS_C_ORDER,
                                   GEMM_MIN_INPUTS_SMALL,
                                   GEMM_MIN_ROWS_NARROW,
                                   GEMM_MIN_WORK_NARROW,
                                   GEMM_MIN_WORK_SMALL, backward_blas,
                                   backward_blas_unchecked,
                                   NATIVE_GEMM, forward_blas,
                                   gemm_takes_c_ordered, network_uses_blas,
                                   network_uses_gemm, use_blas)
from fastdnn._kernels_elementwise import ACT_FORWARD_COST
from thread_counts import numba_threads

#: Odd sizes: no dimension a multiple of a SIMD width or a GEMM block.
N, K, M = 37, 53, 29

# The GEMM kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()


def _inputs(dtype, transposed, seed=0, m=M):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((N, K)).astype(dtype)
    A = rng.standard_normal((m, K) if transposed else (K, m)).astype(dtype)
    b = rng.standard_normal((N, 1)).astype(dtype)
    dA = rng.standard_normal((N, m)).astype(dtype)
    return W, A, b, dA


def _run(forward, backward, act, dtype, transposed, m=M):
    W, A, b, dA = _inputs(dtype, transposed, m=m)
    Z, Aout = np.empty((N, m), dtype), np.empty((N, m), dtype)
    forward(W, A, b, act, Z, Aout, transposed)
    dZ, dW = np.empty((N, m), dtype), np.empty((N, K), dtype)
    db, dA_prev = np.empty((N, 1), dtype), np.empty((K, m), dtype)
    finite, _ = backward(dA, Z, Aout, A, W, act, True, dZ, dW, db, dA_prev,
                         transposed)
    return bool(finite), (Z, Aout, dZ, dW, db, dA_prev)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ACT_ALL)
def test_blas_kernels_give_the_hand_written_numbers(act, dtype, transposed,
                                                    threads):
    finite_h, hand = _run(forward_serial, backward_serial, act, dtype,
                          transposed)
    finite_b, blas = _run(
        lambda *args: forward_blas(*args, threads),
        lambda *args: backward_blas(*args, threads), act, dtype, transposed)
    assert finite_h and finite_b
    # Sums of K or M terms in another order: a few ulps of the largest
    # term's size.
    tol = 50 * np.finfo(dtype).eps
    for name, h, b in zip(("Z", "A", "dZ", "dW", "db", "dA_prev"), hand,
                          blas):
        scale = max(1.0, float(np.max(np.abs(h))))
        np.testing.assert_allclose(b, h, rtol=0, atol=tol * scale * K,
                                   err_msg=name)


#: Examples enough for the element-wise passes of an N-row layer to be
#: dealt out to threads, for every activation (and odd).
M_SPLIT = ELEMENTWISE_PARALLEL_MIN // N + 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ACT_ALL)
def test_split_element_wise_passes_keep_the_bits(act, dtype):
    # Above ELEMENTWISE_PARALLEL_MIN the bias, activation and their
    # gradients run on blocks of rows, one per thread: the same bits as on
    # one thread, and the hand-written kernels' numbers to rounding.
    assert N * M_SPLIT >= ELEMENTWISE_PARALLEL_MIN and M_SPLIT % 2
    runs = [_run(lambda *args: forward_blas(*args, threads),
                 lambda *args: backward_blas(*args, threads), act, dtype,
                 False, m=M_SPLIT)
            for threads in (1, 2, 3)]
    _, hand = _run(forward_serial, backward_serial, act, dtype, False,
                   m=M_SPLIT)
    tol = 50 * np.finfo(dtype).eps
    for name, *values in zip(("Z", "A", "dZ", "dW", "db", "dA_prev"), hand,
                             *(r[1] for r in runs)):
        h, one, *others = values
        for other in others:
            np.testing.assert_array_equal(other, one, err_msg=name)
        scale = max(1.0, float(np.max(np.abs(h))))
        np.testing.assert_allclose(one, h, rtol=0, atol=tol * scale * K,
                                   err_msg=name)


def test_every_activation_has_a_forward_cost():
    assert len(ACT_FORWARD_COST) == len(ACT_ALL)
    assert all(cost >= 1 for cost in ACT_FORWARD_COST)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_loops_backward_computes_the_same_bits(dtype, transposed):
    # The training loops' backward_blas_unchecked (no check of dW) writes
    # what backward_blas writes.
    def unchecked(*args):
        backward_blas_unchecked(*args, 2)
        return True, 0
    _, checked = _run(lambda *args: forward_blas(*args, 2),
                      lambda *args: backward_blas(*args, 2), ACT_ALL[1],
                      dtype, transposed)
    _, loops = _run(lambda *args: forward_blas(*args, 2), unchecked,
                    ACT_ALL[1], dtype, transposed)
    for a, b in zip(checked, loops):
        np.testing.assert_array_equal(a, b)


def test_non_finite_dW_is_reported():
    W, A, b, dA = _inputs("float64", False)
    dA[3, 4] = np.inf
    Z = np.ones((N, M))
    dZ, dW = np.empty((N, M)), np.empty((N, K))
    finite, _ = backward_blas(dA, Z, Z, A, W, 0, False, dZ, dW,
                              np.empty((N, 1)), dZ, False, 1)
    assert not finite


def test_the_bits_do_not_depend_on_the_thread_count():
    # A training run whose wide layers go to a GEMM (fastdnn's or BLAS's):
    # the same parameters to the bit on one thread (BLAS's and numba's)
    # and on all of them.
    rng = np.random.RandomState(0)
    X = rng.rand(100, 300)
    y = rng.randint(0, 3, (1, 300))
    dims = [100, 64, 48, 3]
    assert use_blas(64, 100, 50) and use_blas(48, 64, 50)
    assert network_uses_blas(dims, 50) == (not NATIVE_GEMM)
    kw = dict(learning_rate=0.05, num_iterations=3, output="softmax",
              optimizer="adam", mini_batch_size=50)
    runs = []
    for threads in (1, None):
        with numba_threads(threads), threadpool_limits(limits=threads,
                                                       user_api="blas"):
            runs.append(fastdnn.L_layer_model(X, y, dims, **kw)[0])
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key])


def test_which_layers_go_to_blas():
    # The MNIST shape's hidden layers do, and so do both digits layers
    # (the 10-class output over 1797 examples); the cat's 20-row first
    # layer, a 4-row layer and BLAS's rule for the tiny network keep the
    # hand-written kernels.
    assert use_blas(256, 784, 128) and use_blas(128, 256, 32)
    assert use_blas(64, 64, 1797) and use_blas(10, 64, 1797)
    assert use_blas(BLAS_MIN_ROWS_LONG, 64, BLAS_LONG_BATCH)
    assert not use_blas(BLAS_MIN_ROWS_LONG - 1, 64, BLAS_LONG_BATCH)
    assert not use_blas(BLAS_MIN_ROWS_LONG, 64, BLAS_LONG_BATCH - 1)
    assert not use_blas(4, 64, 1797)
    assert not use_blas(20, 12288, 209)
    assert use_blas(16, 16, 32) == NATIVE_GEMM
    assert not use_blas(BLAS_MIN_ROWS, 4, 4)
    assert not network_uses_blas([12288, 20, 7, 5, 1], 209)
    assert not network_uses_gemm([12288, 20, 7, 5, 1], 209)
    # Narrow layers over few inputs (the MNIST shape's 10-class output
    # layer over 128 hidden units, at batches of 32 and 128) go to
    # fastdnn's own GEMM only, from GEMM_MIN_ROWS_NARROW outputs and
    # GEMM_MIN_WORK_NARROW multiply-adds, up to GEMM_MAX_INPUTS_NARROW
    # inputs; BLAS proper keeps the hand-written kernels' rule.
    narrow = GEMM_MIN_ROWS_NARROW
    for m in (32, 128):
        assert use_blas(narrow, 128, m) == NATIVE_GEMM
    assert not use_blas(narrow - 1, 128, 32)
    assert use_blas(narrow, GEMM_MAX_INPUTS_NARROW, 32) == NATIVE_GEMM
    assert not use_blas(narrow, GEMM_MAX_INPUTS_NARROW + 1, 4)
    k = -(-GEMM_MIN_WORK_NARROW // (narrow * 32))  # the fewest inputs
    assert use_blas(narrow, k, 32) == NATIVE_GEMM
    assert use_blas(narrow, GEMM_MIN_INPUTS_SMALL - 1, 256) == NATIVE_GEMM
    assert not use_blas(narrow, GEMM_MIN_INPUTS_SMALL - 1, 32)
    # Smaller layers from GEMM_MIN_INPUTS_SMALL inputs and
    # GEMM_MIN_WORK_SMALL multiply-adds (the 16-16-16-10 network).
    small = GEMM_MIN_INPUTS_SMALL
    m = -(-GEMM_MIN_WORK_SMALL // (narrow * small))  # the fewest examples
    assert use_blas(narrow, small, m) == NATIVE_GEMM
    assert not use_blas(narrow, small, m - 1)
    assert not use_blas(narrow - 1, small, 32)
    # On BLAS proper only where fastdnn's GEMM does not take the layers.
    assert network_uses_blas([784, 256, 10], 128) == (not NATIVE_GEMM)


def test_long_sums_over_a_c_ordered_a_prev_take_the_gemm():
    # The forward pass (the layer kernels', and the training loops' over
    # hidden activations: forward_on_gemm): a C-ordered A_prev of more than
    # GEMM_MAX_INPUTS_NARROW inputs (the cat's images in C order) goes to
    # fastdnn's GEMM from GEMM_MIN_ROWS_C_ORDER outputs; the course's
    # Fortran-ordered X keeps the fused kernels (use_blas decides).
    rows = GEMM_MIN_ROWS_C_ORDER
    assert gemm_takes_c_ordered(20, 12288) == NATIVE_GEMM
    assert gemm_takes_c_ordered(rows, GEMM_MAX_INPUTS_NARROW + 1) == (
        NATIVE_GEMM)
    assert not gemm_takes_c_ordered(rows - 1, 12288)
    assert not gemm_takes_c_ordered(20, GEMM_MAX_INPUTS_NARROW)
    # At every batch size (the rule does not read it), so that a column's
    # value does not depend on the examples that come with it: the public
    # pass over 1 and over 1000 examples takes the GEMM alike.
    for m in (1, 1000):
        W = np.ones((rows, 12288))
        A = np.ones((12288, m))
        Z, Aout = np.empty((rows, m)), np.empty((rows, m))
        forward(W, A, np.zeros((rows, 1)), ACT_RELU, Z, Aout, False)
        Zg, Ag = np.empty((rows, m)), np.empty((rows, m))
        if NATIVE_GEMM:
            forward_blas(W, A, np.zeros((rows, 1)), ACT_RELU, Zg, Ag, False,
                         1)
        else:
            forward_serial(W, A, np.zeros((rows, 1)), ACT_RELU, Zg, Ag,
                           False)
        np.testing.assert_array_equal(Z, Zg)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed", [False, True])
def test_the_public_forward_pass_runs_where_the_rule_says(dtype, transposed):
    rng = np.random.default_rng(7)
    n, n_prev, m = 20, 2 * GEMM_MAX_INPUTS_NARROW + 3, 37
    W = (rng.standard_normal((n, n_prev)) / 40).astype(dtype)
    A = rng.random((m, n_prev) if transposed else (n_prev, m)).astype(dtype)
    b = rng.standard_normal((n, 1)).astype(dtype)
    got = [np.empty((n, m), dtype) for _ in range(2)]
    want = [np.empty((n, m), dtype) for _ in range(2)]
    forward(W, A, b, ACT_RELU, *got, transposed)
    on_gemm = not transposed and gemm_takes_c_ordered(n, n_prev)
    assert on_gemm == (NATIVE_GEMM and not transposed)
    if on_gemm:
        forward_blas(W, A, b, ACT_RELU, *want, transposed,
                     numba.get_num_threads())
    else:
        forward_serial(W, A, b, ACT_RELU, *want, transposed)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    A64 = (A.T if transposed else A).astype(np.float64)
    exact = W.astype(np.float64) @ A64 + b
    scale = np.abs(W).astype(np.float64) @ np.abs(A64) + np.abs(b)
    tol = 4 * np.finfo(dtype).eps * n_prev * scale
    assert np.all(np.abs(got[0] - exact) <= tol)
    np.testing.assert_array_equal(got[1], np.maximum(got[0], 0))
