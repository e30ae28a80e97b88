"""The first two layers' backward passes and the weights' optimizer step in
one parallel region (:mod:`fastdnn._kernels_backward_two_layers`): every
gradient, dA1 and every weight and state after the step are those of the
two regions apart (the second layer's ``backward_blas_unchecked``, then
``backward_update``) bit for bit, for both dtypes, three optimizers, the
MNIST shape at batches of 32 and 128 and odd shapes, on 1 to 3 threads;
and the region's tickets (:mod:`fastdnn._kernels_tickets`) never wait
forever when numba runs all its workers on one thread."""
import numba
import numpy as np
import pytest

from fastdnn._kernels_backward_two_layers import backward_two_layers
from fastdnn._kernels_backward_update import backward_update
from fastdnn._kernels_blas import backward_blas_unchecked
from fastdnn._kernels_elementwise import ACT_BY_NAME
from fastdnn._kernels_gemm import NATIVE_GEMM
from fastdnn._kernels_gemm_split import GEMM_PARALLEL_MIN_WORK
from fastdnn._kernels_tickets import (FIRST_PHASE_DONE, NEXT_TICKET,
                                      TICKET_SLOTS, fetch_add)
from fastdnn._toolbox_step_kernels import (N_CONSTANTS, OPT_BY_NAME,
                                           fill_constants)

from thread_counts import numba_threads

# The kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()

pytestmark = pytest.mark.skipif(not NATIVE_GEMM,
                                reason="BLAS keeps the products here")

#: (n_2, n_1, n_x, m, X^T given as an array, weights of the later layers):
#: the MNIST shape at batch 32 and 128, odd shapes (X^T as X's view, or
#: a pair too small for a region of its own), and a tiny network.
SHAPES = [
    (128, 256, 784, 32, True, 1290),
    (128, 256, 784, 128, True, 1290),
    (37, 70, 45, 29, False, 11),
    (50, 90, 70, 64, True, 0),
    (3, 5, 4, 2, True, 7),
]

DTYPES = ["float32", "float64"]
OPTIMIZERS = ["gd", "momentum", "adam"]
RELU = np.int64(ACT_BY_NAME["relu"])
TANH = np.int64(ACT_BY_NAME["tanh"])


def _case(n2, n1, n_x, m, transposed, rest, dtype, seed):
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return rng.standard_normal(shape).astype(dtype)
    X = normal(n_x, m)
    n = n1 * n_x + n2 * n1 + rest
    Z1 = normal(n1, m)
    Z2 = normal(n2, m)
    return dict(
        dA2=normal(n2, m), Z2=Z2, A2=np.tanh(Z2), Z1=Z1,
        A1=np.maximum(Z1, 0), X=X,
        R=np.ascontiguousarray(X.T) if transposed else X,
        r_is_x=not transposed,
        P=normal(n) * 0.1, G=normal(n), V=normal(n) * 0.1,
        S=np.abs(normal(n)) * 0.01, n1=n1, n2=n2, n_x=n_x)


def _constants(dtype, opt):
    hp = np.zeros(N_CONSTANTS, dtype)
    fill_constants(hp, 0.01, 0.0, 0.9, 0.9, 0.999, 1e-8, 3)
    return hp


def _buffers(c, opt):
    # Every output, fresh; the weights and state copied.
    n1, n2, n_x = c["n1"], c["n2"], c["n_x"]
    m = c["Z1"].shape[1]
    dtype = c["Z1"].dtype
    P, G, V = (c[k].copy() for k in "PGV")
    S = c["S"].copy() if opt == "adam" else None
    w2 = n1 * n_x
    return dict(
        P=P, G=G, V=V, S=S,
        W2=P[w2:w2 + n2 * n1].reshape(n2, n1),
        dW2=G[w2:w2 + n2 * n1].reshape(n2, n1),
        dW1=G[:w2].reshape(n1, n_x),
        dZ2=np.zeros((n2, m), dtype), db2=np.zeros((n2, 1), dtype),
        dA1=np.zeros((n1, m), dtype), dZ1=np.zeros((n1, m), dtype),
        db1=np.zeros((n1, 1), dtype))


def _apart(c, opt, hp, threads):
    b = _buffers(c, opt)
    backward_blas_unchecked(c["dA2"], c["Z2"], c["A2"], c["A1"], b["W2"],
                            TANH, True, b["dZ2"], b["dW2"], b["db2"],
                            b["dA1"], False, threads)
    backward_update(b["dA1"], c["Z1"], c["A1"], c["R"], c["r_is_x"], RELU,
                    b["dZ1"], b["dW1"], b["db1"], b["P"], b["G"], b["V"],
                    b["S"], OPT_BY_NAME[opt], hp, threads)
    return b


def _together(c, opt, hp, threads):
    b = _buffers(c, opt)
    one = backward_two_layers(
        c["dA2"], c["Z2"], c["A2"], TANH, b["dZ2"], b["dW2"], b["db2"],
        b["W2"], c["A1"], b["dA1"], c["Z1"], c["A1"], RELU, b["dZ1"],
        b["dW1"], b["db1"], c["R"], c["r_is_x"], b["P"], b["G"], b["V"],
        b["S"], OPT_BY_NAME[opt], hp, threads)
    return b, one


def _assert_same(got, want, what):
    for k in ("dZ2", "db2", "dA1", "dZ1", "db1", "P", "G", "V", "S"):
        if want[k] is None:
            assert got[k] is None
            continue
        assert np.array_equal(got[k], want[k]), (k, what)


@pytest.mark.parametrize("opt", OPTIMIZERS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_the_bits_of_the_two_regions(shape, dtype, opt):
    c = _case(*shape, dtype, seed=sum(shape[:4]))
    hp = _constants(dtype, opt)
    want = _apart(c, opt, hp, 1)
    ran_one = set()
    for threads in (1, 2, 3):
        got, one = _together(c, opt, hp, threads)
        _assert_same(got, want, threads)
        ran_one.add(bool(one))
    # One region where the pair and the first layer would each take one.
    n2, n1, n_x, m = shape[:4]
    big = (2 * n2 * n1 * m >= GEMM_PARALLEL_MIN_WORK
           and n1 * n_x * m >= GEMM_PARALLEL_MIN_WORK)
    assert ran_one == ({False, True} if big else {False})


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_thread_takes_every_ticket(dtype):
    # numba on one thread runs the region's two workers one after the
    # other: the first takes every ticket, the second finds none, and
    # nothing waits forever.
    c = _case(*SHAPES[0], dtype, seed=5)
    hp = _constants(dtype, "momentum")
    want = _apart(c, "momentum", hp, 1)
    with numba_threads(1):
        got, one = _together(c, "momentum", hp, 2)
    assert one
    _assert_same(got, want, "one thread")


@numba.njit(parallel=True, cache=False)
def _claim_all(counters, claimed, workers):
    # Every worker takes tickets until none is left, counting each one it
    # took in ``claimed`` and in the done counter.
    for w in numba.prange(workers):
        while True:
            t = fetch_add(counters, NEXT_TICKET, 1)
            if t >= claimed.shape[0]:
                break
            claimed[t] += 1
            fetch_add(counters, FIRST_PHASE_DONE, 1)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no compiled code")
def test_each_ticket_is_taken_once():
    # Two threads racing for 200,000 tickets: an add that were not atomic
    # would hand some ticket out twice and lose counts.
    n = 200_000
    for threads in (1, 2):
        with numba_threads(threads):
            counters = np.zeros(TICKET_SLOTS, np.int64)
            claimed = np.zeros(n, np.int64)
            _claim_all(counters, claimed, 2)
        assert (claimed == 1).all()
        assert counters[FIRST_PHASE_DONE] == n
