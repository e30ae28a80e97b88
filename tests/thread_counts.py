"""numba's thread count, set for a block of a test and given back after it
(exception or not): the tests that compare results across thread counts
run each count in one of these."""
import contextlib

import numba


@contextlib.contextmanager
def numba_threads(count):
    """Run the block with ``count`` numba threads (``None``: all of them),
    then restore the count it had before."""
    before = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if count is None
                          else count)
    try:
        yield
    finally:
        numba.set_num_threads(before)
