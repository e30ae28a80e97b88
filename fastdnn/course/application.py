"""The course notebook "Deep Neural Network - Application".

The names the notebook uses (its helper module's, ``from dnn_app_utils_v3
import *``, and its own ``two_layer_model`` and ``L_layer_model``) with the
notebook's signatures, return structures, random draws and printed lines,
on fastdnn's numba backend (``fastdnn.course.load("application",
backend="numpy")`` gives the same namespace on the numpy one)::

    from fastdnn.course.application import *
    parameters, costs = L_layer_model(train_x, train_y, [12288, 20, 7, 5, 1])

Where the notebook differs from fastdnn's general functions:

- ``initialize_parameters`` (seed 1, ``randn * 0.01``) and
  ``initialize_parameters_deep`` (seed 1, ``randn / sqrt(n_{l-1})``) call
  ``np.random.seed`` and draw from numpy's global generator, as the
  notebook's helpers do, so the global state afterwards is the notebook's;
  ``two_layer_model`` and ``L_layer_model`` too (they seed 1 and draw their
  initial parameters).
- The training functions print ``Cost after iteration i: c`` at the last
  iteration even when ``print_cost`` is False: the notebook's condition is
  ``print_cost and i % 100 == 0 or i == num_iterations - 1``.
- ``predict(X, y, parameters)`` prints the accuracy as the notebook computes
  it, ``np.sum((p == y) / m)`` (0.9999999999999998 where every one of the
  209 training pictures is right).

Everything else is the backend's own function. Labels are checked as
fastdnn checks them everywhere: the training functions take 0/1 labels
only.
"""
import numpy as np

from . import _adapters

#: The notebook's title.
NOTEBOOK = "Deep Neural Network - Application"

#: Functions taken unchanged from the backend.
_PASSTHROUGH = [
    "load_data", "print_mislabeled_images",
    "sigmoid", "relu", "sigmoid_backward", "relu_backward",
    "linear_forward", "linear_activation_forward", "L_model_forward",
    "compute_cost", "linear_backward", "linear_activation_backward",
    "L_model_backward", "update_parameters",
]

__all__ = ["initialize_parameters", "initialize_parameters_deep",
           "two_layer_model", "L_layer_model", "predict"] + _PASSTHROUGH


def _print_last_cost(print_cost, last):
    # fastdnn prints with print_cost only; the notebook's condition also
    # prints the last iteration without it. The callback's float prints as
    # the notebook's "{}".format(np.squeeze(cost)) does: str.format turns
    # a 0-d array into the same Python float.
    if print_cost or not last:
        return
    i, cost = last
    print("Cost after iteration {}: {}".format(i, cost))


def _trainer(train, name, module, init):
    def model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
              print_cost=False):
        last = []

        def keep_last(i, cost):
            last[:] = [i, cost]

        # The notebook seeds 1 before drawing the initial parameters.
        with _adapters.course_seed(1) as rng:
            parameters, costs = train(
                X, Y, layers_dims, learning_rate, num_iterations, print_cost,
                callback=keep_last, seed=rng)
        _print_last_cost(print_cost, last)
        return parameters, costs
    model.__doc__ = (
        """Train %s by gradient descent, as the notebook does.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
            0/1 labels.
        layers_dims : sequence of int
            %s
        learning_rate : float
        num_iterations : int
        print_cost : bool
            Print ``Cost after iteration i: c`` every 100 iterations; the
            last iteration's cost is printed in any case, as the notebook
            does.

        Returns
        -------
        parameters : dict
            Initialised as the notebook's ``%s``.
        costs : list of 0-d ndarray
            The cost at every iteration ``i`` with ``i %% 100 == 0``.
        """ % ({"two_layer_model": "LINEAR -> RELU -> LINEAR -> SIGMOID",
                "L_layer_model": "[LINEAR -> RELU] x (L-1) -> LINEAR -> "
                                 "SIGMOID"}[name],
               {"two_layer_model": "``(n_x, n_h, n_y)``.",
                "L_layer_model": "``[n_x, n_1, ..., n_L]``."}[name],
               init))
    return _adapters._named(model, name, module)


def _predictor(B, module):
    def predict(X, y, parameters):
        """Predict 0/1 labels and print the accuracy, as the notebook does.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        y : ndarray of shape (1, m)
            True 0/1 labels (``None``: nothing is printed).
        parameters : dict

        Returns
        -------
        p : ndarray of shape (1, m)
            1.0 where the predicted probability is > 0.5, else 0.0.
        """
        p = B.predict(X, y, parameters, print_accuracy=False)
        if y is not None:
            # y has been checked by B.predict: m 0/1 labels, (1, m) or (m,).
            m = p.shape[1]
            y = np.reshape(np.asarray(y), (1, m))
            print("Accuracy: " + str(np.sum((p == y) / m)))
        return p
    return _adapters._named(predict, "predict", module)


def _namespace(B):
    """The notebook's names bound to backend module ``B``."""
    ns = _adapters.passthrough(B, _PASSTHROUGH)
    ns["initialize_parameters"] = _adapters.initialize_parameters(
        B, __name__)
    ns["initialize_parameters_deep"] = _adapters.initialize_parameters_deep(
        B, __name__, seed=1, scale=None,
        formula="randn(n_l, n_{l-1}) / sqrt(n_{l-1})")
    ns["two_layer_model"] = _trainer(B.two_layer_model, "two_layer_model",
                                     __name__, "initialize_parameters")
    ns["L_layer_model"] = _trainer(B.L_layer_model, "L_layer_model",
                                   __name__, "initialize_parameters_deep")
    ns["predict"] = _predictor(B, __name__)
    return ns


def _bind(backend):
    import fastdnn
    return _namespace(fastdnn.get_backend(backend))


#: The backend this module's functions run on; other backends:
#: :func:`fastdnn.course.load`.
BACKEND = "numba"
globals().update(_bind(BACKEND))
