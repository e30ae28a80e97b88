"""The building blocks of the numba kernels (private): the compile flags
of each kind of kernel, the cache-line helpers (a prefetch hint, the
elements per line), and the 2-D views of flat buffers the training loops
hand to the kernels.
"""
import numpy as np

from . import _numba_config as cfg
from ._kernel_dispatch import kernel_jit

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba.core import cgutils, types  # noqa: E402
from numba.core.imputils import impl_ret_borrowed  # noqa: E402
from numba.extending import intrinsic  # noqa: E402
from numba.np.arrayobj import make_array, populate_array  # noqa: E402
from llvmlite import ir  # noqa: E402

#: Constants passed to kernels where other calls pass computed values (a
#: start index of 0; task 0 of 1; a false flag), typed as those are (int64,
#: bool): numba types a bare ``0``, ``1`` or ``False`` as its own literal
#: and compiles the callee, and all it calls, once more for it.
ZERO_INT = np.int64(0)
ONE_INT = np.int64(1)
FALSE_FLAG = np.bool_(False)

#: Element-wise kernels and sums whose order is spelled out: fused
#: multiply-adds only.
_serial = kernel_jit(fastmath=cfg.FASTMATH_ELEMENTWISE, **cfg.JIT_KW)
#: Reductions that LLVM may keep in SIMD lanes (reassoc + contract).
_serial_sum = kernel_jit(fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
#: Bit for bit the reference's operations: no fastmath at all.
_exact = kernel_jit(**cfg.JIT_KW)
#: Compile options without numba's reference counting (NRT).
_NO_NRT = dict(cfg.JIT_KW, _nrt=False)
#: The same three kinds for leaf kernels: called with arrays their caller
#: owns, they allocate nothing and return no array, so they need no
#: reference counting. Without it, the row views they take and the arrays
#: passed to them cost no atomic reference count updates (about half of a
#: training step of a 16-unit network otherwise).
_serial_leaf = kernel_jit(fastmath=cfg.FASTMATH_ELEMENTWISE, **_NO_NRT)
_serial_sum_leaf = kernel_jit(fastmath=cfg.FASTMATH_SUM, **_NO_NRT)
_exact_leaf = kernel_jit(**_NO_NRT)
#: Exact leaf kernels called by symbol (fastdnn._kernels_by_symbol_arrays)
#: with fastmath off stated: numba compiles a function that does not set
#: fastmath with its caller's flags, and its first compilation for a
#: signature, in whatever caller, serves every later one and numba's cache.
#: Stated, they compute the same bits whoever compiles them first.
_exact_pinned_leaf = kernel_jit(fastmath=False, **_NO_NRT)
#: Training loops that take views of their caller's buffers and pass them
#: to kernels, allocating nothing themselves: no reference counting
#: either (each view would cost two atomic updates; a mini-batch step of a
#: 16-unit network takes some forty). The kernels they call that allocate
#: state ``_nrt=True`` (``cfg.JIT_KW``) and count their own references.
#: Python calls them: numba's own dispatcher, with its CPython wrapper
#: (the other kinds' jitted callers need none, ``_kernel_dispatch``).
_exact_loop = numba.njit(**_NO_NRT)
#: Pieces of the training loops, each called from one place in each loop
#: that runs it, inlined there (numba's IR, before typing; the loop's flags
#: are theirs, the same as _exact_loop's). Compiled on their own, each
#: would be a library of its own in which LLVM optimises and emits again
#: the code of everything it calls (``benchmarks/compile_breakdown.py``).
_exact_loop_inline = numba.njit(inline="always", **_NO_NRT)
#: Pieces inlined into their callers (``inline="always"``: a call costs
#: about as much as their work): the exact kind (the element formulas of
#: _kernels_elementwise and _kernels_math, which then take their caller's
#: flags) and the element-wise kind (fused multiply-adds only).
_inline = numba.njit(inline="always", **cfg.JIT_KW)
_inline_serial = numba.njit(inline="always",
                            fastmath=cfg.FASTMATH_ELEMENTWISE, **cfg.JIT_KW)
#: Parallel kernels (blocks fixed by the shapes; see _kernels).
_parallel = kernel_jit(fastmath=cfg.FASTMATH_SUM, **cfg.PARALLEL_JIT_KW)
#: Parallel loops that compute nothing themselves (each kernel they call
#: keeps its own flags).
_exact_parallel = kernel_jit(**cfg.PARALLEL_JIT_KW)


# ---------------------------------------------------------------- prefetch

def _prefetch_python(flat, p):
    # NUMBA_DISABLE_JIT=1: a hint only, nothing to do.
    pass


@intrinsic
def _prefetch_jit(typingctx, flat, p):
    # LLVM's prefetch hint (read, keep in all cache levels, data) for the
    # cache line holding flat[p]. Unlike a load, it does not hold up the
    # instructions after it while the line is on its way from memory.
    sig = types.void(flat, p)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(
            context, builder, args[0]).data
        ptr = builder.bitcast(builder.gep(data, [args[1]]),
                              ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return sig, codegen


_prefetch = _prefetch_python if numba.config.DISABLE_JIT else _prefetch_jit

#: Bytes per cache line (x86-64, and the unit of the touch and prefetch
#: loops below).
CACHE_LINE_BYTES = 64


@_exact
def _line_elements(a):
    """Elements of ``a`` per cache line."""
    return max(1, CACHE_LINE_BYTES // a.itemsize)


# ------------------------------------------------------------- flat views

def _flat_view_python(buf, start, n, m):
    # NUMBA_DISABLE_JIT=1: the same view through numpy.
    return buf[start:start + n * m].reshape((n, m))


@intrinsic
def _flat_view_jit(typingctx, buf, start, n, m):
    # The (n, m) C-contiguous view of buf[start:start + n * m], buf 1-D and
    # C-contiguous: the array's fields written directly. numba's
    # ``buf[a:b].reshape((n, m))`` calls a C helper (and a shape check)
    # for every view, some 14 ns; a mini-batch step of a 16-unit network
    # takes about fifty views. Unchecked: the caller keeps start + n * m
    # within buf (the training loops' offsets are laid out so).
    if not (isinstance(buf, types.Array) and buf.ndim == 1
            and buf.layout == "C" and isinstance(start, types.Integer)
            and isinstance(n, types.Integer)
            and isinstance(m, types.Integer)):
        return None
    view_type = buf.copy(ndim=2, layout="C")
    sig = view_type(buf, start, n, m)

    def codegen(context, builder, signature, args):
        source = make_array(signature.args[0])(context, builder, args[0])
        first, rows, columns = [
            context.cast(builder, value, kind, types.intp)
            for value, kind in zip(args[1:], signature.args[1:])]
        view = make_array(signature.return_type)(context, builder)
        item = source.itemsize
        populate_array(view, data=builder.gep(source.data, [first]),
                       shape=[rows, columns],
                       strides=[builder.mul(columns, item), item],
                       itemsize=item, meminfo=source.meminfo,
                       parent=source.parent)
        return impl_ret_borrowed(context, builder, signature.return_type,
                                 view._getvalue())
    return sig, codegen


#: ``flat_view(buf, start, n, m)``: the (n, m) C-contiguous view of the
#: flat buffer ``buf`` from element ``start`` (unchecked bounds).
flat_view = (_flat_view_python if numba.config.DISABLE_JIT
             else _flat_view_jit)
