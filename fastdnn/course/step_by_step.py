"""The course notebook "Building your Deep Neural Network: Step by Step".

The notebook's functions with its names, signatures, return structures and
random draws, on fastdnn's numba backend (``fastdnn.course.load(
"step_by_step", backend="numpy")`` gives the same namespace on the numpy
one)::

    from fastdnn.course.step_by_step import *
    parameters = initialize_parameters_deep([5, 4, 3])   # the notebook's W1

Every name but two is the backend's own function. The two initialisers take
the notebook's arguments only and draw as it does: ``np.random.seed(1)``
and ``randn * 0.01`` for ``initialize_parameters``, ``np.random.seed(3)``
and ``randn * 0.01`` for ``initialize_parameters_deep``, from numpy's global
generator, which they leave seeded and advanced as the notebook does.
"""
from . import _adapters

#: The notebook's title.
NOTEBOOK = "Building your Deep Neural Network: Step by Step"

#: Functions taken unchanged from the backend: the notebook's signatures,
#: return structures and numbers already.
_PASSTHROUGH = [
    "sigmoid", "relu", "sigmoid_backward", "relu_backward",
    "linear_forward", "linear_activation_forward", "L_model_forward",
    "compute_cost", "linear_backward", "linear_activation_backward",
    "L_model_backward", "update_parameters",
]

__all__ = ["initialize_parameters", "initialize_parameters_deep"] + \
    _PASSTHROUGH


def _namespace(B):
    """The notebook's names bound to backend module ``B``."""
    ns = _adapters.passthrough(B, _PASSTHROUGH)
    ns["initialize_parameters"] = _adapters.initialize_parameters(
        B, __name__)
    ns["initialize_parameters_deep"] = _adapters.initialize_parameters_deep(
        B, __name__, seed=3, scale=0.01,
        formula="randn(n_l, n_{l-1}) * 0.01")
    return ns


def _bind(backend):
    import fastdnn
    return _namespace(fastdnn.get_backend(backend))


#: The backend this module's functions run on; other backends:
#: :func:`fastdnn.course.load`.
BACKEND = "numba"
globals().update(_bind(BACKEND))
