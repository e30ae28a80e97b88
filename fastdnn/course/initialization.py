"""The course notebook "Initialization" (Course 2, Week 1).

The notebook's three initialisers, its ``model`` (LINEAR -> RELU -> LINEAR
-> RELU -> LINEAR -> SIGMOID with layers ``[n_x, 10, 5, 1]``) and the
helpers it imports (``predict``, ``load_dataset``), with the notebook's
names, signatures, return structures, random draws and printed lines, on
fastdnn's numba backend (``fastdnn.course.load("initialization",
backend="numpy")`` gives the same namespace on the numpy one)::

    from fastdnn.course.initialization import *
    train_X, train_Y, test_X, test_Y = load_dataset()
    parameters = model(train_X, train_Y, initialization="he")
    predictions_train = predict(train_X, train_Y, parameters)

As in the notebook:

- ``initialize_parameters_zeros`` draws nothing; ``initialize_parameters_
  random`` (``randn * 10``) and ``initialize_parameters_he`` (``randn *
  sqrt(2 / n_{l-1})``) call ``np.random.seed(3)`` and draw from numpy's
  global generator, which they leave where the notebook leaves it.
- ``model`` trains with the backend's ``L_layer_model`` (its fused output
  gradient ``AL - Y`` is the notebook's ``dz3``), prints ``Cost after
  iteration i: c`` every 1000 iterations and returns the parameters only.
  It does not plot the costs.
- ``predict(X, y, parameters)`` returns integer 0/1 predictions and prints
  ``Accuracy: `` and the fraction of right ones.

Where it differs: the printed cost is the backend's, with the output
clipped to ``[eps, 1 - eps]``. Where the output is not saturated that is
the notebook's cost; with ``initialization="random"`` the first outputs are
exactly 0 or 1 on wrongly labelled examples, where the notebook prints
``Cost after iteration 0: inf`` (``np.log(0)``, with numpy's warnings),
this ``model`` prints a finite cost (about 36.04, ``-log(eps)``, times the
fraction of such examples) and no warning.
"""
import numpy as np

from .. import _validation as V
from .._validation_tables import check_name
from ..datasets import load_circles_dataset as load_dataset
from . import _adapters

#: The notebook's title.
NOTEBOOK = "Initialization"

#: The hidden layers of the notebook's ``model``.
HIDDEN = (10, 5)

#: The notebook's initialisations, as ``model`` names them.
INITIALIZATIONS = ("zeros", "random", "he")

#: The functions built per backend by ``_namespace``.
_BOUND = ["initialize_parameters_zeros", "initialize_parameters_random",
          "initialize_parameters_he", "model", "predict"]

__all__ = ["load_dataset"] + _BOUND


def _initializer(B, name, formula, seed, **options):
    def initialize(layers_dims):
        if seed is None:
            return B.initialize_parameters_deep(layers_dims, **options)
        with _adapters.course_seed(seed) as rng:
            return B.initialize_parameters_deep(layers_dims, seed=rng,
                                                **options)
    initialize.__doc__ = (
        """Parameters of an L-layer network, ``layers_dims = [n_0, ...,
        n_L]``.

        As the notebook: %s

        Returns
        -------
        parameters : dict
            ``Wl`` (n_l, n_{l-1}) and ``bl`` (n_l, 1), zeros, for l = 1 ..
            L.
        """ % formula)
    return _adapters._named(initialize, name, __name__)


def _namespace(B):
    """The notebook's names bound to backend module ``B``."""
    zeros = _initializer(
        B, "initialize_parameters_zeros",
        "every ``Wl`` zeros; nothing is drawn.", None,
        initialization="zeros")
    large = _initializer(
        B, "initialize_parameters_random",
        "``np.random.seed(3)``, then ``Wl = randn(n_l, n_{l-1}) * 10`` from\n"
        "        numpy's global generator, left where the notebook leaves it.",
        3, initialization="random", scale=10)
    he = _initializer(
        B, "initialize_parameters_he",
        "``np.random.seed(3)``, then ``Wl = randn(n_l, n_{l-1}) *\n"
        "        sqrt(2 / n_{l-1})`` from numpy's global generator, left "
        "where the\n        notebook leaves it.",
        3, initialization="he")

    def model(X, Y, learning_rate=0.01, num_iterations=15000,
              print_cost=True, initialization="he"):
        """Train the notebook's 3-layer network.

        LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, layers
        ``[n_x, 10, 5, 1]``, initialised as the notebook's
        ``initialize_parameters_<initialization>`` (same seed and draws),
        then ``num_iterations`` steps of gradient descent.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
            0/1 labels.
        learning_rate : float
        num_iterations : int
        print_cost : bool
            Print ``Cost after iteration i: c`` every 1000 iterations. The
            cost is the backend's (output clipped to ``[eps, 1 - eps]``):
            finite where the notebook prints ``inf``.
        initialization : {"he", "random", "zeros"}

        Returns
        -------
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``, ``W3``, ``b3``.

        Raises
        ------
        ValueError
            For an unknown ``initialization`` (the message lists the
            notebook's three), and for bad data as ``L_layer_model``.
        """
        check_name(initialization, "initialization", INITIALIZATIONS)
        n_x = V.as_matrix(X, "X", shape_hint="(n_x, m)").shape[0]
        dims = (n_x,) + HIDDEN + (1,)

        def every_thousand(i, cost):
            if print_cost and i % 1000 == 0:
                print("Cost after iteration {}: {}".format(i, cost))

        def train(seed, **options):
            parameters, _ = B.L_layer_model(
                X, Y, dims, learning_rate, num_iterations, False,
                callback=every_thousand, seed=seed,
                initialization=initialization, **options)
            return parameters

        if initialization == "zeros":
            return train(1)
        # The notebook's initialisers seed 3 before drawing.
        with _adapters.course_seed(3) as rng:
            if initialization == "random":
                return train(rng, scale=10)
            return train(rng)

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
        p : ndarray of int, shape (1, m)
            1 where the predicted probability is > 0.5, else 0.
        """
        p = B.predict(X, y, parameters, print_accuracy=False).astype(int)
        if y is not None:
            # y has been checked by B.predict: m 0/1 labels, (1, m) or (m,).
            y = np.reshape(np.asarray(y), (1, p.shape[1]))
            print("Accuracy: " + str(np.mean(p[0, :] == y[0, :])))
        return p

    return {"load_dataset": load_dataset,
            "initialize_parameters_zeros": zeros,
            "initialize_parameters_random": large,
            "initialize_parameters_he": he,
            "model": _adapters._named(model, "model", __name__),
            "predict": _adapters._named(predict, "predict", __name__)}


def _bind(backend):
    import fastdnn
    return _namespace(fastdnn.get_backend(backend))


#: The backend this module's functions run on; other backends:
#: :func:`fastdnn.course.load`.
BACKEND = "numba"
globals().update(_bind(BACKEND))
