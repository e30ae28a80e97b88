"""The in-register transpose of a square block (private), with which
fastdnn's GEMM packs a transposed operand: one LLVM function of vector
loads, shuffles and stores (numba's loops would move one element at a
time)."""
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._kernels_gemm_tile import _vector_types


@intrinsic
def transpose_block(typingctx, zero, src, lds, dst, ldd):
    """dst[c, r] = src[r, c] for a square block of ``lanes`` rows and
    columns (16 in float32 with AVX-512).

    ``zero`` gives the type; ``src`` and ``dst`` are addresses, ``lds`` and
    ``ldd`` their row strides in elements (unit column strides). The rows
    are loaded as vectors and transposed in registers: log2(lanes) rounds,
    each swapping the off-diagonal b x b blocks of every 2b x 2b block (b =
    lanes / 2, ..., 1) with one shuffle per row, then stored as vectors.
    """
    if not isinstance(zero, types.Float):
        return None
    sig = types.void(zero, types.intp, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        _, src_addr, lds_v, dst_addr, ldd_v = args
        (_, itemsize, n, _, vector_type, vector_ptr, fptr,
         _) = _vector_types(context, builder, signature.args[0])
        i64 = ir.IntType(64)
        src_ptr = builder.inttoptr(src_addr, fptr)
        dst_ptr = builder.inttoptr(dst_addr, fptr)
        rows = []
        for r in range(n):
            p = builder.bitcast(builder.gep(src_ptr, [builder.mul(
                i64(r), lds_v)]), vector_ptr)
            ld = builder.load(p)
            ld.align = itemsize
            rows.append(ld)
        b = n // 2
        while b >= 1:
            new = list(rows)
            for i in range(n):
                if (i // b) % 2:
                    continue
                # Lanes 0..2n-1 index the pair (rows[i], rows[i + b]).
                first = [lane if (lane // b) % 2 == 0 else n + lane - b
                         for lane in range(n)]
                second = [lane + b if (lane // b) % 2 == 0 else n + lane
                          for lane in range(n)]
                for out, mask in ((i, first), (i + b, second)):
                    new[out] = builder.shuffle_vector(
                        rows[i], rows[i + b],
                        ir.Constant(ir.VectorType(ir.IntType(32), n), mask))
            rows = new
            b //= 2
        for r in range(n):
            p = builder.bitcast(builder.gep(dst_ptr, [builder.mul(
                i64(r), ldd_v)]), vector_ptr)
            st = builder.store(rows[r], p)
            st.align = itemsize
        return context.get_dummy_value()
    return sig, codegen
