"""A mini-batch's gather and its first GEMM layers' forward passes in one
parallel region (:mod:`fastdnn._kernels_forward_chain`): the batch, every
Z and every A are those of the gather and the layers' own passes bit for
bit, for both dtypes, either layout of the batch, the MNIST shape at
batches of 32 and 128 and odd shapes, on 1 to 3 threads; the layers that
join are those that would take a region of their own; and the region's
claims never wait forever when numba runs all its workers on one thread."""
import numba
import numpy as np
import pytest

from fastdnn._kernels_blas import forward_blas
from fastdnn._kernels_elementwise import ACT_BY_NAME
from fastdnn._kernels_forward_chain import forward_chain
from fastdnn._kernels_gather import gather
from fastdnn._kernels_gemm import NATIVE_GEMM

from test_toolbox_jit import check_threads_match
from thread_counts import numba_threads

# The kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()

pytestmark = pytest.mark.skipif(not NATIVE_GEMM,
                                reason="BLAS keeps the products here")

RELU = ACT_BY_NAME["relu"]
TANH = ACT_BY_NAME["tanh"]
SOFTMAX_LIKE = ACT_BY_NAME["sigmoid"]

#: (dims, batch, activations, layers that join on two threads): the MNIST
#: shape at batch 32 and 128 (its 10-unit output is too small for a
#: region), odd shapes whose every layer joins, one whose first layer is
#: too small to (nothing runs), a single layer.
CASES = [
    ((784, 256, 128, 10), 32, (RELU, RELU, SOFTMAX_LIKE), 2),
    ((784, 256, 128, 10), 128, (RELU, RELU, SOFTMAX_LIKE), 2),
    ((301, 97, 131, 77), 61, (TANH, RELU, TANH), 3),
    ((90, 70, 75), 64, (RELU, TANH), 2),
    ((5, 4, 3), 6, (RELU, TANH), 0),
    ((500, 130), 40, (TANH,), 1),
]


def _case(dims, mb, acts, dtype, columns, seed):
    rng = np.random.default_rng(seed)
    dims = np.asarray(dims, np.int64)
    L = dims.shape[0] - 1
    m = 3 * mb + 5
    XT = rng.standard_normal((m, dims[0])).astype(dtype)
    YT = rng.standard_normal((m, dims[L])).astype(dtype)
    sizes = dims[1:] * dims[:-1]
    woff = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    boff = np.concatenate([[0], np.cumsum(dims[1:])[:-1]]).astype(np.int64)
    return dict(
        XT=XT, YT=YT, perm=rng.permutation(m).astype(np.int64), lo=mb + 2,
        dims=dims, acts=np.asarray(acts, np.int64), mb=mb, columns=columns,
        Wf=(rng.standard_normal(sizes.sum()) * 0.1).astype(dtype),
        bf=rng.standard_normal(dims[1:].sum()).astype(dtype),
        woff=woff, boff=boff, roff=boff.copy())


def _buffers(c):
    dims, mb = c["dims"], c["mb"]
    dtype = c["XT"].dtype
    rows = dims[1:].sum()
    Xb = np.full(mb * dims[0], np.nan, dtype)
    if c["columns"]:
        A0 = Xb.reshape(dims[0], mb)
    else:
        A0 = Xb.reshape(mb, dims[0])
    return dict(Xb=Xb, A0=A0, Yb=np.full(dims[-1] * mb, np.nan, dtype),
                Zf=np.full(rows * mb, np.nan, dtype),
                Af=np.full(rows * mb, np.nan, dtype))


def _layer(c, b, name, p):
    n = c["dims"][p + 1]
    start = c["roff"][p] * c["mb"]
    return b[name][start:start + n * c["mb"]].reshape(n, c["mb"])


def _apart(c, layers):
    # The gather on the calling thread, then each layer's own pass.
    b = _buffers(c)
    dims, mb = c["dims"], c["mb"]
    gather(c["XT"], c["YT"], c["perm"], c["lo"], c["lo"] + mb, b["Xb"],
           b["Yb"], c["columns"])
    for p in range(layers):
        n, K = dims[p + 1], dims[p]
        W = c["Wf"][c["woff"][p]:c["woff"][p] + n * K].reshape(n, K)
        bias = c["bf"][c["boff"][p]:c["boff"][p] + n].reshape(n, 1)
        A = b["A0"] if p == 0 else _layer(c, b, "Af", p - 1)
        forward_blas(W, A, bias, c["acts"][p], _layer(c, b, "Zf", p),
                     _layer(c, b, "Af", p), p == 0 and not c["columns"], 1)
    return b


def _together(c, threads, gather_parts):
    b = _buffers(c)
    layers = forward_chain(
        c["XT"], c["YT"], c["perm"], c["lo"], b["Xb"], b["Yb"], c["columns"],
        gather_parts, b["A0"], not c["columns"], c["Wf"], c["woff"], c["bf"],
        c["boff"], b["Zf"], b["Af"], c["roff"], c["dims"], c["acts"],
        c["mb"], None, threads)
    return b, layers


def _assert_same(got, want, what):
    for k in ("Xb", "Yb", "Zf", "Af"):
        assert np.array_equal(got[k], want[k], equal_nan=True), (k, what)


@pytest.mark.parametrize("columns", [False, True], ids=["XT", "X"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_bits_of_the_separate_regions(case, dtype, columns):
    dims, mb, acts, joins = case
    c = _case(dims, mb, acts, dtype, columns, seed=sum(dims) + mb)
    b, layers = _together(c, 2, 2)
    if not columns:
        # X^T as gathered (the loops' layout for a first layer on the
        # GEMM): the layers the case says join.
        assert layers == joins
    if layers == 0:
        _assert_nothing_written(b)
    else:
        _assert_same(b, _apart(c, layers), "two threads")
        assert not np.isnan(_layer(c, b, "Af", layers - 1)).any()
    for threads in (1, 2, 3):
        for gather_parts in (0, min(threads, mb)):
            got, ran = _together(c, threads, gather_parts)
            if threads == 1:
                assert ran == 0
            if ran == 0:
                # Declined (one thread, or no layer in whole-row tasks):
                # nothing written.
                _assert_nothing_written(got)
                continue
            _assert_same(got, _apart(c, ran), (threads, gather_parts))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_thread_claims_every_task(dtype):
    # numba on one thread runs the region's workers one after the other:
    # the first claims every task of every phase, the others find them
    # taken and done, and nothing waits forever.
    dims, mb, acts, joins = CASES[1]
    c = _case(dims, mb, acts, dtype, False, seed=11)
    with numba_threads(1):
        got, layers = _together(c, 2, 2)
    assert layers == joins
    _assert_same(got, _apart(c, layers), "one thread")


def _assert_nothing_written(got):
    for k in ("Xb", "Yb", "Zf", "Af"):
        assert np.isnan(got[k]).all(), k


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                    reason="numba has a single thread")
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_through_the_chain(dtype, optimizer):
    # A network whose batches take the chain on two threads (the gather
    # and two hidden layers; the first one alone in the remainder batch
    # of 16): the reference's numbers, and the same bits as on one
    # thread, where the chain never runs.
    dims = [300, 120, 96, 10]
    mb = 64
    for batch, joins in ((mb, 2), (16, 1)):
        c = _case(dims, batch, (RELU, RELU, SOFTMAX_LIKE), dtype, False, 0)
        assert _together(c, 2, 2)[1] == joins
    rng = np.random.RandomState(2)
    m = 3 * mb + 16
    X = rng.randn(dims[0], m).astype(dtype)
    Y = np.eye(dims[-1])[:, rng.randint(0, dims[-1], m)].astype(dtype)
    kw = dict(optimizer=optimizer, mini_batch_size=mb, seed=3,
              activation="relu", output="softmax")
    check_threads_match(X, Y, dims, 3, kw, dtype, threads=2)
