"""The course's notebooks, one namespace each, on either backend.

Each namespace holds what one notebook of the course defines or imports,
with the notebook's function names, signatures, return structures, random
draws and printed lines, as thin adapters over fastdnn's general functions::

    from fastdnn.course.step_by_step import *        # numba backend
    app = fastdnn.course.load("application", backend="numpy")

``import fastdnn.course.step_by_step`` (or ``.application``, ``.planar``,
``.initialization``) gives the namespace on the numba backend; :func:`load`
gives either backend's.
``import fastdnn`` does not import this package.
"""
import importlib
import threading
import types

#: Notebook names and their modules (each module's ``NOTEBOOK`` is the
#: notebook's title).
NOTEBOOKS = {
    "step_by_step": "fastdnn.course.step_by_step",
    "application": "fastdnn.course.application",
    "planar": "fastdnn.course.planar",
    "initialization": "fastdnn.course.initialization",
    "gradient_checking": "fastdnn.course.gradient_checking",
    "regularization": "fastdnn.course.regularization",
    "optimization": "fastdnn.course.optimization",
}

_built = {}
_lock = threading.Lock()


def _choices(names):
    return ", ".join(repr(n) for n in sorted(names))


def load(name, backend="numba"):
    """The namespace of notebook ``name`` on ``backend``.

    Parameters
    ----------
    name : str
        A key of :data:`NOTEBOOKS`:
        "step_by_step" is "Building your Deep Neural Network: Step by Step",
        "application" is "Deep Neural Network - Application", "planar" is
        "Planar data classification with one hidden layer",
        "initialization" is "Initialization" (Course 2, Week 1),
        "gradient_checking" is "Gradient Checking" (Course 2, Week 1),
        "regularization" is "Regularization" (Course 2, Week 1),
        "optimization" is "Optimization Methods" (Course 2, Week 2).
    backend : {"numba", "numpy"}
        fastdnn's backend, as :func:`fastdnn.get_backend` names it.

    Returns
    -------
    namespace : module
        The notebook's functions as attributes (``__all__`` lists them),
        with ``NOTEBOOK`` (the title) and ``BACKEND``. For ``"numba"`` this
        is the module ``fastdnn.course.<name>`` itself; for ``"numpy"`` a
        module object built once per process.

    Raises
    ------
    ValueError
        For an unknown notebook or backend; the message lists the choices.
    """
    import fastdnn
    if not isinstance(name, str) or name not in NOTEBOOKS:
        raise ValueError("unknown notebook %r; choose one of %s"
                         % (name, _choices(NOTEBOOKS)))
    if not isinstance(backend, str) or backend not in fastdnn.BACKENDS:
        raise ValueError("unknown backend %r; choose one of %s"
                         % (backend, _choices(fastdnn.BACKENDS)))
    module = importlib.import_module(NOTEBOOKS[name])
    if backend == module.BACKEND:
        return module
    with _lock:
        namespace = _built.get((name, backend))
        if namespace is None:
            namespace = types.ModuleType(
                "%s[%s]" % (module.__name__, backend), module.__doc__)
            namespace.__dict__.update(module._bind(backend))
            namespace.__all__ = list(module.__all__)
            namespace.NOTEBOOK = module.NOTEBOOK
            namespace.BACKEND = backend
            _built[(name, backend)] = namespace
    return namespace


def __getattr__(attr):
    # fastdnn.course.step_by_step without importing it first.
    if attr in NOTEBOOKS:
        return importlib.import_module(NOTEBOOKS[attr])
    raise AttributeError("module %r has no attribute %r" % (__name__, attr))


def __dir__():
    return sorted(set(globals()) | set(NOTEBOOKS))


__all__ = ["load", "NOTEBOOKS"]
