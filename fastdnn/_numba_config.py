"""Every numba setting of fastdnn, in one place.

Environment variables
---------------------
FASTDNN_NUMBA_CACHE
    ``0`` (or ``false``/``no``/``off``) turns numba's on-disk cache off; by
    default compiled kernels are cached, which brings the first call of a
    new process from seconds down to a fraction of a second.
NUMBA_CACHE_DIR
    numba's own variable. When it is unset and the package directory is not
    writable (a system-wide install), it is pointed at a per-user cache
    directory so that caching still works.
FASTDNN_ADAPTIVE_THREADS
    ``0`` runs the training loops on numba's thread count throughout; by
    default they switch to one thread while it is the faster
    (:mod:`fastdnn._threads`), with identical results.
NUMBA_THREADING_LAYER
    numba's own. When it is unset (and numba's ``config.THREADING_LAYER``
    was not changed either), fastdnn asks numba for a fork-safe layer
    (:data:`THREADING_LAYER`: TBB when installed, else numba's workqueue)
    instead of numba's default, GNU OpenMP on Linux: after an OpenMP
    parallel region has run, a ``fork()`` (multiprocessing's default start
    method on Linux) gives a child that hangs or aborts as soon as it runs
    one. A layer set by the user is used as it is.
NUMBA_NUM_THREADS, NUMBA_DISABLE_JIT
    numba's own. Results never depend on the thread count (see
    :data:`PARALLEL_JIT_KW`) nor on the threading layer;
    ``NUMBA_DISABLE_JIT=1`` runs the kernels as plain (slow) Python, for
    debugging.

This module must be imported before numba compiles anything of ours, which
is why :mod:`fastdnn._kernels` imports it first.
"""
import os
import sys
import threading

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _env_flag(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _user_cache_dir():
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser(
            "~/.cache")
    return os.path.join(base, "fastdnn", "numba")


#: Whether kernels are cached on disk (``FASTDNN_NUMBA_CACHE=0`` disables).
CACHE = _env_flag("FASTDNN_NUMBA_CACHE", True)

#: Whether the training loops choose, block by block, between all threads
#: and one (``FASTDNN_ADAPTIVE_THREADS=0`` keeps numba's count throughout);
#: see :mod:`fastdnn._threads`. Results are the same bits either way.
ADAPTIVE_THREADS = _env_flag("FASTDNN_ADAPTIVE_THREADS", True)

if (CACHE and not os.environ.get("NUMBA_CACHE_DIR")
        and not os.access(_PACKAGE_DIR, os.W_OK)):
    os.environ["NUMBA_CACHE_DIR"] = _user_cache_dir()
    if "numba" in sys.modules:  # numba read its config already
        import numba
        numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

#: fastmath flags for reductions. ``reassoc`` lets LLVM keep several
#: partial sums in SIMD lanes (a reduction does not vectorise without it);
#: ``contract`` allows fused multiply-adds. Neither assumes away NaN or inf
#: (no ``nnan``/``ninf``), so a diverging training run still shows up as a
#: NaN cost, and neither changes results between runs: the summation order
#: is fixed at compile time.
FASTMATH_SUM = {"reassoc", "contract"}

#: fastmath flags for element-wise kernels and for sums whose order we spell
#: out ourselves: fused multiply-adds only.
FASTMATH_ELEMENTWISE = {"contract"}

#: Keyword arguments of every serial kernel. ``error_model="numpy"``: a
#: float division by zero gives inf/NaN as in numpy instead of raising
#: ZeroDivisionError (and keeps the division out of the slow checked path).
#: ``_nrt=True`` (numba's reference counting, its default) is stated: numba
#: compiles a function called from jitted code with its caller's setting
#: unless the function sets its own, and the training loops run without it
#: (``_kernels_common._exact_loop``) while calling kernels that allocate.
JIT_KW = dict(nogil=True, cache=CACHE, error_model="numpy", _nrt=True)

#: Keyword arguments of every parallel kernel. Parallel kernels split work
#: into blocks fixed by the shapes alone: independent outputs (row blocks),
#: or a fixed number of chunks of a summed axis whose partial sums are added
#: in a fixed order. Each output is computed by the same code whichever
#: thread runs it, so the results do not depend on
#: ``numba.get_num_threads()``.
PARALLEL_JIT_KW = dict(JIT_KW, parallel=True)

#: Work (multiply-adds) below which a kernel runs serially: starting the
#: thread pool costs more than it saves on small layers.
PARALLEL_MIN_WORK = 1 << 17


#: numba threading layers that accept parallel kernels launched from several
#: threads at once. ``workqueue`` does not: it aborts the whole process.
THREADSAFE_LAYERS = frozenset({"omp", "tbb"})


#: The threading layer fastdnn asks numba for: numba's "forksafe" choice,
#: TBB if it is installed, else workqueue (GNU OpenMP is not fork-safe).
#: TBB (a dependency on x86-64) is thread-safe as well and wakes its pool in
#: ~10 us, against ~40 us for OpenMP and ~100 us for workqueue (measured on
#: a busy 2-core host).
THREADING_LAYER = "forksafe"

#: The shared library numba's TBB layer links against.
_TBB_SONAME = "libtbb.so.12"


def _make_tbb_loadable():
    """Let numba's TBB layer find the TBB library of the ``tbb`` wheel.

    pip installs the wheel's ``libtbb.so.12`` into ``<prefix>/lib``, which
    is not on the dynamic loader's path of a virtual environment, so
    numba's ``tbbpool`` extension fails to load and numba falls back to
    another layer. Loading the library first, by its full path and with
    global symbols, satisfies that dependency. Nothing happens when the
    file is not there (no wheel, another platform) or cannot be loaded:
    numba then chooses among the layers it can load, as before.
    """
    if not sys.platform.startswith("linux"):
        return
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        path = os.path.join(prefix, "lib", _TBB_SONAME)
        if os.path.isfile(path):
            import ctypes
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            return


def _prefer_fork_safe_layer():
    """Point numba at :data:`THREADING_LAYER` unless the user chose a layer
    (``NUMBA_THREADING_LAYER``, or numba's config set in code).

    numba reads the setting once, at the first parallel launch of the
    process, and re-reads its config from the environment whenever a
    ``NUMBA_*`` variable changes: :func:`parallel_ok`, which runs before
    every parallel launch of fastdnn, calls this again until a layer is
    loaded.
    """
    if os.environ.get("NUMBA_THREADING_LAYER", "").strip():
        return
    import numba
    # Take in any change of the environment now, so that numba's next
    # re-read (at a compilation) has nothing new to reset the layer from.
    numba.core.config.reload_config()
    if str(numba.config.THREADING_LAYER).lower() == "default":
        numba.config.THREADING_LAYER = THREADING_LAYER


#: Layers whose thread pools wake within a few microseconds, cheap enough
#: for a parallel region per training iteration of ~50 us (the gram
#: solver's Z1 update). Under workqueue a launch was measured at ~50-200 us
#: on a busy 2-core host (the cat gram training took 0.6-1.0 s with the
#: update on two threads, 0.3-0.45 s on one).
FAST_LAUNCH_LAYERS = frozenset({"omp", "tbb"})


def loaded_layer():
    """The threading layer numba has loaded, or None before the first
    parallel launch of the process."""
    import numba
    try:
        return numba.threading_layer()
    except ValueError:
        return None


def parallel_ok():
    """Whether the calling thread may launch a parallel kernel.

    Always from the main thread. From any other thread only once numba has
    loaded a threading layer known to be thread-safe; until then (the layer
    is chosen at the first parallel launch) and under ``workqueue`` the
    serial kernels run instead, which give identical results.
    """
    import numba
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        _prefer_fork_safe_layer()
        layer = None
    if threading.current_thread() is threading.main_thread():
        return True
    return layer in THREADSAFE_LAYERS


_make_tbb_loadable()
_prefer_fork_safe_layer()

if CACHE:
    # After NUMBA_CACHE_DIR is settled (importing numba reads it) and before
    # any kernel module defines a cached function.
    from . import _numba_cache_stamp
    _numba_cache_stamp.install(_PACKAGE_DIR)
