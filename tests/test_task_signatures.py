"""The parallel regions' callees compile once per type of their data.

numba types the index of a ``prange`` loop as unsigned, while the one-task
calls of the same callees pass an int64: a region that handed its index on
as it is made numba compile a second copy of the callee, and of all it
calls, in every process with an empty cache (18 compilations more in the
MNIST shape's first mini-batch fit). The regions pass ``np.int64(q)``.

The signatures a dispatcher lists are those compiled in its process; a
caller loaded from the cache compiles none of its callees. So the regions
run in a new process with an empty cache of its own, on two threads, and
the test reads what their callees were compiled for.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

#: (module, callee, the region that hands the callee its task index).
TASK_CALLEES = [
    ("_kernels_backward_update", "_task", "_tasks_parallel"),
    ("_kernels_gemm", "_tiles_task", "_tiles_parallel"),
    ("_kernels_gemm", "_dot_task", "_dot_tiles_parallel"),
    ("_kernels_gemm", "_packed_tiles", "_packed_tiles_parallel"),
    ("_toolbox_step_kernels", "_chunk", "_update_chunks_parallel"),
    ("_primal_fused_kernels", "_chunk_task", "_chunks_parallel"),
]

_SCRIPT = textwrap.dedent("""
    import json
    import numba
    import numpy as np
    import fastdnn
    from fastdnn import (_kernels_backward_update, _kernels_gemm,
                         _primal_fused_kernels, _toolbox_step_kernels)
    from fastdnn._kernels_elementwise import ACT_RELU
    from fastdnn._toolbox_step_kernels import (N_CONSTANTS, OPT_BY_NAME,
                                               fill_constants, n_chunks)

    rng = np.random.default_rng(0)

    def normal(*shape):
        return rng.standard_normal(shape)

    # The GEMM's three kinds of product: B read in place by the register
    # tiles, read in place transposed by the dot tile, copied.
    for A, B in ((normal(64, 96), normal(96, 80)),
                 (normal(8, 300), normal(200, 300).T),
                 (normal(96, 64), normal(80, 64).T)):
        C = np.empty((A.shape[0], B.shape[1]))
        _kernels_gemm.matmul_scaled_into(A, B, C, 2, 1.0)
    # The first layer's backward pass with the optimizer step.
    n_1, n_x, m = 256, 784, 32
    X = normal(n_x, m)
    n = n_1 * n_x + 100
    P, G, V, S = normal(n), normal(n), normal(n), np.abs(normal(n))
    hp = np.zeros(N_CONSTANTS)
    fill_constants(hp, 0.01, 0.0, 0.9, 0.9, 0.999, 1e-8, 3)
    dW = G[:n_1 * n_x].reshape(n_1, n_x)
    _kernels_backward_update.backward_update(
        normal(n_1, m), normal(n_1, m), normal(n_1, m),
        np.ascontiguousarray(X.T), False, ACT_RELU, np.empty((n_1, m)), dW,
        np.empty((n_1, 1)), P, G, V, S, OPT_BY_NAME["momentum"], hp, 2)
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
    for module, callee, region in %r:
        mod = getattr(fastdnn, module)
        out[callee] = ([[str(t) for t in sig]
                        for sig in getattr(mod, callee).signatures],
                       len(getattr(mod, region).signatures))
    print(json.dumps(out))
""") % TASK_CALLEES


@pytest.fixture(scope="module")
def signatures(tmp_path_factory):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(
        tmp_path_factory.mktemp("numba_cache")), NUMBA_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module, callee, region", TASK_CALLEES,
                         ids=[callee for _, callee, _ in TASK_CALLEES])
def test_task_index_reaches_the_callee_as_int64(signatures, module, callee,
                                                region):
    sigs, region_compiled = signatures[callee]
    # Else the script did not run the region, and there is nothing to read.
    assert region_compiled, "%s did not run" % region
    assert sigs
    unsigned = [sig for sig in sigs if any(t.startswith("uint") for t in sig)]
    assert not unsigned, ("%s was compiled for an unsigned task index: %s"
                          % (callee, unsigned))
