"""The GEMM's and the parallel regions' inner functions compile once per
dtype, whatever the layouts and the thread counts their callers give.

Two ways a callee compiled again and again, each measured in the MNIST
shape's first mini-batch fit with an empty cache:

- numba types the index of a ``prange`` loop as unsigned, while the
  one-task calls of the same callees pass an int64: a region that handed
  its index on as it is compiled a second copy of the callee and of all it
  calls (18 compilations). The regions pass ``np.int64(q)``.
- A product over a C-ordered operand and one over a transposed view are
  two array types to numba: each layout compiled the whole product again,
  its parallel region included (15 compilations, 10 s). The products take
  their operands as views of any layout (``any_layout``).

The signatures a dispatcher lists are those compiled in its own process,
and a caller loaded from the cache compiles none of its callees: so the
products run in a new process with an empty cache of its own, on two
threads, and the tests read what their inner functions were compiled for.
"""
import textwrap

import pytest

from fastdnn._kernels_gemm import NATIVE_GEMM
from fresh_process import run_json_script

#: (module, callee, the region that hands the callee its task index).
TASK_CALLEES = [
    ("_kernels_backward_update", "_task", "_tasks_parallel"),
    ("_kernels_gemm", "_product_task_code", "_product_tasks_parallel"),
    ("_toolbox_step_kernels", "_chunk", "_update_chunks_parallel"),
    ("_primal_fused_kernels", "_chunk_task", "_chunks_parallel"),
    ("_kernels_forward_chain", "_layer_task", "_chain_parallel"),
]

#: (module, function) compiled once in float64 however the script's
#: products lay their operands out.
ONE_COMPILATION = [
    ("_kernels_gemm", "_product_tasks_parallel"),
    ("_kernels_gemm", "_packed_tiles"),
    ("_kernels_gemm", "_product_task_code"),
    ("_kernels_gemm_pair", "_pair_parallel"),
    ("_kernels_backward_update", "_tasks_parallel"),
    ("_kernels_forward_gemm", "_tasks_parallel"),
    ("_kernels_backward_update", "_task"),
    ("_kernels_forward_chain", "_chain_parallel"),
    ("_kernels_forward_chain", "_layer_task"),
    # The plans: the first layer's index passed as ZERO_INT, the outputs
    # of the layer passes and the update as views of any layout.
    ("_kernels_forward_chain", "layer_plan"),
    ("_kernels_gemm_split", "split_product"),
    ("_kernels_gemm_split", "product_scratch"),
]

#: Run by the script only where fastdnn's GEMM runs (NATIVE_GEMM): on an
#: older CPU a layer's forward pass takes its product from BLAS.
GEMM_ONLY = {("_kernels_forward_gemm", "_tasks_parallel")}

_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np

    import fastdnn
    from fastdnn import (_kernels_backward_two_layers,
                         _kernels_backward_update, _kernels_blas,
                         _kernels_forward_chain, _kernels_gemm,
                         _kernels_gemm_pair, _primal_fused_kernels,
                         _toolbox_step_kernels)
    from fastdnn._kernels_elementwise import ACT_RELU
    from fastdnn._toolbox_step_kernels import (N_CONSTANTS, OPT_BY_NAME,
                                               fill_constants, n_chunks)

    rng = np.random.default_rng(0)

    def normal(*shape):
        return rng.standard_normal(shape)

    # The GEMM's three kinds of product (B read in place by the register
    # tiles, read in place transposed by the dot tile, copied), over
    # C-ordered operands and transposed views.
    products = [(normal(64, 96), normal(96, 80)),
                (normal(96, 64).T, normal(96, 80)),
                (normal(8, 300), normal(200, 300).T),
                (normal(96, 64), normal(80, 64).T),
                (normal(64, 96).T, normal(80, 64).T)]
    for A, B in products:
        _kernels_gemm.matmul_scaled_into(
            A, B, np.empty((A.shape[0], B.shape[1])), 2, 1.0)
    # Two products in one region, in two layouts.
    for (A1, B1), (A2, B2) in ((products[0], products[3]),
                               (products[1], products[4])):
        _kernels_gemm_pair.matmul_pair_scaled_into(
            A1, B1, np.empty((A1.shape[0], B1.shape[1])), 1.0,
            A2, B2, np.empty((A2.shape[0], B2.shape[1])), 1.0, 2)
    # A layer's forward pass in one region (product, bias, activation),
    # over A_prev^T (B a transposed view, copied) and over A_prev.
    W, b = normal(256, 96), normal(256, 1)
    for A, transposed in ((normal(64, 96), True), (normal(96, 64), False)):
        Z = np.empty((256, 64))
        _kernels_blas.forward_blas(W, A, b, ACT_RELU, Z, np.empty_like(Z),
                                   transposed, 2)
    # A batch's gather and its two layers' forward passes in one region,
    # the batch gathered as X^T (read transposed, copied) and as X.
    dims = np.array([96, 256, 128], np.int64)
    mb = 64
    XT, YT = normal(300, 96), normal(300, 128)
    perm = rng.permutation(300).astype(np.int64)
    offsets = np.array([0, 256], np.int64)
    for columns in (False, True):
        Xb, Yb = np.empty(96 * mb), np.empty(128 * mb)
        A0 = Xb.reshape(96, mb) if columns else Xb.reshape(mb, 96)
        _kernels_forward_chain.forward_chain(
            XT, YT, perm, 10, Xb, Yb, columns, 2, A0, not columns,
            normal(256 * 96 + 128 * 256), np.array([0, 256 * 96], np.int64),
            normal(384), offsets, np.empty(384 * mb), np.empty(384 * mb),
            offsets, dims, np.array([ACT_RELU, ACT_RELU], np.int64), mb,
            None, 2)
    # The first layer's backward pass with the optimizer step, B given as
    # X^T and as X.
    n_1, n_x, m = 256, 784, 32
    X = normal(n_x, m)
    n = n_1 * n_x + 100
    P, G, V, S = normal(n), normal(n), normal(n), np.abs(normal(n))
    hp = np.zeros(N_CONSTANTS)
    fill_constants(hp, 0.01, 0.0, 0.9, 0.9, 0.999, 1e-8, 3)
    dW = G[:n_1 * n_x].reshape(n_1, n_x)
    for R, r_is_x in ((np.ascontiguousarray(X.T), False), (X, True)):
        _kernels_backward_update.backward_update(
            normal(n_1, m), normal(n_1, m), normal(n_1, m), R, r_is_x,
            ACT_RELU, np.empty((n_1, m)), dW, np.empty((n_1, 1)), P, G, V,
            S, OPT_BY_NAME["momentum"], hp, 2)
    # The same with the second layer's products, in one region of two
    # phases.
    n_2 = 128
    w2 = n_1 * n_x
    n = w2 + n_2 * n_1 + 100
    P, G, V, S = normal(n), normal(n), normal(n), np.abs(normal(n))
    dW = G[:w2].reshape(n_1, n_x)
    W2 = P[w2:w2 + n_2 * n_1].reshape(n_2, n_1)
    dW2 = G[w2:w2 + n_2 * n_1].reshape(n_2, n_1)
    for R, r_is_x in ((np.ascontiguousarray(X.T), False), (X, True)):
        _kernels_backward_two_layers.backward_two_layers(
            normal(n_2, m), normal(n_2, m), normal(n_2, m), ACT_RELU,
            np.empty((n_2, m)), dW2, np.empty((n_2, 1)), W2,
            normal(n_1, m), np.empty((n_1, m)), normal(n_1, m),
            normal(n_1, m), ACT_RELU, np.empty((n_1, m)), dW,
            np.empty((n_1, 1)), R, r_is_x, P, G, V, S,
            OPT_BY_NAME["momentum"], hp, 2)
    # The optimizer step alone, in chunks.
    _toolbox_step_kernels.update_params(
        P, G, V, S, OPT_BY_NAME["momentum"], hp, np.zeros(n_chunks(n)),
        True)
    # The primal solver's one pass over the first layer.
    n_1, n_x, m = 20, 4096, 64
    Xf = normal(n_x, m)
    parts = _primal_fused_kernels.parts_buffer(n_1, n_x, m, Xf.dtype)
    _primal_fused_kernels.backward_update_forward(
        normal(n_1, m), Xf, normal(n_1, n_x), np.empty((n_1, n_x)), 0.01,
        parts, True)

    out = {}
    for module, name in json.loads(sys.argv[1]):
        out[module + "." + name] = [
            [str(t) for t in sig]
            for sig in getattr(getattr(fastdnn, module), name).signatures]
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def signatures(tmp_path_factory):
    names = sorted({(module, name) for module, *names in
                    TASK_CALLEES + ONE_COMPILATION for name in names})
    return run_json_script(_SCRIPT, names,
                           tmp_path_factory.mktemp("numba_cache"))


@pytest.mark.parametrize("module, callee, region", TASK_CALLEES,
                         ids=[callee for _, callee, _ in TASK_CALLEES])
def test_task_index_reaches_the_callee_as_int64(signatures, module, callee,
                                                region):
    # Else the script did not run the region, and there is nothing to read.
    assert signatures[module + "." + region], "%s did not run" % region
    compiled = signatures[module + "." + callee]
    assert compiled
    unsigned = [sig for sig in compiled
                if any(t.startswith("uint") for t in sig)]
    assert not unsigned, ("%s was compiled for an unsigned task index: %s"
                          % (callee, unsigned))


@pytest.mark.parametrize("module, name", ONE_COMPILATION,
                         ids=[name for _, name in ONE_COMPILATION])
def test_compiled_once_for_every_layout(signatures, module, name):
    if (module, name) in GEMM_ONLY and not NATIVE_GEMM:
        pytest.skip("the script's forward passes run on BLAS in this build "
                    "(no AVX2 and FMA)")
    compiled = signatures[module + "." + name]
    assert len(compiled) == 1, compiled
