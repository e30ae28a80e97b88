"""Kernels compiled once per dtype and called by symbol (private).

numba links the code of every jitted function a function calls into that
function's own library, where LLVM optimises it and emits its machine code
again. A function deep in the call graph is so compiled once for every
function above it: the GEMM's two tile loops were in 34 and 31 of the 121
libraries of the MNIST shape's first mini-batch fit (``python
benchmarks/compile_breakdown.py W1-momentum``), a fifth of the LLVM
instructions of that compilation.

:func:`by_symbol` compiles such a function once per float dtype as a C
function (``numba.cfunc``, cached on disk as the kernels are) and hands
its address to LLVM under a name of its own. The returned stub, called
from jitted code, calls that name: its callers' libraries only declare it,
and the function's code is compiled once per dtype in a process (loaded
from the cache after). Both dtypes are compiled, or loaded, when the
defining module is imported, before any caller is compiled or loaded from
the cache: a cached caller's machine code names the symbol, which must be
known when it is linked.

For functions whose arguments are all scalars (addresses, strides,
counts; the first a float of the dtype, which picks the version) and
whose work per call dwarfs the call: the code, and so its results, are
those of the same function compiled inside its caller.

:func:`fastdnn._kernels_by_symbol_arrays.arrays_by_symbol` does the same
for jitted kernels that take arrays.
"""
import inspect

from . import _numba_config as cfg
from ._kernels_common import _NO_NRT

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from llvmlite import binding as llvm_binding  # noqa: E402
from numba.core import types  # noqa: E402
from numba.extending import overload  # noqa: E402

#: The versions :func:`by_symbol` compiles: the type of the first
#: argument.
FLOAT_TYPES = (types.float32, types.float64)


#: The compile options of the C functions unless given: those of the leaf
#: kernels that compute exactly (``_kernels_common._exact_leaf``), the
#: cache switch apart (a C function takes it on its own).
LEAF_OPTIONS = {k: v for k, v in _NO_NRT.items() if k != "cache"}

#: Every C function compiled here, for the life of the process: LLVM holds
#: their addresses under their symbols, which compiled callers go on
#: calling whatever becomes of the stubs (a module reloaded).
_COMPILED = []


def symbol_name(name, float_type):
    """The symbol of ``name``'s version for ``float_type`` (a numba type)."""
    return "fastdnn_%s_%s" % (name, float_type)


def compile_as_symbol(py_func, signature, symbol, options):
    """``py_func`` compiled as a C function of ``signature`` with numba's
    ``options`` (cached on disk as the kernels are), its address handed to
    LLVM as ``symbol`` and kept for the life of the process: the
    ``numba.cfunc``, whose callers then call it by that name."""
    compiled = numba.cfunc(signature, cache=cfg.CACHE, **options)(py_func)
    llvm_binding.add_symbol(symbol, compiled.address)
    _COMPILED.append(compiled)
    return compiled


def by_symbol(py_func, name, arg_types=None, **options):
    """Compile ``py_func(x, *args)`` once per float dtype, ``x`` a float of
    that dtype and ``args`` of ``arg_types`` (numba scalar types; by
    default every one an ``intp``, as many as ``py_func`` takes), and
    return a stub for jitted code that calls the version of ``x``'s dtype
    by its symbol (:func:`symbol_name`).

    ``options`` are numba's compile options over :data:`LEAF_OPTIONS`
    (``fastmath``, say, for a function that would otherwise be one of the
    element-wise kernels). The stub's ``versions`` maps each numba float
    type to its compiled ``numba.cfunc``. Under ``NUMBA_DISABLE_JIT`` the
    Python function itself is returned.
    """
    if numba.config.DISABLE_JIT:
        return py_func
    if arg_types is None:
        arguments = len(inspect.signature(py_func).parameters)
        arg_types = (types.intp,) * (arguments - 1)
    options = dict(LEAF_OPTIONS, **options)
    versions = {}
    externals = {}
    for float_type in FLOAT_TYPES:
        signature = types.void(float_type, *arg_types)
        symbol = symbol_name(name, float_type)
        versions[float_type] = compile_as_symbol(py_func, signature, symbol,
                                                 options)
        externals[float_type] = types.ExternalFunction(symbol, signature)

    def stub(*args):
        raise TypeError("%s is called from jitted code only (its compiled "
                        "versions: the stub's 'versions')" % name)

    @overload(stub, jit_options=dict(_nrt=False))
    def _call(x, *args):
        if x not in externals:
            return None  # not a float of a compiled dtype: no match
        external = externals[x]

        def call(x, *args):
            external(x, *args)
        return call

    stub.__name__ = stub.__qualname__ = name
    stub.versions = versions
    return stub
