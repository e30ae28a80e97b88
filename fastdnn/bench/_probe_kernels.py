"""The kernels of the second-core probe (:func:`fastdnn.bench.machine.
core_probe`): a chain of dependent multiply-adds on registers, run as one
chain on the calling thread or as two chains in a parallel region."""
import numba
from numba import prange

from .. import _numba_config as cfg


@numba.njit(**cfg.JIT_KW)
def _chain(x, n):
    # n dependent multiply-adds: without fastmath LLVM may not reorder,
    # vectorise or remove them, so the loop takes n times an FMA's latency
    # and touches no memory.
    for _ in range(n):
        x = x * 0.9999999 + 1e-7
    return x


@numba.njit(**cfg.PARALLEL_JIT_KW)
def _two_chains(out, n):
    for q in prange(2):
        out[q] = _chain(out[q], n)


@numba.njit(**cfg.JIT_KW)
def chains(out, n, repeats, parallel):
    """``repeats`` times: two chains of ``n`` links on two threads (one
    parallel region) when ``parallel``, else one chain on this thread.
    ``out`` is a float64 array of 2 (the chains' state)."""
    for _ in range(repeats):
        if parallel:
            _two_chains(out, n)
        else:
            out[0] = _chain(out[0], n)
