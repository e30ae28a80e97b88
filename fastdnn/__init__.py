"""fastdnn: the course's L-layer neural network as a library.

``import fastdnn`` hands out the course API of the default backend at top
level; :func:`get_backend` returns either backend module by name.
"""
# First, before the slow imports: in the fastdnn command only, a Ctrl-C
# during them is one line and status 130, not a traceback (fastdnn.cli_exit).
from . import cli_exit as _cli_exit  # noqa: F401
import importlib

from .data import flatten_images, load_data, load_image  # noqa: F401
from .reference import __all__ as _api

__version__ = "0.1.0"

#: Backend names and the modules that implement them.
BACKENDS = {"numpy": "fastdnn.reference", "numba": "fastdnn.jit"}
#: The backend whose functions ``import fastdnn`` hands out.
DEFAULT_BACKEND = "numba"


def get_backend(name=DEFAULT_BACKEND):
    """Return the module of backend ``name`` (``"numpy"`` or ``"numba"``).

    Both modules expose the same functions with the same signatures.
    """
    if name not in BACKENDS:
        raise ValueError("unknown backend %r; choose one of %s"
                         % (name, ", ".join(repr(b) for b in BACKENDS)))
    return importlib.import_module(BACKENDS[name])


def warmup(dtype=None):
    """Compile every numba kernel for float32 and float64, or for one dtype.

    Loads them from numba's on-disk cache when it has them (seconds), else
    compiles them: every variant of the training loops, minutes with an
    empty cache (see docs/design.md, "Compile cost"), on one core. Call it
    once after installing to keep the compile time out of the first real
    calls of every later process; ``fastdnn warmup`` does the same from
    the command line.

    Parameters
    ----------
    dtype : {None, 'float32', 'float64'} or numpy float dtype, default None
        The training dtype to compile for; None compiles both (each takes
        about half the time).

    Raises
    ------
    TypeError, ValueError
        ``dtype`` is not None, float32 or float64; raised before anything
        is compiled.
    """
    from . import _kernels, _primal_kernels, _toolbox
    from ._validation_scalars import FLOAT_DTYPES, check_dtype
    dtypes = FLOAT_DTYPES if dtype is None else (check_dtype(dtype),)
    _kernels.warmup(dtypes)
    _primal_kernels.warmup(dtypes)
    _toolbox.warmup(dtypes)


def _export(module):
    for _name in _api:
        globals()[_name] = getattr(module, _name)


_export(get_backend(DEFAULT_BACKEND))

# The backends' __all__ holds load_data, flatten_images and load_image too.
__all__ = list(_api) + ["get_backend", "warmup", "BACKENDS",
                        "DEFAULT_BACKEND", "__version__"]


#: Exported on first use (module ``__getattr__``), so that ``import fastdnn``
#: stays fast and never imports matplotlib or scikit-learn.
_LAZY = {
    "save_model": "fastdnn.io",
    "load_model": "fastdnn.io",
    "ModelFileError": "fastdnn.io",
    "plot_costs": "fastdnn.plots",
    "plot_mislabeled": "fastdnn.plots",
    "plot_decision_boundary": "fastdnn.plots",
    "DNNClassifier": "fastdnn.estimator",
    "DNNRegressor": "fastdnn.estimator",
}
__all__ += sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
