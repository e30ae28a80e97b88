"""The machine a measurement ran on: CPU, SIMD flags, versions, the BLAS
numpy uses (threadpoolctl) and the OpenBLAS variables that change it."""
import os
import platform
import time

import numpy as np


#: The OpenBLAS variables the numpy reference is also measured without.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads",
            "threading_layer")
    return [{k: i.get(k) for k in keep} for i in threadpool_info()
            if i.get("user_api") == "blas"]


def _machine():
    cpu = platform.processor() or ""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not cpu.strip():
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line
                    break
    except OSError:
        pass
    import numba

    simd = [f for f in ("avx512f", "avx2", "fma") if " %s " % f in flags
            + " "]
    info = {
        "cpu": cpu, "cores": os.cpu_count(), "simd": simd,
        "numba_cpu": _numba_cpu_name(),
        "python": platform.python_version(), "numpy": np.__version__,
        "numba": numba.__version__, "blas": _blas_info(),
        "blas_env": {k: os.environ.get(k) for k in BLAS_ENV},
        "platform": platform.platform(),
        "loadavg": _loadavg(),
    }
    return info


#: Links of each chain of the second-core probe (about 35 us at 4-5 GHz)
#: and chains per side of one reading.
PROBE_LINKS = 20000
PROBE_REPEATS = 200


def core_probe():
    """A reading of whether both cores run at full speed now: the time of
    two chains of dependent multiply-adds on two threads (one parallel
    region each time, one chain a thread) over one chain on one thread.

    The chains touch no memory, so nothing but the cores' own speed and the
    region's launch enters: about 1.15 on an idle 2-core host; about 2
    while another thread keeps one core busy (a library's thread pool
    still spinning after its work, say); in between while the host gives
    one core less time (a virtual machine's hypervisor can, for seconds on
    end, without the guest seeing steal time). Takes about 15 ms. None
    with fewer than two numba threads, or with numba's compiler disabled.
    """
    import numba

    if numba.get_num_threads() < 2 or numba.config.DISABLE_JIT:
        return None  # nothing to compare, or chains run as Python
    from ._probe_kernels import chains
    out = np.ones(2)
    chains(out, 10, 2, True)  # compiled (or loaded) before timing
    chains(out, 10, 2, False)
    t0 = time.perf_counter()
    chains(out, PROBE_LINKS, PROBE_REPEATS, True)
    t1 = time.perf_counter()
    chains(out, PROBE_LINKS, PROBE_REPEATS, False)
    t2 = time.perf_counter()
    return (t1 - t0) / (t2 - t1)


#: A core probe at or below this reads as both cores at full speed (about
#: 1.15 on an idle host; 1.3-1.6 while the host slows one core, about 2
#: while another thread keeps one busy).
SETTLED_PROBE = 1.25
#: Seconds between two probes while waiting for both cores.
SETTLE_INTERVAL = 0.5


def settled_probe(max_wait, probe=core_probe, clock=time.perf_counter,
                  sleep=time.sleep):
    """``(reading, waited)``: :func:`core_probe` readings every
    :data:`SETTLE_INTERVAL` seconds until one is at most
    :data:`SETTLED_PROBE` (or None: nothing to compare) or another wait
    would pass ``max_wait`` seconds; the last reading and the seconds
    spent after the first. A run timed while the host slows a core times
    the host, so the bench waits (a bounded while) for both cores before
    each timed run, whichever side it is."""
    reading = probe()
    t0 = clock()
    while (reading is not None and reading > SETTLED_PROBE
           and clock() - t0 + SETTLE_INTERVAL <= max_wait):
        sleep(SETTLE_INTERVAL)
        reading = probe()
    return reading, clock() - t0


def _loadavg():
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def _numba_cpu_name():
    try:
        import llvmlite.binding as llvm
        return llvm.get_host_cpu_name()
    except Exception:  # pragma: no cover - informational only
        return None


def _kernel_name(blas):
    return ", ".join("%s %s" % (b["internal_api"], b["architecture"])
                     for b in blas) or "?"
