"""Jitted kernels that take arrays, compiled once per version and called
by symbol (private).

:func:`arrays_by_symbol` does for a kernel of C-ordered rows and matrices
(or strided ones) of one float dtype what
:func:`fastdnn._kernels_by_symbol.by_symbol` does for functions of
scalars: its callers' array arguments go by address, shape and strides to
a C function that views them as arrays again (:func:`row_at`,
:func:`indices_at`, :func:`matrix_at`, :func:`strided_at`) and runs the
kernel's own code, compiled once for that dtype; its callers' libraries
only declare it. The element-wise row kernels, the bias-and-activation and
dZ/db row blocks, the softmax columns, the other outputs' cost and dZ,
the optimizer's chunk, the products' task and the mini-batch's gather are
so called: numba would otherwise compile each of them again inside every
function above it (``python benchmarks/compile_breakdown.py``).

Unlike the scalar functions, these compile lazily, each version when a
caller is first compiled for it: a run compiles only its dtype's, and an
optimizer without a second moment none of Adam's code. A caller loaded
from numba's cache names its symbols in its machine code without being
compiled: :func:`_install_load_hook` has numba compile, or load, every
pending version a cached function names before linking it.
"""
import inspect

import numpy as np

from ._kernels_by_symbol import (FLOAT_TYPES, LEAF_OPTIONS, compile_as_symbol,
                                 symbol_name)
from ._kernels_gemm_tile import address

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba.core import cgutils, types  # noqa: E402
from numba.extending import intrinsic, overload  # noqa: E402
from numba.np.arrayobj import make_array, populate_array  # noqa: E402


def _view_at(context, builder, array_type, address_value, shape,
             strides=None):
    # An array of array_type over the memory at the integer address, of the
    # given shape and strides in bytes (intp values; C order's without
    # strides): its fields written directly, no owner (the caller's array
    # keeps the memory alive).
    float_type = context.get_data_type(array_type.dtype)
    item = context.get_abi_sizeof(float_type)
    if strides is None:
        strides = []
        stride = context.get_constant(types.intp, item)
        for extent in reversed(shape):
            strides.insert(0, stride)
            stride = builder.mul(stride, extent)
    view = make_array(array_type)(context, builder)
    populate_array(view, data=builder.inttoptr(address_value,
                                               float_type.as_pointer()),
                   shape=shape, strides=strides,
                   itemsize=context.get_constant(types.intp, item),
                   meminfo=None, parent=None)
    return view._getvalue()


def _view(scalars, x, ndim, layout):
    # The typing and code of a view intrinsic: scalars are the address,
    # the ndim extents and, for layout "A", the ndim strides in bytes (C
    # order's otherwise); x a float of the elements' type.
    if not (all(isinstance(t, types.Integer) for t in scalars)
            and isinstance(x, types.Float)):
        return None
    array_type = types.Array(x, ndim, layout)
    count = len(scalars)

    def codegen(context, builder, signature, args):
        values = [context.cast(builder, value, kind, types.intp)
                  for value, kind in zip(args[1:count],
                                         signature.args[1:count])]
        return _view_at(context, builder, array_type, args[0],
                        values[:ndim], values[ndim:] or None)
    return array_type(*scalars, x), codegen


@intrinsic
def row_at(typingctx, addr, n, x):
    """The 1-D C-ordered array of ``n`` elements of ``x``'s type at the
    integer address ``addr`` (a row its caller passed by address)."""
    return _view((addr, n), x, 1, "C")


@intrinsic
def matrix_at(typingctx, addr, rows, columns, x):
    """The (rows, columns) C-ordered array of ``x``'s type at the integer
    address ``addr``."""
    return _view((addr, rows, columns), x, 2, "C")


@intrinsic
def indices_at(typingctx, addr, n):
    """The 1-D C-ordered int64 array of ``n`` elements at the integer
    address ``addr`` (a row of indices its caller passed by address)."""
    if not all(isinstance(t, types.Integer) for t in (addr, n)):
        return None
    array_type = types.Array(types.int64, 1, "C")

    def codegen(context, builder, signature, args):
        length = context.cast(builder, args[1], signature.args[1],
                              types.intp)
        return _view_at(context, builder, array_type, args[0], [length])
    return array_type(addr, n), codegen


@intrinsic
def strided_at(typingctx, addr, rows, columns, row_stride, column_stride,
               x):
    """The (rows, columns) array of ``x``'s type at the integer address
    ``addr`` with the given strides in bytes, of any layout (numba's
    "A")."""
    return _view((addr, rows, columns, row_stride, column_stride), x, 2,
                 "A")


#: How a caller passes an array argument to the symbol, by kind: the
#: expressions of the argument's name, every one an intp (a row, or a row
#: of int64 indices: its address and length; a matrix: its address, rows
#: and columns; a strided matrix, of any layout: those and its two strides
#: in bytes).
_PASSED = {"row": ("address(%s)", "%s.shape[0]"),
           "indices": ("address(%s)", "%s.shape[0]"),
           "matrix": ("address(%s)", "%s.shape[0]", "%s.shape[1]"),
           "strided": ("address(%s)", "%s.shape[0]", "%s.shape[1]",
                       "%s.strides[0]", "%s.strides[1]")}
#: The type of a scalar argument, by kind, given the float type.
_SCALAR_TYPES = {"int": lambda f: types.int64, "float": lambda f: f,
                 "flag": lambda f: types.boolean}


def _symbol_types(kind, float_type):
    # The symbol's argument types for a kernel argument of kind (a row or
    # None, "row?", goes as a row when given).
    kind = "row" if kind == "row?" else kind
    if kind in _PASSED:
        return (types.intp,) * len(_PASSED[kind])
    return (_SCALAR_TYPES[kind](float_type),)


def _matches(kind, value_type, float_type):
    # Whether a caller's argument of value_type goes to the symbol as kind.
    if kind == "row?":
        if isinstance(value_type, types.Optional):
            value_type = value_type.type
        return (isinstance(value_type, types.NoneType)
                or _matches("row", value_type, float_type))
    if kind == "strided":
        # The layout the kernel was written for ("A": read through its
        # strides); an array of another is compiled inline, as before.
        return (isinstance(value_type, types.Array)
                and value_type.dtype == float_type
                and value_type.layout == "A" and value_type.ndim == 2)
    if kind == "indices":
        return (isinstance(value_type, types.Array)
                and value_type.dtype == types.int64
                and value_type.layout == "C" and value_type.ndim == 1)
    if kind in ("row", "matrix"):
        return (isinstance(value_type, types.Array)
                and value_type.dtype == float_type
                and value_type.layout == "C"
                and value_type.ndim == (1 if kind == "row" else 2))
    if kind == "int":
        return isinstance(value_type, types.Integer)
    if kind == "float":
        # The dtype's own: another would be cast, where the kernel would
        # compute with it as it is.
        return value_type == float_type
    return isinstance(value_type, types.Boolean)


def _source(name, params, call, lines=()):
    # A function of params that runs lines and returns call (numba's
    # overloads take the kernel's own argument names).
    return "def %s(%s):\n%s    return %s\n" % (
        name, ", ".join(params), "".join("    %s\n" % line for line in lines),
        call)


@intrinsic
def optional_row(typingctx, row):
    """``(address, length, True)`` of a row, ``(0, 0, False)`` for None: a
    "row?" argument as :func:`arrays_by_symbol`'s symbols take it. An
    intrinsic because numba types a call with an optional array (a row
    that may be None at run time) in a way its intrinsics cannot take."""
    array_type = row.type if isinstance(row, types.Optional) else row
    if not (isinstance(row, types.NoneType)
            or (isinstance(array_type, types.Array)
                and array_type.ndim == 1)):
        return None
    tuple_type = types.Tuple((types.intp, types.intp, types.boolean))

    def codegen(context, builder, signature, args):
        kind = signature.args[0]
        zero = context.get_constant(types.intp, 0)
        if isinstance(kind, types.NoneType):
            values = [zero, zero, context.get_constant(types.boolean, False)]
        else:
            if isinstance(kind, types.Optional):
                optional = context.make_helper(builder, kind, value=args[0])
                present = cgutils.as_bool_bit(builder, optional.valid)
                array_value = optional.data
            else:
                present = context.get_constant(types.boolean, True)
                array_value = args[0]
            array = context.make_array(array_type)(context, builder,
                                                   array_value)
            start = builder.ptrtoint(array.data, zero.type)
            length = builder.extract_value(array.shape, 0)
            values = [builder.select(present, start, zero),
                      builder.select(present, length, zero), present]
        return context.make_tuple(builder, tuple_type, values)
    return tuple_type(row), codegen


#: ``{symbol (bytes): function that compiles or loads it and registers
#: it}`` for the versions of :func:`arrays_by_symbol`'s kernels not yet
#: registered in this process.
_PENDING = {}


def _byte_strings(value):
    # The bytes objects in a cached compile result's payload (nested
    # tuples): its machine code, which names the symbols it calls.
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _byte_strings(item)


def _install_load_hook():
    # Before numba links a compiled function loaded from its cache, every
    # pending symbol its machine code names is compiled (or loaded) and
    # registered: LLVM aborts the process on a symbol it cannot resolve.
    # Returns False where numba lacks the cache class this wraps.
    try:
        from numba.core import caching
        impl = caching.CompileResultCacheImpl
        original = impl.rebuild
    except (ImportError, AttributeError):
        return False
    if getattr(original, "_fastdnn_hook", False):
        return True

    def rebuild(self, target_context, payload):
        if _PENDING:
            for code in _byte_strings(payload[0]):
                for symbol in [s for s in _PENDING if s in code]:
                    ensure = _PENDING.get(symbol)
                    if ensure is not None:
                        ensure()
        return original(self, target_context, payload)

    rebuild._fastdnn_hook = True
    impl.rebuild = rebuild
    return True


#: Whether :func:`arrays_by_symbol`'s kernels compile when first used
#: (else when their module is imported, both dtypes).
LAZY = _install_load_hook()


def arrays_by_symbol(jitted, body, name, kinds, restype=types.void,
                     body_without=None):
    """A stub for jitted code that calls ``jitted`` by symbol when its
    arrays are C-ordered and of one float dtype.

    ``kinds`` names each argument of ``jitted``: ``"row"`` (a 1-D array),
    ``"indices"`` (a 1-D int64 array), ``"matrix"`` (2-D), ``"strided"``
    (2-D of numba's layout "A", read through its strides), ``"int"``,
    ``"float"`` (of the arrays' dtype), ``"flag"`` (a bool) or, for one
    argument at most, ``"row?"`` (a row or None). ``body(x, ...)`` is the
    C function's code, ``x`` a float of the dtype, then each argument as
    :data:`_PASSED` passes it; it views the arrays with :func:`row_at`,
    :func:`indices_at`, :func:`matrix_at` and :func:`strided_at` and
    returns ``jitted``'s result (of ``restype``, a numba type, or
    ``"float"`` for the arrays' dtype). With a "row?",
    ``body_without`` is the code for that argument None (not passed): a
    kernel compiled for None holds none of the code it would run on the
    row. The C function takes :data:`LEAF_OPTIONS`: it only views and
    calls, and ``jitted`` states its own flags. Other arguments (other
    layouts, dtypes) compile ``jitted`` into the caller as before; called
    from Python, the stub calls ``jitted``.

    A version (a dtype, with the row or without) is compiled, or loaded
    from numba's cache, when a caller is first typed for it or loaded from
    the cache (:data:`LAZY`): a first run compiles only the versions it
    calls. The stub's ``version(float_type, with_row=True)`` returns that
    version's ``CFunc`` (compiling it if need be); ``versions`` holds
    those made so far; ``jitted`` is the kernel.
    """
    if numba.config.DISABLE_JIT:
        return jitted

    params = list(inspect.signature(jitted.py_func).parameters)
    if len(params) != len(kinds) or kinds.count("row?") > 1 or (
            ("row?" in kinds) != (body_without is not None)):
        raise ValueError("%s: one kind for each of its %d arguments, one "
                         "'row?' at most, and body_without with it"
                         % (name, len(params)))
    versions = {}
    signatures = {}
    # (float type, with the row): the symbol's name and the C function.
    variants = [(f, True) for f in FLOAT_TYPES] + (
        [(f, False) for f in FLOAT_TYPES] if body_without else [])

    def version(float_type, with_row=True):
        key = (float_type, with_row)
        if key not in versions:
            symbol = _variant_symbol(name, key)
            versions[key] = compile_as_symbol(
                body if with_row else body_without, signatures[key], symbol,
                LEAF_OPTIONS)
            _PENDING.pop(symbol.encode(), None)
        return versions[key]

    namespace = {"jitted": jitted, "address": address,
                 "optional_row": optional_row}
    for key in variants:
        float_type, with_row = key
        expanded = [t for kind in kinds if with_row or kind != "row?"
                    for t in _symbol_types(kind, float_type)]
        result = float_type if restype == "float" else restype
        signatures[key] = result(float_type, *expanded)
        symbol = _variant_symbol(name, key)
        namespace["external_%s_%s" % key] = types.ExternalFunction(
            symbol, signatures[key])
        if LAZY:
            _PENDING[symbol.encode()] = (
                lambda key=key: version(*key))
        else:
            version(*key)

    # Generated: numba's overloads take the kernel's own argument names, so
    # the typing function and the implementations spell them out.
    exec(_source("inline", params, "jitted(%s)" % ", ".join(params)),
         namespace)
    lines = []
    present = None
    passed = []
    for param, kind in zip(params, kinds):
        if kind == "row?":
            # The row's address and length; whether it is given, known at
            # run time only for an optional one.
            lines.append("%s_a, %s_n, %s_is = optional_row(%s)"
                         % ((param,) * 4))
            passed.append((kind, ["%s_a" % param, "%s_n" % param]))
            present = "%s_is" % param
        else:
            passed.append((kind, [expression % param for expression
                                  in _PASSED.get(kind, ("%s",))]))
    calls = {with_row: [e for kind, exprs in passed
                        if with_row or kind != "row?" for e in exprs]
             for with_row in (True, False)}
    for float_type in FLOAT_TYPES:
        namespace["zero_%s" % float_type] = np.dtype(str(float_type)).type(0)
        for with_row in ((True, False) if body_without else (True,)):
            exec(_source("call_%s_%s" % (float_type, with_row), params,
                         "external_%s_%s(zero_%s, %s)" % (
                             float_type, with_row, float_type,
                             ", ".join(calls[with_row])),
                         lines if with_row else ()), namespace)
        if body_without:
            exec(_source("call_%s_optional" % float_type, params,
                         "external_%s_False(zero_%s, %s)" % (
                             float_type, float_type,
                             ", ".join(calls[False])),
                         lines + ["if %s:" % present,
                                  "    return external_%s_True(zero_%s, %s)"
                                  % (float_type, float_type,
                                     ", ".join(calls[True]))]),
                 namespace)

    def choose(*arg_types):
        dtypes = {t.dtype for t, kind in zip(arg_types, kinds)
                  if kind in ("row", "matrix", "strided")
                  and isinstance(t, types.Array)}
        if len(dtypes) != 1:
            return namespace["inline"]
        float_type = dtypes.pop()
        if float_type not in FLOAT_TYPES or not all(
                _matches(kind, t, float_type)
                for kind, t in zip(kinds, arg_types)):
            return namespace["inline"]
        row = [t for t, kind in zip(arg_types, kinds) if kind == "row?"]
        if row and isinstance(row[0], types.NoneType):
            version(float_type, False)
            return namespace["call_%s_False" % float_type]
        version(float_type, True)
        if row and isinstance(row[0], types.Optional):
            version(float_type, False)
            return namespace["call_%s_optional" % float_type]
        return namespace["call_%s_True" % float_type]

    exec(_source("typing", params, "choose(%s)" % ", ".join(params)),
         dict(namespace, choose=choose), namespace)

    def stub(*args):
        return jitted(*args)

    overload(stub, jit_options=dict(_nrt=False))(namespace["typing"])
    stub.__name__ = stub.__qualname__ = name
    stub.__doc__ = jitted.__doc__
    stub.versions = versions
    stub.version = version
    stub.jitted = jitted
    return stub


def _variant_symbol(name, key):
    # The symbol of a version of arrays_by_symbol's kernel: the dtype's,
    # "_without" for the one without its optional row.
    float_type, with_row = key
    return symbol_name(name if with_row else name + "_without", float_type)
