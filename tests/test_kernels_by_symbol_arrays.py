"""Kernels that take arrays, compiled once per version and called by symbol
(:func:`fastdnn._kernels_by_symbol_arrays.arrays_by_symbol`): the row
kernels of the activations, the bias-and-activation and dZ/db row blocks,
the softmax columns, the other outputs' cost and dZ, the optimizer's
chunk, the products' task and the gather. One table drives the tests:
every stub, called from jitted code, gives the bits of its kernel's own
code in both dtypes (the layouts it takes by symbol, others inline), and
its callers hold a call, not the code; a new process compiles only the
versions it calls and loads from numba's cache what an earlier one
compiled, callers included."""
import re

import numba
import numpy as np
import pytest

from fastdnn import _numba_config
from fastdnn import _kernels_backward as backward
from fastdnn import _kernels_elementwise as elementwise
from fastdnn import _kernels_gather as gather
from fastdnn import _kernels_gemm as gemm
from fastdnn import _kernels_output as output
from fastdnn import _toolbox_step_kernels as step
from fastdnn._kernels_by_symbol_arrays import _variant_symbol, arrays_by_symbol
from fastdnn._kernels_elementwise import ACT_ALL
from fastdnn._kernels_gemm_split import plan_product
from fresh_process import run_json_script

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT,
                                reason="nothing is compiled")

DTYPES = (np.float32, np.float64)


def _rows(rng, dtype, n, m):
    # Values on both sides of 0, a NaN and infinities among them.
    values = rng.randn(n, m) * 4
    values.flat[::11] = np.nan
    values.flat[5::13] = np.inf
    values.flat[7::17] = -np.inf
    return values.astype(dtype)


def _activation_args(rng, dtype, act):
    z = _rows(rng, dtype, 1, 37)[0]
    return (z, np.zeros_like(z), np.int64(2), np.int64(35), np.int64(act))


def _grad_args(rng, dtype, act):
    z, d = _rows(rng, dtype, 2, 37)
    return (d, z, np.zeros_like(z), np.int64(0), np.int64(37),
            np.int64(act))


def _grad_from_a_args(rng, dtype, act):
    z, d = _rows(rng, dtype, 2, 37)
    a = np.tanh(z) if act == elementwise.ACT_TANH else z.copy()
    return (d, z, a, np.zeros_like(z), np.int64(1), np.int64(37),
            np.int64(act))


def _bias_args(rng, dtype, act):
    Z = _rows(rng, dtype, 5, 19)
    return (Z, _rows(rng, dtype, 5, 1), np.int64(act), np.zeros_like(Z),
            np.int64(1), np.int64(5))


def _dZ_db_args(rng, dtype, act):
    Z, dA = _rows(rng, dtype, 5, 19), _rows(rng, dtype, 5, 19)
    return (dA, Z, np.int64(act), np.zeros_like(Z),
            np.zeros((5, 1), dtype), np.int64(0), np.int64(4))


def _softmax_args(rng, dtype, act):
    Z = _rows(rng, dtype, 10, 23)
    return (Z, np.zeros_like(Z), np.zeros(20, dtype), np.zeros(20, dtype),
            np.int64(3), np.int64(23))


def _cost_args(rng, dtype, out):
    # Probabilities with the clip's ends (0 and 1) among them, 0/1 labels.
    AL = rng.rand(3, 17).astype(dtype)
    AL[0, 2], AL[1, 5] = 0, 1
    Y = (rng.rand(3, 17) > 0.5).astype(dtype)
    return (AL, Y, np.zeros_like(AL), np.int64(out),
            dtype(np.finfo(dtype).eps))


def _update_args(rng, dtype, opt):
    n = 45
    P, G, V = (rng.randn(n).astype(dtype) for _ in range(3))
    S = np.abs(rng.randn(n)).astype(dtype)
    hp = (0.01, 0.001, 0.9, 0.1, 0.9, 0.1, 0.999, 0.001, 0.19, 0.002,
          1e-8, 0.003, 1e-30, 1e-30)
    return (P, G, V, S if opt in (3, 4, 7) else None, np.int64(opt)) + tuple(
        dtype(h) for h in hp)


def _product_args(rng, dtype, transposed):
    # Views of wider arrays (numba's layout "A", as the layer kernels pass
    # them); B's rows contiguous (the tiles) or B a transposed view (packed
    # panels, or the dot-product tiles where they read it in place). One
    # task does the whole product.
    M, K, N = 13, 37, 21
    A = rng.randn(M, K + 3).astype(dtype)[:, :K]
    B = (rng.randn(N, K + 2).astype(dtype)[:, :K].T if transposed
         else rng.randn(K, N + 2).astype(dtype)[:, :N])
    C = np.zeros((M, N + 1), dtype)[:, :N]
    kind = gemm.product_kind(A, B)
    parts, by_rows, scratch = plan_product(A, B, C, kind, 1)
    assert parts == 1
    return (A, B, C, dtype(1.5), np.int64(kind), np.int64(parts), by_rows,
            scratch, np.int64(0))


def _gather_args(rng, dtype, columns):
    # Examples 2 .. 6 of the batch perm[4:11] (mb = 7), gathered as X^T's
    # rows or as X's columns.
    XT, YT = _rows(rng, dtype, 20, 9), _rows(rng, dtype, 20, 3)
    perm = rng.permutation(20).astype(np.int64)
    return (XT, YT, perm, np.int64(4), np.int64(7), np.int64(2), np.int64(6),
            np.zeros(7 * 9, dtype), np.zeros(7 * 3, dtype), bool(columns))


#: (stub, its arguments' builder (rng, dtype, code), the codes it is
#: called with): activation codes, output codes for the cost, optimizer
#: codes for the update, B transposed or not for the product's task, X's
#: columns or not for the gather.
STUBS = [
    (elementwise.activate_row, _activation_args, ACT_ALL),
    (elementwise.activation_grad_row, _grad_args, ACT_ALL),
    (elementwise.activation_grad_row_from_a, _grad_from_a_args, ACT_ALL),
    (elementwise.bias_activate_simple_rows, _bias_args, (0, 1, 4)),
    (backward._dZ_db_simple_rows, _dZ_db_args, (0, 1, 4)),
    (output._softmax_columns, _softmax_args, (0,)),
    (output._cost_and_dZ, _cost_args, output.OUT_ALL),
    (step._update_chunk, _update_args, range(8)),
    (gemm.product_task, _product_args, (False, True)),
    (gather.gather_part, _gather_args, (False, True)),
]
IDS = [stub.__name__ for stub, _, _ in STUBS]


def _caller(stub):
    @numba.njit
    def call(args):
        return stub(*args)
    return call


_CALLERS = {stub.__name__: _caller(stub) for stub, _, _ in STUBS}


def _same_bits(got, want):
    for g, w in zip(got, want):
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)
            assert g.tobytes() == w.tobytes()
        else:
            assert g == w or (g != g and w != w)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stub, build, codes", STUBS, ids=IDS)
def test_by_symbol_gives_the_bits_of_the_kernels_own_code(stub, build,
                                                          codes, dtype):
    for code in codes:
        # The same arguments twice, of the same layouts.
        by_symbol = build(np.random.RandomState(3), dtype, code)
        own = build(np.random.RandomState(3), dtype, code)
        got = _CALLERS[stub.__name__](by_symbol)
        want = stub.jitted(*own)
        _same_bits(by_symbol + (got,), own + (want,))


@pytest.mark.parametrize("stub, build, codes", STUBS, ids=IDS)
def test_a_caller_holds_a_call_of_the_symbol_and_not_the_code(stub, build,
                                                              codes):
    code = max(codes)  # the update: Adam's, with S
    caller = _CALLERS[stub.__name__]
    caller(build(np.random.RandomState(0), np.float64, code))
    ir = caller.inspect_llvm(caller.signatures[-1])
    symbol = _variant_symbol(stub.__name__, (numba.float64, True))
    assert re.search(r"declare .*@%s\(" % symbol, ir), ir[:2000]
    name = stub.jitted.py_func.__name__
    assert "%d%s" % (len(name), name) not in ir


def test_other_layouts_compile_the_code_into_the_caller():
    rng = np.random.RandomState(1)
    Z = _rows(rng, np.float64, 6, 40)
    z, a = Z[::2, 3], np.zeros(3)  # a strided row
    args = (z, a, np.int64(0), np.int64(3), np.int64(elementwise.ACT_TANH))
    _CALLERS["activate_row"](args)
    want = np.zeros(3)
    elementwise.activate_row.jitted(z, want, 0, 3, elementwise.ACT_TANH)
    assert a.tobytes() == want.tobytes()
    caller = _CALLERS["activate_row"]
    ir = caller.inspect_llvm(caller.signatures[-1])
    assert "13_activate_row" in ir


@numba.njit
def _update_optional(P, G, V, S, given, opt, hp):
    # S optional at run time: numba types it Optional(array).
    s = S if given else None
    return step._update_chunk(P, G, V, s, opt, hp[0], hp[1], hp[2], hp[3],
                              hp[4], hp[5], hp[6], hp[7], hp[8], hp[9],
                              hp[10], hp[11], hp[12], hp[13])


@pytest.mark.parametrize("dtype", DTYPES)
def test_an_optional_second_moment_takes_the_version_it_needs(dtype):
    rng = np.random.RandomState(2)
    for opt, given in ((1, False), (4, True), (3, True), (0, False)):
        P, G, V, S, code, *hp = _update_args(rng, dtype, opt)
        S = np.abs(rng.randn(P.size)).astype(dtype) if S is None else S
        mine = [P.copy(), G.copy(), V.copy(), S.copy()]
        want_args = [P.copy(), G.copy(), V.copy(), S.copy() if given
                     else None]
        got = _update_optional(*mine, given, code, tuple(hp))
        want = step._update_chunk.jitted(*want_args, code, *hp)
        assert got == want
        for g, w in zip(mine, want_args):
            if w is not None:
                assert g.tobytes() == w.tobytes()
        if not given:
            assert mine[3].tobytes() == S.tobytes()  # S untouched
    assert (numba.types.float64 if dtype is np.float64
            else numba.types.float32, False) in step._update_chunk.versions


def test_called_from_python_it_runs_the_kernel():
    z = np.array([-1.0, 2.0])
    a = np.zeros(2)
    elementwise.activate_row(z, a, 0, 2, elementwise.ACT_RELU)
    assert a.tolist() == [0.0, 2.0]


def test_kinds_must_name_each_argument():
    with pytest.raises(ValueError, match="one kind for each of its 5"):
        arrays_by_symbol(elementwise.activate_row.jitted, None, "x",
                         ("row", "row", "int"))


_LAZY = """
import json, sys
import numpy as np
from fastdnn import _kernels_by_symbol_arrays, _kernels_elementwise as E
out = {"lazy": _kernels_by_symbol_arrays.LAZY}
Z = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
A = np.empty_like(Z)
E.activation_into(Z, np.int64(E.ACT_TANH), A)
out["versions"] = sorted("%s %s" % key
                         for key in E.activate_row.versions)
out["hits"] = [c.cache_hits for c in E.activate_row.versions.values()]
out["right"] = bool(np.allclose(A, np.tanh(Z), rtol=1e-6))
print(json.dumps(out))
"""


@pytest.mark.skipif(not _numba_config.CACHE,
                    reason="FASTDNN_NUMBA_CACHE=0: nothing is cached")
def test_a_process_compiles_its_versions_and_the_next_loads_them(tmp_path):
    first = run_json_script(_LAZY, None, tmp_path)
    assert first == {"lazy": True, "versions": ["float32 True"],
                     "hits": [0], "right": True}
    # The caller comes from the cache: the hook loads the version it
    # calls before numba links it.
    second = run_json_script(_LAZY, None, tmp_path)
    assert second == dict(first, hits=[1])
    # The version's own cache entries gone, the caller's left: compiled
    # again before the caller is linked (not a missing symbol).
    removed = [path for path in tmp_path.rglob("*_activate_row_at*")]
    assert removed
    for path in removed:
        path.unlink()
    third = run_json_script(_LAZY, None, tmp_path)
    assert third == first


@pytest.mark.parametrize("stub, build, codes", STUBS, ids=IDS)
def test_each_kernel_states_its_fastmath_flags(stub, build, codes):
    # numba compiles a function that does not set fastmath with the flags
    # of the caller that compiles it first, for every later caller and
    # numba's cache: the bits would depend on which caller that was.
    assert "fastmath" in stub.jitted.targetoptions, stub.__name__


def test_a_fastmath_caller_does_not_lend_its_flags():
    # The kernel's own options on a dispatcher of its own, without numba's
    # cache: a kernel loaded from the cache (a second run of the suite)
    # holds no IR to read.
    jitted = elementwise.activation_grad_row.jitted
    options = {k: v for k, v in jitted.targetoptions.items()
               if k not in ("cache", "nopython")}
    kernel = numba.njit(**options)(jitted.py_func)

    @numba.njit(fastmath={"contract", "reassoc"})
    def caller(d, z, o):
        # Strided rows, as a caller compiling the kernel inline passes.
        kernel(d, z, o, 0, z.shape[0], 2)

    x = np.random.RandomState(4).randn(3, 40)
    caller(x[0, ::2], x[1, ::2], x[2, ::2])
    [sig] = kernel.signatures
    assert sig[0].layout == "A"
    ir = kernel.inspect_llvm(sig)
    assert " contract " not in ir and " reassoc " not in ir
