"""Kernels compiled without numba's CPython wrapper for their jitted
callers, and with it only when Python calls them (private).

numba compiles every jitted function with a wrapper that unboxes Python
arguments and boxes the result, and has LLVM optimise and emit it, though
a function called only from other jitted code never runs it: that
wrapper, for each of the hundred-odd kernels of a first mini-batch fit,
was about a sixth of that fit's compile time (``python
benchmarks/compile_breakdown.py``). :func:`kernel_jit` makes a
:class:`KernelDispatcher`, which numba compiles for jitted callers with
``no_cpython_wrapper``. Called from Python, it runs its twin
(:meth:`KernelDispatcher.from_python`): the same function, of the same
options, compiled with the wrapper, once per signature as any dispatcher
and cached on disk under a name of its own (the two versions differ only
in the wrapper; numba's cache does not tell them apart by their options).
So a kernel that only Python calls is compiled once, as before, a kernel
that only jitted code calls is compiled once without a wrapper, and one
called both ways is compiled once for each.
"""
import types as pytypes

from . import _numba_config  # noqa: F401  (sets NUMBA_CACHE_DIR first)

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba.core.caching import NullCache  # noqa: E402
from numba.core.registry import CPUDispatcher  # noqa: E402

#: The suffix of a twin's qualified name, which names its cache files.
TWIN_SUFFIX = "__from_python"


class KernelDispatcher(CPUDispatcher):
    """A numba dispatcher whose compiled versions have no CPython wrapper
    (``no_cpython_wrapper``): jitted code calls them; a call from Python
    goes to :meth:`from_python`'s dispatcher instead (numba would call a
    version without a wrapper through a null pointer)."""

    #: The twin, once :meth:`from_python` has made it (else None).
    twin = None

    def from_python(self):
        """The dispatcher that Python's calls run: ``py_func`` under a
        qualified name of its own (:data:`TWIN_SUFFIX`), of the same
        options with the wrapper, made at the first call."""
        twin = self.twin
        if twin is None:
            func = self.py_func
            copy = pytypes.FunctionType(func.__code__, func.__globals__,
                                        func.__name__, func.__defaults__,
                                        func.__closure__)
            copy.__kwdefaults__ = func.__kwdefaults__
            copy.__module__ = func.__module__
            copy.__doc__ = func.__doc__
            copy.__qualname__ = func.__qualname__ + TWIN_SUFFIX
            options = {k: v for k, v in self.targetoptions.items()
                       if k not in ("nopython", "no_cpython_wrapper")}
            # Cached as the kernel is (numba's NullCache where it is not).
            cache = not isinstance(self._cache, NullCache)
            twin = numba.njit(cache=cache, **options)(copy)
            self.twin = twin
        return twin

    def __call__(self, *args, **kwargs):
        return self.from_python()(*args, **kwargs)


def kernel_jit(**options):
    """A decorator like ``numba.njit(**options)`` whose dispatcher is a
    :class:`KernelDispatcher` (the function itself where numba's JIT is
    disabled, as ``njit`` returns it)."""
    cache = options.pop("cache", False)

    def decorate(func):
        if numba.config.DISABLE_JIT:
            return func
        targetoptions = dict(options, nopython=True, no_cpython_wrapper=True)
        dispatcher = KernelDispatcher(py_func=func, locals={},
                                      targetoptions=targetoptions)
        if cache:
            dispatcher.enable_caching()
        return dispatcher
    return decorate


def compiled_signatures(dispatcher):
    """The signatures ``dispatcher`` has been compiled for, for jitted
    callers and, for a :class:`KernelDispatcher`, for Python's calls."""
    signatures = list(dispatcher.signatures)
    twin = getattr(dispatcher, "twin", None)
    if twin is not None:
        signatures += [s for s in twin.signatures if s not in signatures]
    return signatures
