"""Two phases of tasks in one parallel region (private): atomic counters
in compiled code.

A parallel region's tasks all start together; work whose second phase
needs all of the first would otherwise take two regions, each paying its
launch and waiting at its end for its slowest task. Here the region's
workers take the first phase's tasks by numbered tickets from a shared
counter (:func:`fetch_add`), count each one done, and a worker with a
second-phase task waits (:func:`load_acquire`, :func:`spin_pause`) until
every first-phase task is done.

No wait can last forever, whatever numba's threading layer does: a worker
waits only for first-phase tasks, and each of those was taken by a worker
that runs it to its end without waiting. A region whose workers run one
after another on one thread (numba on one thread, or its other thread not
yet there) has its first worker take every ticket, and the later ones find
none left. Each task is the same computation whichever worker runs it, so
the results do not depend on the thread count either.

A region's counters are an int64 array of :data:`TICKET_SLOTS`, zeroed
before it starts: the next ticket, and the first phase's tasks done.
(:mod:`fastdnn._kernels_forward_chain` uses the same two operations for
regions of more phases, each task claimed from a counter of its own.)
"""
import platform

import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

#: Length of a region's counter array: [next ticket, first-phase tasks
#: done].
TICKET_SLOTS = 2
#: Its slots.
NEXT_TICKET = 0
FIRST_PHASE_DONE = 1


#: Whether the pause hint exists (x86-64).
_X86 = platform.machine().lower() in ("x86_64", "amd64")


def _is_counters(array_type):
    # A region's counters: a 1-D int64 array (other types are refused at
    # typing).
    return (isinstance(array_type, types.Array) and array_type.ndim == 1
            and array_type.dtype == types.int64)


def _element_pointer(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, data,
                                    [index])


@intrinsic
def _fetch_add_jit(typingctx, counters, index, value):
    # counters[index] += value as one atomic step (sequentially consistent:
    # what a task wrote before it is seen by whoever reads the new value);
    # returns the value before it.
    if not _is_counters(counters):
        return None
    sig = types.int64(counters, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0],
                               args[1])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")
    return sig, codegen


@intrinsic
def _load_acquire_jit(typingctx, counters, index):
    # counters[index], read atomically (acquire: what was written before
    # the store of that value is seen after this load).
    if not _is_counters(counters):
        return None
    sig = types.int64(counters, types.int64)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0],
                               args[1])
        return builder.load_atomic(ptr, "acquire", 8)
    return sig, codegen


@intrinsic
def _spin_pause_jit(typingctx):
    # x86's pause hint in a wait loop (yields the core's resources to a
    # sibling thread, and eases the exit from the loop); nothing elsewhere.
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []),
                "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()
    return sig, codegen


def _fetch_add_python(counters, index, value):
    # NUMBA_DISABLE_JIT=1: one thread, plain arithmetic.
    old = int(counters[index])
    counters[index] = old + value
    return old


def _load_acquire_python(counters, index):
    return int(counters[index])


def _spin_pause_python():
    pass


if numba.config.DISABLE_JIT:
    fetch_add = _fetch_add_python
    load_acquire = _load_acquire_python
    spin_pause = _spin_pause_python
else:
    fetch_add = _fetch_add_jit
    load_acquire = _load_acquire_jit
    spin_pause = _spin_pause_jit
