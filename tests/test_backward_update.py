"""The first layer's backward pass with the weights' optimizer step in one
parallel region (:mod:`fastdnn._kernels_backward_update`): dZ, db, dW and
every weight after its step are those of the separate passes
(``backward_blas_unchecked``, then ``update_params``) bit for bit, for
every activation, every optimizer, each way the product reads B, both
dtypes and 1 to 3 threads; with L2 it refuses to run."""
import numba
import numpy as np
import pytest

from fastdnn._kernels_backward_update import (UPDATE_BLOCK_ROWS,
                                              backward_update)
from fastdnn._kernels_blas import backward_blas_unchecked
from fastdnn._kernels_elementwise import ACT_ALL, ACT_IDENTITY
from fastdnn._kernels_gemm import (DOT_MAX_ROWS, DOT_MIN_K, NATIVE_GEMM,
                                   product_kind)
from fastdnn._kernels_gemm_split import (GEMM_PARALLEL_MIN_WORK, KIND_DOT,
                                         KIND_PACKED, KIND_TILES)
from fastdnn._toolbox_step_kernels import (N_CONSTANTS, OPT_BY_NAME,
                                           fill_constants, n_chunks,
                                           update_params)

# The kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()

#: (n_1, n_x, m, X^T given as an array, weights of the later layers): the
#: MNIST shape's first layer at batch 32 (X^T gathered: register tiles),
#: a short layer over a long batch (X^T as X's view, read in place by the
#: dot tile), a view that is copied, odd shapes, and a layer below the
#: split work.
LAYERS = [
    (256, 784, 32, True, 34048),
    (DOT_MAX_ROWS - 7, 64, DOT_MIN_K + 5, False, 650),
    (DOT_MAX_ROWS + 5, 33, 61, False, 7),
    (UPDATE_BLOCK_ROWS * 3 + 5, 70, 19, True, 0),
    (5, 3, 2, True, 11),
]

#: The training loops fuse the update into the backward pass only where
#: fastdnn's GEMM runs (AVX2 and FMA, or AVX-512). On an older CPU the
#: separate passes take the product from BLAS, whose sums are not the
#: tiles': there is no pair of paths to compare.
ON_NATIVE_GEMM = pytest.mark.skipif(
    not NATIVE_GEMM, reason="the fused pass runs on fastdnn's GEMM only; "
    "this build's separate passes run on BLAS")

DTYPES = ["float32", "float64"]
ACTIVATIONS = [act for act in ACT_ALL if act != ACT_IDENTITY]


def _case(n_1, n_x, m, transposed, rest, dtype, seed):
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return rng.standard_normal(shape).astype(dtype)
    X = normal(n_x, m)
    n = n_1 * n_x + rest
    return dict(
        dA=normal(n_1, m), Z=normal(n_1, m), X=X,
        B=np.ascontiguousarray(X.T) if transposed else X.T,
        P=normal(n), G=normal(n), V=normal(n) * 0.1,
        S=np.abs(normal(n)) * 0.01)


def _separate(c, act, opt, hp, threads, transposed):
    # backward_blas_unchecked, then update_params over every weight.
    n_1, m = c["Z"].shape
    n_x = c["X"].shape[0]
    dtype = c["Z"].dtype
    Aout = np.tanh(c["Z"])  # read by the activations' gradients that use A
    P, G, V, S = (c[k].copy() for k in "PGVS")
    dZ = np.zeros((n_1, m), dtype)
    db = np.zeros((n_1, 1), dtype)
    dW = G[:n_1 * n_x].reshape(n_1, n_x)
    A_prev = c["B"] if transposed else c["X"]
    backward_blas_unchecked(c["dA"], c["Z"], Aout, A_prev, dW, act, False,
                            dZ, dW, db, dZ, transposed, threads)
    update_params(P, G, V, S, opt, hp, np.zeros(n_chunks(P.size)),
                  threads > 1)
    return dZ, db, P, G, V, S


def _fused(c, act, opt, hp, threads):
    n_1, m = c["Z"].shape
    n_x = c["X"].shape[0]
    dtype = c["Z"].dtype
    Aout = np.tanh(c["Z"])
    P, G, V, S = (c[k].copy() for k in "PGVS")
    dZ = np.zeros((n_1, m), dtype)
    db = np.zeros((n_1, 1), dtype)
    dW = G[:n_1 * n_x].reshape(n_1, n_x)
    # B given as the array X^T, or as X, whose transposed view B is.
    r_is_x = not c["B"].flags.c_contiguous
    R = c["X"] if r_is_x else c["B"]
    backward_update(c["dA"], c["Z"], Aout, R, r_is_x, act, dZ, dW, db, P, G,
                    V, S, opt, hp, threads)
    return dZ, db, P, G, V, S


def _constants(dtype, c2=0.0):
    hp = np.zeros(N_CONSTANTS, dtype)
    fill_constants(hp, 0.01, c2, 0.9, 0.9, 0.999, 1e-8, 3)
    return hp


def test_the_layers_cover_every_kind_and_both_sides_of_the_split():
    kinds = set()
    small = big = False
    for n_1, n_x, m, transposed, rest in LAYERS:
        c = _case(n_1, n_x, m, transposed, rest, "float64", 0)
        kinds.add(product_kind(c["Z"], c["B"]))
        small |= n_1 * n_x * m < GEMM_PARALLEL_MIN_WORK
        big |= n_1 * n_x * m >= GEMM_PARALLEL_MIN_WORK
    assert kinds == {KIND_TILES, KIND_DOT, KIND_PACKED}
    assert small and big


@ON_NATIVE_GEMM
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS, ids=str)
@pytest.mark.parametrize("opt", sorted(OPT_BY_NAME), ids=str)
def test_the_bits_of_the_separate_passes(layer, opt, dtype):
    n_1, n_x, m, transposed, rest = layer
    c = _case(n_1, n_x, m, transposed, rest, dtype, len(opt))
    hp = _constants(dtype)
    code = OPT_BY_NAME[opt]
    for act in ACTIVATIONS:
        want = _separate(c, act, code, hp, 1, transposed)
        for threads in (1, 2, 3):
            got = _fused(c, act, code, hp, threads)
            for name, w, g in zip(("dZ", "db", "P", "G", "V", "S"), want,
                                  got):
                assert np.array_equal(w, g, equal_nan=True), (
                    name, act, threads)


@ON_NATIVE_GEMM
def test_optimizers_without_state_take_empty_state_arrays():
    c = _case(256, 784, 32, True, 100, "float32", 3)
    empty = np.zeros(0, np.float32)
    c_empty = dict(c, V=empty, S=empty)
    hp = _constants(np.float32)
    want = _separate(c_empty, 1, OPT_BY_NAME["gd"], hp, 1, True)
    got = _fused(c_empty, 1, OPT_BY_NAME["gd"], hp, 2)
    for w, g in zip(want, got):
        assert np.array_equal(w, g)


def test_refuses_an_l2_term():
    c = _case(8, 5, 4, True, 0, "float64", 0)
    with pytest.raises(ValueError, match="L2 term"):
        _fused(c, 1, OPT_BY_NAME["momentum"], _constants(np.float64, 0.5),
               1)
