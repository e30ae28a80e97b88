"""The numba backend on its own: its API mirrors the reference's, dtypes,
thread-count independence, the training driver, and a subset that also runs
with NUMBA_DISABLE_JIT=1 (numba's settings and the warm-up:
test_numba_settings.py)."""
import inspect
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

import fastdnn
from fastdnn import _kernels as K
from fastdnn import _numba_config, jit, reference
from fastdnn._kernels_backward import DOT_MIN_EXAMPLES
from fastdnn._kernels_blas import backward_blas, use_blas
from fastdnn._kernels_gemm import NATIVE_GEMM, product_task
from fastdnn._kernels_gemm_split import KIND_DOT
from fastdnn.registry import OPERATIONS, REGISTRY, SMALL, Shape, make_inputs
from thread_counts import numba_threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINING = ("two_layer_model", "L_layer_model")


def _public_functions(module):
    return {name for name, f in vars(module).items()
            if inspect.isfunction(f) and not name.startswith("_")}


# ------------------------------------------------ the API mirrors reference

@pytest.mark.nojit
def test_same_public_functions_and_signatures():
    assert jit.__all__ == reference.__all__
    assert _public_functions(jit) == _public_functions(reference) == set(
        reference.__all__)
    for name in reference.__all__:
        ref = inspect.signature(getattr(reference, name))
        got = inspect.signature(getattr(jit, name))
        if name in TRAINING:
            extra = list(got.parameters.values())[len(ref.parameters):]
            assert [(p.name, p.kind, p.default) for p in extra] == [
                ("solver", inspect.Parameter.KEYWORD_ONLY, "auto"),
                ("dtype", inspect.Parameter.KEYWORD_ONLY, None)]
            assert "callback" in ref.parameters
            got = got.replace(parameters=list(got.parameters.values())[
                :len(ref.parameters)])
        assert got == ref, name


@pytest.mark.nojit
def test_top_level_is_jit_and_backends_by_name():
    assert fastdnn.DEFAULT_BACKEND == "numba"
    for name in reference.__all__:
        assert getattr(fastdnn, name) is getattr(jit, name)
    assert fastdnn.get_backend("numba") is jit
    assert fastdnn.get_backend("numpy") is reference
    with pytest.raises(ValueError, match="'numba'.*'numpy'|'numpy'.*'numba'"):
        fastdnn.get_backend("cuda")


# ------------------------------------------------ dtypes

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(REGISTRY))
def test_float_dtype_is_kept_everywhere(op, dtype):
    out = REGISTRY[op]["numba"](*make_inputs(op, SMALL, dtype, 1))

    def arrays(x):
        if isinstance(x, dict):
            x = list(x.values())
        if isinstance(x, (tuple, list)):
            return [a for v in x for a in arrays(v)]
        return [x] if isinstance(x, np.ndarray) else []

    found = arrays(out)
    assert found
    network = OPERATIONS[op]
    for a in found:
        if network.function == "predict" and network.output == "sigmoid":
            assert a.dtype == np.float64  # 0.0/1.0 labels, as the reference
        elif network.function == "predict" and network.output == "softmax":
            assert a.dtype == np.int64  # class indices, as the reference
        else:
            assert a.dtype == dtype, op
    if network.function == "compute_cost":
        assert out.shape == () and out.dtype == dtype


@pytest.mark.nojit
def test_other_numeric_inputs_are_converted_once():
    X = (np.arange(12).reshape(3, 4) % 5).astype(np.uint8)
    parameters = reference.initialize_parameters_deep([3, 2, 1])
    for backend in (jit, reference):
        AL, caches = backend.L_model_forward(X, parameters)
        assert AL.dtype == np.float64
    np.testing.assert_allclose(jit.L_model_forward(X, parameters)[0],
                               reference.L_model_forward(X, parameters)[0],
                               rtol=1e-13)
    Y = np.array([[True, False, True]])
    AL = np.array([[.2, .4, .9]], dtype=np.float32)
    assert jit.compute_cost(AL, Y).dtype == np.float32
    # int labels with float32 X: float32 training, like the reference
    Xf = np.random.RandomState(0).rand(3, 6).astype(np.float32)
    Yi = np.array([[0, 1, 1, 0, 1, 0]])
    p, costs = jit.L_layer_model(Xf, Yi, [3, 2, 1], 0.1, 3)
    assert all(P.dtype == np.float32 for P in p.values())


def test_training_dtype_keyword():
    X, Y, dims, lr, n = make_inputs("L_layer_model", SMALL, "float64", 2)
    p32, c32 = jit.L_layer_model(X, Y, dims, lr, 201, dtype="float32")
    assert all(P.dtype == np.float32 for P in p32.values())
    p_ref, c_ref = reference.L_layer_model(X.astype(np.float32), Y, dims, lr,
                                           201)
    np.testing.assert_allclose(c32, c_ref, rtol=1e-5)
    # The costs are in the training dtype, as the reference's are.
    f32 = np.dtype(np.float32)
    assert {(c.shape, c.dtype) for c in c32 + c_ref} == {((), f32)}
    p64, _ = jit.L_layer_model(X.astype(np.float32), Y, dims, lr, 2,
                               dtype=np.float64)
    assert all(P.dtype == np.float64 for P in p64.values())
    with pytest.raises(ValueError, match="float32"):
        jit.L_layer_model(X, Y, dims, lr, 2, dtype="float16")


# ------------------------------------------------ threads

def _big_layer(dtype):
    # Big enough for the parallel kernels (>= PARALLEL_MIN_WORK multiply-
    # adds), with sizes that are not multiples of the blocks, on the
    # hand-written kernels (more than GEMM_MAX_INPUTS_NARROW inputs).
    return make_inputs("linear_activation_backward[relu]",
                       Shape((1043, 21, 1), 203), dtype, 11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parallel_and_serial_kernels_agree_bit_for_bit(dtype):
    dA, ((A_prev, W, b), Z) = _big_layer(dtype)
    assert W.size * A_prev.shape[1] >= _numba_config.PARALLEL_MIN_WORK
    outs = []
    # The parallel backward kernel in 1, 2, 3 and 5 runs of blocks (one per
    # thread; each block prefetches the next of its run).
    for fwd, bwd, extra in (
            (K.forward_serial, K.backward_serial, ()),
            *((K.forward_parallel, K.backward_parallel, (nthreads,))
              for nthreads in (1, 2, 3, 5))):
        Zo, Ao = np.empty_like(Z), np.empty_like(Z)
        fwd(W, A_prev, b, K.ACT_RELU, Zo, Ao, False)
        dZ, dW = np.empty_like(dA), np.empty_like(W)
        db, dAp = np.empty_like(b), np.empty_like(A_prev)
        bwd(dA, Z, Ao, A_prev, W, K.ACT_RELU, True, dZ, dW, db, dAp, False,
            *extra)
        outs.append((Zo, Ao, dZ, dW, db, dAp))
    for out in outs[1:]:
        for s, p in zip(outs[0], out):
            np.testing.assert_array_equal(s, p)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("n, n_prev, m", [
    (1, 3000, 1), (5, 2049, 4), (9, 4100, 7), (3, 8200, 130),
    (20, 5000, 11), (7, 12288, 33)])
def test_forward_chunks_on_threads_are_forward_serial_bit_for_bit(
        dtype, transposed, n, n_prev, m):
    # forward_parallel runs the 2 to 4 chunks of the summed axis on
    # threads, in either layout of A_prev (one output over one example
    # included).
    rng = np.random.RandomState(n + m)
    W = rng.standard_normal((n, n_prev)).astype(dtype)
    A = rng.standard_normal((m, n_prev) if transposed else (n_prev, m))
    A = A.astype(dtype)
    b = rng.standard_normal((n, 1)).astype(dtype)
    outs = []
    for kernel in (K.forward_serial, K.forward_parallel):
        Z, Aout = np.empty((n, m), dtype), np.empty((n, m), dtype)
        kernel(W, A, b, K.ACT_TANH, Z, Aout, transposed)
        outs.append((Z, Aout))
    for s, p in zip(*outs):
        np.testing.assert_array_equal(p, s)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, n_prev, m", [
    (1, 1, 1), (3, 2, 2), (4, 7, 3), (5, 2049, 4), (9, 4100, 7),
    (20, 5000, 11)])
def test_transposed_forward_kernel_against_numpy(dtype, n, n_prev, m):
    # Every remainder of the 4x3 blocks (rows, columns), the slab and the
    # chunk boundaries of the n_{l-1} axis; serial and parallel agree bit
    # for bit, and a Fortran-ordered A_prev reaches this kernel through the
    # public function.
    rng = np.random.RandomState(n * 1000 + m)
    W = rng.standard_normal((n, n_prev)).astype(dtype)
    A_prev = np.asfortranarray(rng.standard_normal((n_prev, m))).astype(
        dtype, order="F")
    b = rng.standard_normal((n, 1)).astype(dtype)
    want = W.astype(np.float64) @ A_prev.astype(np.float64) + b
    scale = np.abs(W).astype(np.float64) @ np.abs(A_prev) + np.abs(b)
    tol = 8 * np.finfo(dtype).eps * np.sqrt(n_prev)
    outs = []
    for kernel in (K.forward_serial, K.forward_parallel):
        Z, A = np.empty((n, m), dtype), np.empty((n, m), dtype)
        kernel(W, A_prev.T, b, K.ACT_RELU, Z, A, True)
        assert np.all(np.abs(Z - want) <= tol * scale)
        np.testing.assert_array_equal(A, np.maximum(Z, 0))
        outs.append((Z, A))
    for s, p in zip(*outs):
        np.testing.assert_array_equal(s, p)
    A, ((cached, _, _), Z) = jit.linear_activation_forward(A_prev, W, b,
                                                           "relu")
    assert cached is A_prev or np.shares_memory(cached, A_prev)
    np.testing.assert_array_equal(Z, outs[0][0])


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("where", ["A_prev", "W"])
@pytest.mark.parametrize("column, bad", [(0, np.nan), (130, np.inf),
                                         (299, -np.inf), (None, None)])
def test_backward_kernels_report_whether_W_and_dW_are_finite(
        transposed, where, column, bad):
    # The flag the layer functions check instead of passes over W and dW: a
    # NaN or inf anywhere in A_prev (first, middle or last row block)
    # reaches dW, one in W (first, middle or last column block) is found by
    # the kernel's sweep of W, with or without dA_prev; serial, parallel
    # and BLAS kernels, both layouts. Without one, finite.
    rng = np.random.RandomState(5)
    n, n_prev, m = 5, 300, 7
    W = rng.standard_normal((n, n_prev))
    A = rng.standard_normal((n_prev, m))
    if column is not None:
        if where == "A_prev":
            A[column, 3] = bad
        else:
            W[n - 1, column] = bad
    dA = rng.standard_normal((n, m))
    Z = np.abs(rng.standard_normal((n, m)))  # relu mask keeps all of dA
    operand = np.ascontiguousarray(A.T) if transposed else A
    for kernel, extra in ((K.backward_serial, ()),
                          (K.backward_parallel, (2,)),
                          (backward_blas, (2,))):
        for need_dA_prev in (False, True):
            dZ, dW = np.empty_like(dA), np.empty_like(W)
            dA_prev = np.empty((n_prev, m) if need_dA_prev else (1, 1))
            finite, _ = kernel(dA, Z, Z, operand, W, K.ACT_RELU,
                               need_dA_prev, dZ, dW, np.empty((n, 1)),
                               dA_prev, transposed, *extra)
            assert finite == (column is None)
            assert finite == (np.isfinite(dW).all()
                              and np.isfinite(W).all())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, n_prev, m", [
    (1, 1, 1), (3, 2, 9), (5, 65, 7), (20, 1000, 17), (9, 4100, 203),
    (6, 70, DOT_MIN_EXAMPLES - 1), (21, 130, DOT_MIN_EXAMPLES)])
def test_transposed_backward_equals_the_c_ordered_one(dtype, n, n_prev, m):
    # A Fortran-ordered A_prev (the course's X) is read through its
    # transpose, packed block by block: every remainder of the 64-row blocks,
    # the 8-row packing and the 2x4 dot blocks, on both sides of
    # DOT_MIN_EXAMPLES; serial and parallel kernels; dW, db and dA_prev
    # equal those of a C-ordered copy bit for bit, and match numpy.
    rng = np.random.RandomState(n * 1000 + m)
    W = rng.standard_normal((n, n_prev)).astype(dtype)
    b = rng.standard_normal((n, 1)).astype(dtype)
    F = np.asfortranarray(rng.standard_normal((n_prev, m)).astype(dtype))
    C = np.ascontiguousarray(F)
    Z = (W @ C + b).astype(dtype)
    dA = rng.standard_normal((n, m)).astype(dtype)
    outs = []
    for A_prev in (C, F):
        outs.append(jit.linear_activation_backward(dA, ((A_prev, W, b), Z),
                                                   "relu"))
    for transposed in (False, True):
        A = F.T if transposed else C
        for kernel, extra in ((K.backward_serial, ()),
                              (K.backward_parallel, (2,)),
                              (K.backward_parallel, (3,))):
            dZ, dW = np.empty_like(dA), np.empty_like(W)
            db, dAp = np.empty_like(b), np.empty_like(C)
            kernel(dA, Z, Z, A, W, K.ACT_RELU, True, dZ, dW, db, dAp,
                   transposed, *extra)
            outs.append((dAp, dW, db))
    # Both layouts give the public function the same bits, and every
    # kernel call the same bits; the public function equals the kernels
    # where it takes them (a narrow layer over few inputs goes to
    # fastdnn's GEMM instead, see use_blas, whose sums run in another
    # order).
    public, kernels = outs[:2], outs[2:]
    pairs = [(public[1], public[0])]
    pairs += [(out, kernels[0]) for out in kernels[1:]]
    if not use_blas(n, n_prev, m):
        pairs.append((kernels[0], public[0]))
    for out, want in pairs:
        for got, expected in zip(out, want):
            np.testing.assert_array_equal(got, expected)
    assert outs[1][0].flags.c_contiguous
    ref = reference.linear_activation_backward(dA, ((F, W, b), Z), "relu")
    tol = 8 * np.finfo(dtype).eps * np.sqrt(m)
    for out in (outs[1], outs[2]):
        for got, want in zip(out, ref):
            scale = np.max(np.abs(want)) + 1
            assert np.max(np.abs(got - want)) <= tol * scale


@pytest.mark.skipif(not NATIVE_GEMM, reason="no native GEMM on this host")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, n_prev, m", [
    (20, 131, DOT_MIN_EXAMPLES), (7, 70, 209), (1, 5, 300)])
def test_backward_dW_over_many_examples_is_the_dot_tiles_product(
        dtype, n, n_prev, m):
    # From DOT_MIN_EXAMPLES on, the backward kernels' dW is the GEMM's
    # dot-product tile scaled by 1/m, bit for bit, in both layouts and on
    # any thread count.
    rng = np.random.RandomState(m)
    W = rng.standard_normal((n, n_prev)).astype(dtype)
    A = rng.standard_normal((n_prev, m)).astype(dtype)
    dA = rng.standard_normal((n, m)).astype(dtype)
    Z = np.abs(rng.standard_normal((n, m))).astype(dtype)
    want = np.empty((n, n_prev), dtype)
    # The dot-product tiles' one task, A's rows read where they are.
    product_task(dA, A.T, want, dtype(1.0 / m), KIND_DOT, 1, False,
                 np.empty((0, 0), dtype), 0)
    for transposed in (False, True):
        operand = np.ascontiguousarray(A.T) if transposed else A
        for kernel, extra in ((K.backward_serial, ()),
                              (K.backward_parallel, (2,))):
            dZ, dW = np.empty_like(dA), np.full_like(W, np.nan)
            kernel(dA, Z, Z, operand, W, K.ACT_RELU, False, dZ, dW,
                   np.empty((n, 1), dtype), np.empty((1, 1), dtype),
                   transposed, *extra)
            np.testing.assert_array_equal(dW, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_column_does_not_depend_on_its_block(dtype):
    # The forward kernels' column blocks depend on m; each column's value
    # must not (else the blocks' bounds would leak into the results): the
    # public pass (on fastdnn's GEMM where the host has it: a C-ordered
    # A_prev over more than GEMM_MAX_INPUTS_NARROW inputs) and the
    # hand-written kernels alike.
    _, ((A_prev, W, b), _) = _big_layer(dtype)

    def hand(A):
        Z, Aout = (np.empty((W.shape[0], A.shape[1]), dtype) for _ in "ZA")
        K.forward_parallel(W, np.ascontiguousarray(A), b, K.ACT_NONE, Z,
                           Aout, False)
        return Z

    for forward in (lambda A: jit.linear_forward(A, W, b)[0], hand):
        full = forward(A_prev)
        for m in (1, 7, 64, 100, 150):
            np.testing.assert_array_equal(forward(A_prev[:, :m]),
                                          full[:, :m])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                    reason="numba has a single thread")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_do_not_depend_on_the_thread_count(dtype):
    dA, ((A_prev, W, b), Z) = _big_layer(dtype)
    X, Y, dims, lr, _ = make_inputs("L_layer_model",
                                    Shape((643, 21, 4, 1), 203), dtype, 3)
    results = []
    for threads in (1, 2):
        with numba_threads(threads):
            results.append((
                jit.linear_activation_forward(A_prev, W, b, "relu"),
                jit.linear_activation_backward(dA, ((A_prev, W, b), Z),
                                               "relu"),
                jit.L_layer_model(X, Y, dims, lr, 5, solver="primal")))

    def flat(x):
        if isinstance(x, dict):
            x = list(x.values())
        if isinstance(x, (tuple, list)):
            return [a for v in x for a in flat(v)]
        return [x]

    for one, two in zip(flat(results[0]), flat(results[1])):
        np.testing.assert_array_equal(one, two)


# ------------------------------------------------ training driver

def test_solver_keyword():
    X, Y, dims, lr, n = make_inputs("L_layer_model", SMALL, "float64", 4)
    with pytest.raises(ValueError, match="'auto', 'primal', 'gram'"):
        jit.L_layer_model(X, Y, dims, lr, n, solver="newton")
    p, c = jit.L_layer_model(X, Y, dims, lr, n, solver="primal")
    p_auto, c_auto = jit.L_layer_model(X, Y, dims, lr, n)
    np.testing.assert_allclose(c_auto, c, rtol=1e-12)
    try:
        import fastdnn._gram  # noqa: F401
    except ImportError:
        with pytest.raises((ValueError, NotImplementedError), match="gram"):
            jit.L_layer_model(X, Y, dims, lr, n, solver="gram")


@pytest.mark.nojit
@pytest.mark.parametrize("model", TRAINING)
def test_training_prints_and_calls_back_live(capsys, model):
    rng = np.random.RandomState(2)
    X = rng.rand(6, 30)
    Y = (X.sum(axis=0, keepdims=True) > 3).astype(int)
    dims = (6, 4, 1) if model == "two_layer_model" else [6, 4, 3, 1]
    out = {}
    for name, B in (("numpy", reference), ("numba", jit)):
        calls = []

        def callback(i, c):
            # Printed before the callback, and before the next chunk runs.
            calls.append((i, c, capsys.readouterr().out))

        params, costs = getattr(B, model)(X, Y, dims, 0.05, 250,
                                          print_cost=True, callback=callback)
        out[name] = (params, costs, calls)
    pj, cj, callj = out["numba"]
    pr, cr, callr = out["numpy"]
    assert [i for i, _, _ in callj] == [0, 100, 200, 249]
    # Each line is printed before its callback runs, chunk by chunk.
    printed = [o for _, _, o in callj]
    assert [o.split(":")[0] for o in printed] == [
        o.split(":")[0] for _, _, o in callr]
    assert [float(o.split(":")[1]) for o in printed] == [
        c for _, c, _ in callj]
    assert callj[0][2].startswith("Cost after iteration 0: ")
    assert len(cj) == len(cr) == 3
    # Recorded as the reference records them (0-d arrays), called back as
    # floats.
    assert all(type(c) is np.ndarray and c.shape == () and
               c.dtype == np.float64 for c in cj)
    assert all(type(c) is float for _, c, _ in callj)
    np.testing.assert_allclose(cj, cr, rtol=1e-12)
    np.testing.assert_allclose([c for _, c, _ in callj],
                               [c for _, c, _ in callr], rtol=1e-12)
    assert list(pj) == list(pr)


@pytest.mark.parametrize("n", [0, 1, 2, 100, 101, 199, 201])
def test_recording_points_match_the_reference(n):
    X, Y, dims, lr, _ = make_inputs("L_layer_model", SMALL, "float64", 6)
    seen = {}
    for name, B in (("numpy", reference), ("numba", jit)):
        calls = []
        p, costs = B.L_layer_model(X, Y, dims, lr, n,
                                   callback=lambda i, c: calls.append(i))
        seen[name] = (calls, len(costs))
    assert seen["numba"] == seen["numpy"]


@pytest.mark.parametrize("B", [reference, jit], ids=["numpy", "numba"])
def test_divergence_is_reported_at_the_same_iteration(B):
    rng = np.random.RandomState(0)
    X = rng.rand(5, 20) * 1e3
    Y = (rng.rand(1, 20) > 0.5).astype(float)
    # weights that overflow to a NaN cost (a saturated output alone is no
    # divergence)
    with pytest.raises(FloatingPointError) as info:
        B.L_layer_model(X, Y, [5, 4, 1], learning_rate=1e200,
                        num_iterations=200)
    with pytest.raises(FloatingPointError) as ref_info:
        reference.L_layer_model(X, Y, [5, 4, 1], learning_rate=1e200,
                                num_iterations=200)
    assert str(info.value) == str(ref_info.value)


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("dtype", ["float64"])
def test_primal_solver_reproduces_the_seed_table(cat_data, dtype):
    from seed_values import COSTS_4_LAYER
    train_x, train_y, test_x, test_y, _ = cat_data
    parameters, costs = jit.L_layer_model(
        train_x, train_y, [12288, 20, 7, 5, 1], 0.0075, 2500,
        solver="primal", dtype=dtype)
    np.testing.assert_allclose(costs, COSTS_4_LAYER, rtol=1e-9)
    for x, y, acc in ((train_x, train_y, 0.9856459330143541),
                      (test_x, test_y, 0.8)):
        p = jit.predict(x, y, parameters, print_accuracy=False)
        assert np.sum(p == y) / y.shape[1] == acc


# ------------------------------------------------ without the jit

@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1",
                    reason="already without the jit")
def test_nojit_subset_passes_without_numba_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=ROOT + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "nojit",
         "-p", "no:cacheprovider", "tests/test_jit.py"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert " passed" in r.stdout


@pytest.mark.nojit
@pytest.mark.parametrize("kw", [dict(), dict(optimizer="momentum",
                                             mini_batch_size=64)],
                         ids=["primal", "momentum-minibatch"])
def test_wide_layers_train_without_compilation(kw):
    # A first layer of 64 outputs goes to a GEMM (fastdnn's own, or BLAS's,
    # which is what NUMBA_DISABLE_JIT=1 runs as plain Python).
    from fastdnn._kernels_blas import network_uses_gemm
    rng = np.random.RandomState(1)
    X = rng.standard_normal((64, 230))
    Y = (rng.random_sample((1, 230)) > 0.5).astype(float)
    dims = [64, 64, 16, 1]
    assert network_uses_gemm(dims, 64)
    _, costs = jit.L_layer_model(X, Y, dims, 0.05, 3, **kw)
    _, want = reference.L_layer_model(X, Y, dims, 0.05, 3, **kw)
    np.testing.assert_allclose(np.ravel(costs), np.ravel(want), rtol=1e-9)


@pytest.mark.nojit
def test_seed_cases_without_compilation():
    # The course's printed values, through the kernels as plain Python
    # when NUMBA_DISABLE_JIT=1 (and compiled otherwise).
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from seed_values import (EXPECTED, case_L_model_backward,
                             case_L_model_forward_2hidden, case_compute_cost,
                             case_update_parameters)
    X, parameters = case_L_model_forward_2hidden()
    AL, _ = jit.L_model_forward(X, parameters)
    np.testing.assert_allclose(AL, EXPECTED["L_model_forward"]["AL"],
                               atol=5e-9)
    AL, Y = case_compute_cost()
    np.testing.assert_allclose(jit.compute_cost(AL, Y),
                               EXPECTED["compute_cost"], rtol=1e-15)
    AL, Y, caches = case_L_model_backward()
    grads = jit.L_model_backward(AL, Y, caches)
    for key, want in EXPECTED["L_model_backward"].items():
        np.testing.assert_allclose(grads[key], want, atol=5e-9)
    parameters, grads = case_update_parameters()
    new = jit.update_parameters(parameters, grads, 0.1)
    np.testing.assert_allclose(new["W1"], EXPECTED["update_parameters"]["W1"],
                               atol=5e-9)
