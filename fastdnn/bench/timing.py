"""Timing: medians of repeated runs, taken so that a slow spell of the
machine falls on every compared function alike.

Trainings are timed in turn (:func:`_time_trainings`; ``--quick`` runs are
extrapolated to the full iteration count), kernels in blocks of calls
spread over rounds (:func:`_time_kernel_cases`).
"""
import statistics
import time

from .problem import ITERATIONS


def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def _time_training(train, n, repeats):
    """Time ``train(k)`` (which returns ``(result, seconds or None)``).

    Returns ``(seconds for ITERATIONS, raw times, last result)``. With
    ``n == ITERATIONS`` that is the median of the timed runs; with fewer
    iterations (--quick) a 1-iteration run is timed too and the time is
    extrapolated, ``t1 + (tn - t1) (ITERATIONS - 1) / (n - 1)``, so that a
    solver's one-time setup is counted once, not ``ITERATIONS / n`` times.
    """
    return _time_trainings({"": train}, n, repeats)[""]


def _time_trainings(trains, n, repeats, pause=0.0):
    """:func:`_time_training` of each of ``trains`` (``{name: train}``),
    their repeats taken in turn (each after ``pause`` seconds), so that a
    slow spell of the machine falls on all of them alike rather than on
    one. Returns ``{name: (seconds, times, last result)}``."""
    def timed(train, k):
        if pause:
            time.sleep(pause)
        t0 = time.perf_counter()
        result, took = train(k)
        return (time.perf_counter() - t0 if took is None else took), result

    extrapolate = n != ITERATIONS and n >= 2
    times = {name: [] for name in trains}
    ones = {name: [] for name in trains}
    results = dict.fromkeys(trains)
    for _ in range(repeats):
        for name, train in trains.items():
            t, results[name] = timed(train, n)
            times[name].append(t)
    for _ in range(repeats if extrapolate else 0):
        for name, train in trains.items():
            ones[name].append(timed(train, 1)[0])
    out = {}
    for name in trains:
        tn = _median(times[name])
        if extrapolate:
            t1 = _median(ones[name])
            seconds = t1 + (tn - t1) * (ITERATIONS - 1) / (n - 1)
        else:
            seconds = tn * ITERATIONS / max(n, 1)
        out[name] = (seconds, times[name], results[name])
    return out


#: Pause before each timed block of :func:`_time_kernels` when numpy and
#: numba alternate. After a call, OpenBLAS's worker threads spin for up to
#: ~0.1 s (and OpenMP's for a while) before they sleep; a block of the other
#: library started at once would share the two cores with them.
PAIR_PAUSE = 0.3


def _time_kernels(fns, args, repeats, block=0.1, pause=0.0):
    """Median seconds per call of each of ``fns``: ``repeats`` blocks of
    calls of ~``block`` seconds each, alternating between the functions so
    that a slow spell of the machine falls on all of them alike, each block
    after ``pause`` seconds (:data:`PAIR_PAUSE` when two libraries alternate,
    so that the other one's idle threads have stopped spinning)."""
    return _time_kernel_cases({"": (fns, args)}, repeats, block, pause)[""]


def _time_kernel_cases(cases, repeats, block=0.1, pause=0.0):
    """:func:`_time_kernels` of each case (``{name: (fns, args)}``), in
    rounds: each round times one block of every function of every case, so
    that each median is taken over blocks spread across the whole
    measurement rather than over a few seconds that one slow spell of the
    machine could cover. Returns ``{name: [median seconds per fn]}``."""
    per_block = {}
    for name, (fns, args) in cases.items():
        per_block[name] = []
        for fn in fns:
            fn(*args)
            t0 = time.perf_counter()
            fn(*args)
            per_block[name].append(max(1, int(
                block / max(time.perf_counter() - t0, 1e-7))))
    times = {name: [[] for _ in fns] for name, (fns, _) in cases.items()}
    for _ in range(repeats):
        for name, (fns, args) in cases.items():
            for fn, n, out in zip(fns, per_block[name], times[name]):
                if pause:
                    time.sleep(pause)
                t0 = time.perf_counter()
                for _ in range(n):
                    fn(*args)
                out.append((time.perf_counter() - t0) / n)
    return {name: [_median(t) for t in ts] for name, ts in times.items()}
