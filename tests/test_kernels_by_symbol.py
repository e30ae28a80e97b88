"""Kernels compiled once per dtype and called by symbol
(:mod:`fastdnn._kernels_by_symbol`): the GEMM's tile loops. Their results
are checked by the product tests (every path, odd shapes, both dtypes,
the AVX2 build); here, that their callers hold a call and not their
code."""
import ctypes
import re

import numba
import pytest
from llvmlite import binding as llvm_binding

from fastdnn import _kernels_gemm, _kernels_gemm_dot, _numba_config
from fastdnn._kernels_by_symbol import FLOAT_TYPES, symbol_name
from fresh_process import run_json_script

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT,
                                reason="nothing is compiled")

#: (stub, its symbol's name, the name of the function it calls).
STUBS = [(_kernels_gemm._tiles, "gemm_tiles", "_tiles_body"),
         (_kernels_gemm_dot._dot_tiles, "gemm_dot_tiles", "_dot_tiles_body")]


@pytest.mark.parametrize("stub, name, body", STUBS,
                         ids=[name for _, name, _ in STUBS])
def test_each_dtype_has_a_version_known_to_llvm_by_its_symbol(stub, name,
                                                              body):
    assert set(stub.versions) == set(FLOAT_TYPES)
    for float_type, compiled in stub.versions.items():
        symbol = symbol_name(name, float_type)
        assert llvm_binding.address_of_symbol(symbol) == compiled.address
        first = compiled.ctypes.argtypes[0]
        assert first is {"float32": ctypes.c_float,
                         "float64": ctypes.c_double}[str(float_type)]


@pytest.mark.parametrize("stub, name, body", STUBS,
                         ids=[name for _, name, _ in STUBS])
def test_a_caller_calls_the_symbol_and_holds_none_of_the_code(stub, name,
                                                              body):
    n_args = len(stub.versions[numba.types.float64].ctypes.argtypes)

    @numba.njit
    def caller(x, args):
        # Never run: compiled for its code only.
        stub(x, *args)

    args = numba.types.UniTuple(numba.types.intp, n_args - 1)
    for float_type in FLOAT_TYPES:
        caller.compile((float_type, args))
    for sig, ir in caller.inspect_llvm().items():
        float_type = sig[0]
        symbol = symbol_name(name, float_type)
        assert re.search(r"declare .*@%s\(" % symbol, ir), (sig, ir[:2000])
        # No copy of the function: its name, or the fused multiply-adds
        # of its tiles.
        assert body not in ir
        assert "llvm.fma" not in ir


def test_the_stub_is_for_jitted_code_only():
    with pytest.raises(TypeError, match="called from jitted code only"):
        _kernels_gemm._tiles(1.0, *(0,) * 15)


_CACHE_HITS = """
import json
from fastdnn import _kernels_gemm, _kernels_gemm_dot
print(json.dumps([c.cache_hits for stub in (_kernels_gemm._tiles,
                                            _kernels_gemm_dot._dot_tiles)
                  for c in stub.versions.values()]))
"""


@pytest.mark.skipif(not _numba_config.CACHE,
                    reason="FASTDNN_NUMBA_CACHE=0: nothing is cached")
def test_a_new_process_loads_the_versions_from_the_cache(tmp_path):
    # The import compiles them into an empty cache, the next one loads
    # them (else every import would compile them again).
    assert run_json_script(_CACHE_HITS, None, tmp_path) == [0] * 4
    assert run_json_script(_CACHE_HITS, None, tmp_path) == [1] * 4
