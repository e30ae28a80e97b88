"""The keyword arguments that each backend's training functions take.

Used by the command line; kept apart from it so that other callers need
not import the command line's modules.
"""
import inspect

import numpy as np


def training_kwargs(backend_module, backend_name, dtype, solver, seed):
    """Keyword arguments for ``backend_module.L_layer_model``.

    ``solver`` and ``dtype`` go only to a backend that takes them; the
    numpy reference takes neither, so a solver other than ``"auto"`` is an
    error there (the caller converts X to ``dtype`` itself). ``seed`` is
    passed only when it is not the course's 1.
    """
    params = inspect.signature(backend_module.L_layer_model).parameters
    kwargs = {}
    if "solver" in params:
        kwargs["solver"] = solver
    elif solver != "auto":
        raise ValueError("solver=%r needs the numba backend; the %s backend "
                         "has only solver='auto'" % (solver, backend_name))
    if "dtype" in params:
        kwargs["dtype"] = np.dtype(dtype).name
    if seed != 1:
        if "seed" not in params:
            raise ValueError(
                "a seed other than 1 (here %r) needs a backend whose "
                "L_layer_model accepts seed=; the %s backend does not yet: "
                "use seed 1, the course's" % (seed, backend_name))
        kwargs["seed"] = seed
    return kwargs
