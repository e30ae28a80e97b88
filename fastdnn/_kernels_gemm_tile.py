"""The register tile of fastdnn's matrix product (private): one LLVM
loop that keeps an ``MR x NR`` block of C in vector registers while it
runs over the summed axis.

numba writes no SIMD code of its own, and LLVM's loop vectoriser does not
keep a block of C in registers across a loop (it would load and store C at
every step, which halves the speed). So the tile is written directly in
LLVM IR, with vector types and ``llvm.fma``: for each k, ``NV`` vectors of
B's row k are loaded, each of the ``MR`` entries of A's column k is
broadcast, and ``MR x NV`` fused multiply-adds update the accumulators.

Each element of C is the sum over k = 0, 1, ..., K-1, in that order, of
one fused multiply-add per term: the same bits whatever tile, thread or
host runs it (the vector width changes which lanes hold which columns,
never the order of a column's sum).

The tile shape follows the host's registers: with AVX-512 (32 vector
registers of 64 bytes), 8 rows by two 64-byte vectors (16 accumulators);
otherwise 6 rows by two 32-byte vectors (12 accumulators plus the loads fit
the 16 registers of AVX2).
"""
import llvmlite.binding as llvm_binding
import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


def _target_features():
    # The features numba compiles for: its own override when set
    # (NUMBA_CPU_FEATURES), else the host's.
    if numba.config.CPU_FEATURES is not None:
        return str(numba.config.CPU_FEATURES)
    return llvm_binding.get_host_cpu_features().flatten()


_FEATURES = set(_target_features().split(","))
#: Whether numba compiles for a host with AVX-512 (32 registers of 64 bytes).
HAS_AVX512 = "+avx512f" in _FEATURES
#: Whether it compiles for a host with AVX2 and FMA (16 registers of 32
#: bytes, a fused multiply-add instruction): every x86-64 CPU since 2013.
HAS_AVX2_FMA = {"+avx2", "+fma"} <= _FEATURES
#: Bytes per vector register used by the tile.
VECTOR_BYTES = 64 if HAS_AVX512 else 32
#: Rows of C per tile.
MR = 8 if HAS_AVX512 else 6
#: Vectors of C per tile row.
NV = 2


def lanes(itemsize):
    """Elements per vector for elements of ``itemsize`` bytes."""
    return VECTOR_BYTES // itemsize


def tile_columns(itemsize):
    """Columns of C per tile (NR) for elements of ``itemsize`` bytes."""
    return NV * lanes(itemsize)


@intrinsic
def address(typingctx, array):
    """The address of ``array``'s first element, as an integer (unlike
    ``array.ctypes.data``, it leaves the function cacheable)."""
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(
            context, builder, args[0]).data
        return builder.ptrtoint(data, ir.IntType(64))
    return types.intp(array), codegen


def _vector_mask(builder, lane_count, first, n_valid):
    # <lane_count x i1>: lane l is on when first + l < n_valid.
    i64 = ir.IntType(64)
    index = ir.Constant(ir.VectorType(i64, lane_count),
                        [first + lane for lane in range(lane_count)])
    limit = builder.insert_element(ir.Constant(index.type, ir.Undefined),
                                   n_valid, ir.Constant(ir.IntType(32), 0))
    limit = builder.shuffle_vector(
        limit, ir.Constant(index.type, ir.Undefined),
        ir.Constant(ir.VectorType(ir.IntType(32), lane_count),
                    [0] * lane_count))
    return builder.icmp_signed("<", index, limit)


def _masked_intrinsics(module, vector_type, lane_count, suffix):
    mask_type = ir.VectorType(ir.IntType(1), lane_count)
    ptr = vector_type.as_pointer()
    load = cgutils.get_or_insert_function(
        module, ir.FunctionType(vector_type, [ptr, ir.IntType(32), mask_type,
                                              vector_type]),
        "llvm.masked.load.v%d%s.p0" % (lane_count, suffix))
    store = cgutils.get_or_insert_function(
        module, ir.FunctionType(ir.VoidType(), [vector_type, ptr,
                                                ir.IntType(32), mask_type]),
        "llvm.masked.store.v%d%s.p0" % (lane_count, suffix))
    return load, store


def _vector_types(context, builder, float_numba_type):
    # The LLVM types a tile of ``float_numba_type`` elements works with:
    # scalar, itemsize, lanes, intrinsic suffix, vector, vector pointer,
    # scalar pointer, and the vector fused multiply-add.
    float_type = context.get_value_type(float_numba_type)
    itemsize = float_numba_type.bitwidth // 8
    lane_count = lanes(itemsize)
    suffix = "f32" if itemsize == 4 else "f64"
    vector_type = ir.VectorType(float_type, lane_count)
    fma = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vector_type, [vector_type] * 3),
        "llvm.fma.v%d%s" % (lane_count, suffix))
    return (float_type, itemsize, lane_count, suffix, vector_type,
            vector_type.as_pointer(), float_type.as_pointer(), fma)


def _clamped_rows(builder, base, ld, count, n_rows):
    # Pointers to rows 0 .. n_rows - 1 of the matrix at ``base`` (row
    # stride ``ld`` elements); rows past ``count`` repeat row count - 1, so
    # that a tile at the matrix's edge reads only rows it has.
    i64 = ir.IntType(64)
    last = builder.sub(count, i64(1))
    out = []
    for r in range(n_rows):
        row = builder.select(builder.icmp_signed("<", i64(r), count),
                             i64(r), last)
        out.append(builder.gep(base, [builder.mul(row, ld)]))
    return out


def _broadcast(builder, scalar, vector_type, lane_count):
    # <lane_count x float> with every lane ``scalar``.
    i32 = ir.IntType(32)
    undef = ir.Constant(vector_type, ir.Undefined)
    first = builder.insert_element(undef, scalar, i32(0))
    return builder.shuffle_vector(first, undef, ir.Constant(
        ir.VectorType(i32, lane_count), [0] * lane_count))


def _make_tile(masked, rows):
    @intrinsic
    def tile(typingctx, alpha, c, ldc, a, as0, as1, b, ldb, K, mr, nc,
             accumulate):
        """C[:mr, :nc] = alpha (A[:mr, :K] B[:K, :nc]) for one tile, or,
        when ``accumulate`` is nonzero, alpha (C[:mr, :nc] + A B) with the
        products added to C's values one k after the other, as they would
        have been had the tile gone on summing: a product taken in blocks
        of the summed axis, C holding the unscaled sums between blocks and
        alpha 1 for all but the last, has the bits of one pass.

        ``alpha`` (float32 or float64) gives the type, and multiplies each
        finished sum once before it is stored (1 leaves it as it is: the
        backward pass's 1/m is applied here rather than in a pass of its
        own); ``c``, ``a``, ``b`` are addresses; ``ldc`` and ``ldb`` the
        row strides of C and B and ``as0``, ``as1`` the strides of A, all
        in elements (B and C have unit column stride). ``mr`` rows are
        stored, at most the tile's (MR, or fewer for the short tiles of
        C's last row block; the missing rows repeat A's last row,
        unstored); ``nc`` <= NR columns are read and stored when
        ``masked``, else all NR.
        """
        if not isinstance(alpha, types.Float):
            return None
        sig = types.void(alpha, types.intp, types.intp, types.intp,
                         types.intp, types.intp, types.intp, types.intp,
                         types.intp, types.intp, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            (alpha_v, c_addr, ldc_v, a_addr, as0_v, as1_v, b_addr, ldb_v,
             k_count, mr_v, nc_v, accumulate_v) = args
            (float_type, itemsize, lane_count, suffix, vector_type,
             vector_ptr, fptr, fma) = _vector_types(context, builder,
                                                    signature.args[0])
            i64 = ir.IntType(64)
            i32 = ir.IntType(32)
            c_ptr = builder.inttoptr(c_addr, fptr)
            a_ptr = builder.inttoptr(a_addr, fptr)
            b_ptr = builder.inttoptr(b_addr, fptr)
            masks = [None] * NV
            if masked:
                load_m, store_m = _masked_intrinsics(
                    builder.module, vector_type, lane_count, suffix)
                masks = [_vector_mask(builder, lane_count, v * lane_count,
                                      nc_v) for v in range(NV)]
            align = i32(itemsize)
            zero_v = ir.Constant(vector_type, [ir.Constant(float_type, 0.0)]
                                 * lane_count)

            def load_columns(row, v):
                # Vector v of the tile's columns from ``row`` (a row of B
                # or of C): masked at C's right edge.
                p = builder.bitcast(builder.gep(row, [i64(v * lane_count)]),
                                    vector_ptr)
                if masked:
                    return builder.call(load_m, [p, align, masks[v], zero_v])
                ld = builder.load(p)
                ld.align = itemsize
                return ld

            # Rows past mr read A's last stored row (never stored).
            a_rows = _clamped_rows(builder, a_ptr, as0_v, mr_v, rows)
            # The sums start from zero, or from C's values (rows past mr
            # from its last row, never stored).
            start = builder.block
            load_c = builder.append_basic_block("tile.load_c")
            pre = builder.append_basic_block("tile.start")
            builder.cbranch(builder.icmp_signed("!=", accumulate_v, i64(0)),
                            load_c, pre)
            builder.position_at_end(load_c)
            c_rows = _clamped_rows(builder, c_ptr, ldc_v, mr_v, rows)
            loaded = [load_columns(c_rows[r], v)
                      for r in range(rows) for v in range(NV)]
            builder.branch(pre)
            builder.position_at_end(pre)
            init = []
            for index in range(rows * NV):
                phi = builder.phi(vector_type)
                phi.add_incoming(zero_v, start)
                phi.add_incoming(loaded[index], load_c)
                init.append(phi)
            loop = builder.append_basic_block("tile.loop")
            done = builder.append_basic_block("tile.done")
            builder.cbranch(builder.icmp_signed(">", k_count, i64(0)),
                            loop, done)

            builder.position_at_end(loop)
            k = builder.phi(i64)
            acc = [[builder.phi(vector_type) for _ in range(NV)]
                   for _ in range(rows)]
            b_row = builder.gep(b_ptr, [builder.mul(k, ldb_v)])
            b_vec = [load_columns(b_row, v) for v in range(NV)]
            a_k = builder.mul(k, as1_v)
            new = []
            for r in range(rows):
                s = _broadcast(builder, builder.load(
                    builder.gep(a_rows[r], [a_k])), vector_type, lane_count)
                new.append([builder.call(fma, [s, b_vec[v], acc[r][v]])
                            for v in range(NV)])
            k_next = builder.add(k, i64(1))
            k.add_incoming(i64(0), pre)
            k.add_incoming(k_next, loop)
            for r in range(rows):
                for v in range(NV):
                    acc[r][v].add_incoming(init[r * NV + v], pre)
                    acc[r][v].add_incoming(new[r][v], loop)
            builder.cbranch(builder.icmp_signed("<", k_next, k_count),
                            loop, done)

            builder.position_at_end(done)
            sums = []
            for r in range(rows):
                for v in range(NV):
                    phi = builder.phi(vector_type)
                    phi.add_incoming(init[r * NV + v], pre)
                    phi.add_incoming(new[r][v], loop)
                    sums.append(phi)
            scale = _broadcast(builder, alpha_v, vector_type, lane_count)
            sums = [builder.fmul(value, scale) for value in sums]
            for r in range(rows):
                row_ptr = builder.gep(c_ptr, [builder.mul(i64(r), ldc_v)])
                with builder.if_then(builder.icmp_signed("<", i64(r), mr_v),
                                     likely=True):
                    for v in range(NV):
                        p = builder.bitcast(
                            builder.gep(row_ptr, [i64(v * lane_count)]),
                            vector_ptr)
                        value = sums[r * NV + v]
                        if masked:
                            builder.call(store_m, [value, p, align, masks[v]])
                        else:
                            st = builder.store(value, p)
                            st.align = itemsize
            return context.get_dummy_value()
        return sig, codegen
    return tile


#: A whole tile: all NR columns of B are read and of C stored.
tile_full = _make_tile(masked=False, rows=MR)
#: A tile at C's right edge: ``nc`` < NR columns, with masked loads/stores.
tile_edge = _make_tile(masked=True, rows=MR)

#: Rows of the short tiles, for C's last row block when it has at most
#: that many rows: a tile's time goes with its rows, stored or not (the
#: float64 digits' 10-row output layer, 10 x 64 by 64 x 1797 on two Zen 4
#: threads: 43.0 us with a whole tile for its last 2 rows, 25.5 with a
#: 2-row one; 8 rows alone 19.2). Each element is summed by the same chain
#: of fused multiply-adds in any tile: the same bits.
SHORT_ROWS = (2, 4)
#: tile_full and tile_edge with SHORT_ROWS[0] and SHORT_ROWS[1] rows.
tile_full_2 = _make_tile(masked=False, rows=SHORT_ROWS[0])
tile_edge_2 = _make_tile(masked=True, rows=SHORT_ROWS[0])
tile_full_4 = _make_tile(masked=False, rows=SHORT_ROWS[1])
tile_edge_4 = _make_tile(masked=True, rows=SHORT_ROWS[1])


#: Tile of the dot-product form: rows of A by rows of B^T (16 accumulators
#: and 8 loaded vectors of the 32 registers of AVX-512; 9 and 6 of the 16
#: of AVX2).
DOT_MR = 4 if HAS_AVX512 else 3
DOT_NR = DOT_MR


def _tree_sums(builder, vectors, lane_count):
    # The lanes of each vector summed pairwise, halves first (lane t plus
    # lane t + w/2 of each remaining width w): a fixed order. Vectors are
    # reduced two at a time, the halves of both packed into one vector by
    # two shuffles and added once: 16 float64 sums (8 lanes) take 14
    # vector additions and 28 shuffles, against 48 and 96 one vector at a
    # time (over the cat's 209 examples that was a quarter of the tile's
    # time). Each sum is formed by the same additions of the same lanes as
    # when its vector is summed alone: the bits do not depend on packing.
    # Returns (vector, ids) pairs: lane l of a vector holds the sum of
    # vectors[ids[l]] (None: a lane of zeros).
    i32 = ir.IntType(32)
    zero = ir.Constant(vectors[0].type, [ir.Constant(
        vectors[0].type.element, 0.0)] * lane_count)
    # Each entry: a vector and the indices of the sums it holds, in the
    # order of its lane blocks (None: a block of zeros).
    groups = [(v, [n]) for n, v in enumerate(vectors)]
    width = lane_count
    while width > 1:
        half = width // 2
        count = lane_count // width  # sums a vector holds
        # The lanes of a pair (first, second) holding the low and the high
        # half of each of their sums.
        low_lanes, high_lanes = (ir.Constant(ir.VectorType(i32, lane_count), [
            vec * lane_count + j * width + offset + t
            for vec in (0, 1) for j in range(count) for t in range(half)])
            for offset in (0, half))
        merged = []
        for g in range(0, len(groups), 2):
            first, first_ids = groups[g]
            if g + 1 < len(groups):
                second, second_ids = groups[g + 1]
            else:  # an odd one out: paired with zeros
                second, second_ids = zero, [None] * count
            low = builder.shuffle_vector(first, second, low_lanes)
            high = builder.shuffle_vector(first, second, high_lanes)
            merged.append((builder.fadd(low, high), first_ids + second_ids))
        groups = merged
        width = half
    return groups


def _store_dot_rows(builder, groups, alpha_v, c_base, ldc_v, row_length,
                    itemsize):
    # The sums of a whole dot tile times alpha, stored a row at a time from
    # the vectors _tree_sums left them in: with the tile's rows an exact
    # part of a vector, each row is a run of lanes (one multiply per vector
    # and one store per row, where extracting each sum cost a shuffle, a
    # multiply, a compare and a store). The same multiplies: the same bits.
    i32 = ir.IntType(32)
    i64 = ir.IntType(64)
    vector_type = groups[0][0].type
    alpha_vec = _broadcast(builder, alpha_v, vector_type, vector_type.count)
    row_type = ir.VectorType(vector_type.element, row_length)
    for vector, ids in groups:
        scaled = builder.fmul(vector, alpha_vec)
        for lane in range(0, len(ids), row_length):
            r = ids[lane] // row_length
            assert ids[lane:lane + row_length] == list(
                range(r * row_length, (r + 1) * row_length))
            row = builder.shuffle_vector(scaled, scaled, ir.Constant(
                ir.VectorType(i32, row_length),
                list(range(lane, lane + row_length))))
            ptr = builder.bitcast(builder.gep(c_base, [builder.mul(
                i64(r), ldc_v)]), row_type.as_pointer())
            st = builder.store(row, ptr)
            st.align = itemsize


@intrinsic
def dot_tile(typingctx, alpha, c, ldc, a, lda, bt, ldb, K, mr, nc):
    """C[r, s] = alpha sum_k A[r, k] B^T[s, k] for r < ``mr`` <= DOT_MR and
    s < ``nc`` <= DOT_NR: the product with both operands contiguous along
    the summed axis (no copy of a transposed B).

    ``alpha`` gives the type and multiplies each finished sum once, as in
    the register tile; ``c``, ``a``, ``bt`` are addresses, ``ldc``,
    ``lda``, ``ldb`` row strides in elements (unit column strides). Lane l
    of an accumulator sums the terms k = l (mod lanes) in order, with fused
    multiply-adds; the lanes are then added pairwise, halves first: a
    fixed order.
    """
    if not isinstance(alpha, types.Float):
        return None
    sig = types.void(alpha, *([types.intp] * 9))

    def codegen(context, builder, signature, args):
        (alpha_v, c_addr, ldc_v, a_addr, lda_v, b_addr, ldb_v, k_count, mr_v,
         nc_v) = args
        (float_type, itemsize, lane_count, suffix, vector_type, vector_ptr,
         fptr, fma) = _vector_types(context, builder, signature.args[0])
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        load_m, _ = _masked_intrinsics(builder.module, vector_type,
                                       lane_count, suffix)
        zero_v = ir.Constant(vector_type, [ir.Constant(float_type, 0.0)]
                             * lane_count)

        a_rows = _clamped_rows(builder, builder.inttoptr(a_addr, fptr),
                               lda_v, mr_v, DOT_MR)
        b_rows = _clamped_rows(builder, builder.inttoptr(b_addr, fptr),
                               ldb_v, nc_v, DOT_NR)
        k_full = builder.sub(k_count, builder.srem(k_count, i64(lane_count)))

        def step(k, acc, mask):
            # One vector of k for every accumulator.
            def load(row):
                p = builder.bitcast(builder.gep(row, [k]), vector_ptr)
                if mask is not None:
                    return builder.call(load_m, [p, i32(itemsize), mask,
                                                 zero_v])
                ld = builder.load(p)
                ld.align = itemsize
                return ld
            a_vec = [load(row) for row in a_rows]
            new = []
            for s, row in enumerate(b_rows):
                b_vec = load(row)
                new.append([builder.call(fma, [a_vec[r], b_vec, acc[s][r]])
                            for r in range(DOT_MR)])
            return new

        pre = builder.block
        loop = builder.append_basic_block("dot.loop")
        tail = builder.append_basic_block("dot.tail")
        builder.cbranch(builder.icmp_signed(">", k_full, i64(0)), loop, tail)

        builder.position_at_end(loop)
        k = builder.phi(i64)
        acc = [[builder.phi(vector_type) for _ in range(DOT_MR)]
               for _ in range(DOT_NR)]
        new = step(k, acc, None)
        k_next = builder.add(k, i64(lane_count))
        k.add_incoming(i64(0), pre)
        k.add_incoming(k_next, loop)
        for s in range(DOT_NR):
            for r in range(DOT_MR):
                acc[s][r].add_incoming(zero_v, pre)
                acc[s][r].add_incoming(new[s][r], loop)
        builder.cbranch(builder.icmp_signed("<", k_next, k_full), loop, tail)

        builder.position_at_end(tail)
        sums = [[builder.phi(vector_type) for _ in range(DOT_MR)]
                for _ in range(DOT_NR)]
        for s in range(DOT_NR):
            for r in range(DOT_MR):
                sums[s][r].add_incoming(zero_v, pre)
                sums[s][r].add_incoming(new[s][r], loop)
        # The last K mod lanes terms, with masked loads (zeros past K add
        # 0 * 0 to the lanes, which changes nothing).
        mask = _vector_mask(builder, lane_count, 0,
                            builder.sub(k_count, k_full))
        sums = step(k_full, sums, mask)
        groups = _tree_sums(builder, [sums[s][r] for r in range(DOT_MR)
                                      for s in range(DOT_NR)], lane_count)
        c_base = builder.inttoptr(c_addr, fptr)

        def store_each():
            # Sum by sum, the tile's edge included.
            totals = [None] * (DOT_MR * DOT_NR)
            for vector, ids in groups:
                for lane, n in enumerate(ids):
                    if n is not None:
                        totals[n] = builder.extract_element(vector,
                                                            i32(lane))
            for r in range(DOT_MR):
                c_row = builder.gep(c_base, [builder.mul(i64(r), ldc_v)])
                row_ok = builder.icmp_signed("<", i64(r), mr_v)
                for s in range(DOT_NR):
                    ok = builder.and_(row_ok, builder.icmp_signed(
                        "<", i64(s), nc_v))
                    total = builder.fmul(totals[r * DOT_NR + s], alpha_v)
                    with builder.if_then(ok, likely=True):
                        builder.store(total, builder.gep(c_row, [i64(s)]))

        if lane_count % DOT_NR or (DOT_MR * DOT_NR) % lane_count:
            store_each()  # rows that straddle vectors (AVX2's 3 x 3)
        else:
            whole = builder.and_(
                builder.icmp_signed("==", mr_v, i64(DOT_MR)),
                builder.icmp_signed("==", nc_v, i64(DOT_NR)))
            with builder.if_else(whole, likely=True) as (rows, edge):
                with rows:
                    _store_dot_rows(builder, groups, alpha_v, c_base, ldc_v,
                                    DOT_NR, itemsize)
                with edge:
                    store_each()
        return context.get_dummy_value()
    return sig, codegen
