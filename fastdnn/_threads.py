"""The thread count of the compiled training loops, chosen as they run.

A training loop's parallel kernels split each product and pass into parts
dealt out to numba's threads, and every part must finish before the next
kernel starts. When one core of the machine runs slower than the other
(a virtual machine whose host hands one of its cores to another guest for
a while), every kernel waits for the slow core, and one thread doing all
the parts is faster than two. :func:`run_blocks` runs a loop in blocks of
a few milliseconds, times each one, and runs the next on all threads or
on one, whichever has recently been faster, trying the other now and then.

The partition of the work does not change with the count: the kernels are
still told the caller's thread count (``nthreads``), and on one thread
numba runs all of a kernel's parts one after the other on the calling
thread. The results are therefore the same bits whatever the blocks ran
on; only the time changes. ``FASTDNN_ADAPTIVE_THREADS=0``
(:data:`fastdnn._numba_config.ADAPTIVE_THREADS`) runs every block on the
caller's count.
"""
import collections
import time

import numba

from . import _numba_config as cfg

#: Seconds of work aimed at per block: long enough for a reading that is
#: not all noise and for the cost of a call (~2 us) to vanish, short enough
#: to follow a core that slows down for a fraction of a second.
BLOCK_SECONDS = 0.005
#: On all threads, one block on one thread every EXPLORE_ONE_EVERY blocks
#: (well under 1% of the time lost when all threads are the faster).
EXPLORE_ONE_EVERY = 100
#: On one thread, one block on all threads every EXPLORE_ALL_EVERY blocks,
#: to see whether the other core is back.
EXPLORE_ALL_EVERY = 4
#: Blocks whose readings make a count's speed (the best of them).
READINGS = 3
#: The other count must be faster than the current one by this factor to
#: be switched to (readings of the same count scatter by a few percent).
MARGIN = 1.05


class ThreadGovernor:
    """Which thread count the next block runs on, from the blocks' times.

    Each count's speed is the best of its last :data:`READINGS` blocks'
    seconds per step: a block is only ever slowed by noise, so the best
    reading is the least disturbed, and it takes that many slow blocks in
    a row to make the other count look faster.

    Parameters
    ----------
    threads : int
        The caller's thread count (numba's at the start of the run).
    """

    def __init__(self, threads):
        self.threads = int(threads)
        self.current = self.threads
        self._readings = {1: collections.deque(maxlen=READINGS),
                          self.threads: collections.deque(maxlen=READINGS)}
        self._blocks_on_current = 0
        self._blocks = 0

    def seconds_per_step(self, threads):
        """The best recent reading on ``threads`` threads, or None."""
        readings = self._readings[threads]
        return min(readings) if readings else None

    def block_steps(self, remaining):
        """Steps in the next block: ~:data:`BLOCK_SECONDS` of work, at
        least 1 (the first block is a single step, to measure one)."""
        per = self.seconds_per_step(self.current)
        if per is None:
            per = self.seconds_per_step(self._other())
        if per is None or per <= 0.0:
            steps = 1
        else:
            steps = max(1, int(BLOCK_SECONDS / per))
        return min(steps, remaining)

    def _other(self):
        return 1 if self.current == self.threads else self.threads

    def record(self, steps, seconds):
        """Account a block of ``steps`` steps that took ``seconds`` on the
        current count, then choose the count of the next block."""
        if steps <= 0:
            return
        self._blocks += 1
        self._blocks_on_current += 1
        # The first block of a run pays for its buffers' first touch: it
        # sizes the blocks, its time is not kept.
        if self._blocks > 1:
            self._readings[self.current].append(seconds / steps)
            self.current = self._choose()

    def _choose(self):
        one = self.seconds_per_step(1)
        every = self.seconds_per_step(self.threads)
        if self.current == self.threads:
            if one is None or self._blocks_on_current >= EXPLORE_ONE_EVERY:
                return self._switch(1)
            if every > one * MARGIN:
                return self._switch(1)
            return self.current
        if every is None or self._blocks_on_current >= EXPLORE_ALL_EVERY:
            return self._switch(self.threads)
        if one > every * MARGIN:
            return self._switch(self.threads)
        return self.current

    def _switch(self, threads):
        self._blocks_on_current = 0
        return threads


def governor_for(governor, threads):
    """The governor of a training's next run on ``threads`` threads: the
    one of its previous runs (``governor``, None for none), whose readings
    carry over, unless that one governed another thread count."""
    if governor is None or governor.threads != threads:
        return ThreadGovernor(threads)
    return governor


#: Steps run in blocks since the process started, on one thread ("one")
#: and on more ("all"): what ``fastdnn bench`` reads around a timed run.
#: Counts only; trainings in several Python threads at once add to it
#: together.
STEPS_RUN = {"one": 0, "all": 0}


def adaptive(parallel, threads, dims, batch):
    """Whether a run is made in timed blocks (:func:`run_blocks`): allowed
    parallel kernels (``parallel``) on more than one thread, with a layer
    of ``dims`` (n_x, n_1, ..., n_L) whose product over ``batch`` examples
    is large enough to run in parallel (the others run serially, on one
    thread anyway)."""
    if not (parallel and threads > 1 and cfg.ADAPTIVE_THREADS):
        return False
    dims = [int(d) for d in dims]
    work = max(a * b for a, b in zip(dims[:-1], dims[1:])) * int(batch)
    return work >= cfg.PARALLEL_MIN_WORK


def run_blocks(call, n, threads, governor=None):
    """Run steps ``0 .. n - 1`` by calls ``call(s0, s1)`` on blocks of
    them, each on the thread count ``governor`` chooses; return the steps
    done.

    ``call(s0, s1)`` runs steps ``s0 .. s1 - 1`` and returns how many it
    completed; fewer than asked ends the run (a non-finite cost). numba's
    thread count is set for each block and given back as ``threads`` at
    the end, exception or not.
    """
    if governor is None:
        governor = ThreadGovernor(threads)
    done = 0
    try:
        while done < n:
            steps = governor.block_steps(n - done)
            count = governor.current
            numba.set_num_threads(count)
            start = time.perf_counter()
            got = int(call(done, done + steps))
            governor.record(got, time.perf_counter() - start)
            STEPS_RUN["one" if count == 1 else "all"] += max(got, 0)
            done += got
            if got < steps:
                break
    finally:
        numba.set_num_threads(threads)
    return done
