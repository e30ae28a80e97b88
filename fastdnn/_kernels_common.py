"""The building blocks of the numba kernels (private): the compile flags
of each kind of kernel, and the cache-line helpers (a prefetch hint, the
elements per line).
"""
from . import _numba_config as cfg

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba.core import cgutils, types  # noqa: E402
from numba.extending import intrinsic  # noqa: E402
from llvmlite import ir  # noqa: E402

#: Element-wise kernels and sums whose order is spelled out: fused
#: multiply-adds only.
_serial = numba.njit(fastmath=cfg.FASTMATH_ELEMENTWISE, **cfg.JIT_KW)
#: Reductions that LLVM may keep in SIMD lanes (reassoc + contract).
_serial_sum = numba.njit(fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
#: Bit for bit the reference's operations: no fastmath at all.
_exact = numba.njit(**cfg.JIT_KW)
#: Compile options without numba's reference counting (NRT).
_NO_NRT = dict(cfg.JIT_KW, _nrt=False)
#: The same three kinds for leaf kernels: called with arrays their caller
#: owns, they allocate nothing and return no array, so they need no
#: reference counting. Without it, the row views they take and the arrays
#: passed to them cost no atomic reference count updates (about half of a
#: training step of a 16-unit network otherwise).
_serial_leaf = numba.njit(fastmath=cfg.FASTMATH_ELEMENTWISE, **_NO_NRT)
_serial_sum_leaf = numba.njit(fastmath=cfg.FASTMATH_SUM, **_NO_NRT)
_exact_leaf = numba.njit(**_NO_NRT)
#: Training loops that take views of their caller's buffers and pass them
#: to kernels, allocating nothing themselves: no reference counting
#: either (each view would cost two atomic updates; a mini-batch step of a
#: 16-unit network takes some forty). The kernels they call that allocate
#: state ``_nrt=True`` (``cfg.JIT_KW``) and count their own references.
_exact_loop = _exact_leaf
#: Parallel kernels (blocks fixed by the shapes; see _kernels).
_parallel = numba.njit(fastmath=cfg.FASTMATH_SUM, **cfg.PARALLEL_JIT_KW)
#: Parallel loops that compute nothing themselves (each kernel they call
#: keeps its own flags).
_exact_parallel = numba.njit(**cfg.PARALLEL_JIT_KW)


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
