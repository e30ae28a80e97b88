"""The course notebook "Regularization" (Course 2, Week 1).

The notebook's L2 and dropout functions, its ``model`` (LINEAR -> RELU ->
LINEAR -> RELU -> LINEAR -> SIGMOID with layers ``[n_x, 20, 3, 1]``) and
the helpers it imports from its utility module (``initialize_parameters``,
``forward_propagation``, ``backward_propagation``, ``compute_cost``,
``update_parameters``, ``predict``, ``predict_dec``,
``plot_decision_boundary``), with the notebook's names, signatures, flat
cache tuples, random draws and printed lines, on fastdnn's numba backend
(``fastdnn.course.load("regularization", backend="numpy")`` gives the same
namespace on the numpy one)::

    from fastdnn.course.regularization import *
    from fastdnn.datasets import load_moons_dataset
    train_X, train_Y = load_moons_dataset()
    parameters = model(train_X, train_Y, lambd=0.7)
    predictions = predict(train_X, train_Y, parameters)

The notebook's dataset (its ``load_2D_dataset``, the French football
field's ``datasets/data.mat``) is not part of fastdnn and is not
generated: ``model`` trains on any ``(2, m)`` data with 0/1 labels, such as
:mod:`fastdnn.datasets`' planar flower, circles or moons.

As in the notebook:

- ``initialize_parameters(layer_dims)`` calls ``np.random.seed(3)`` and
  draws ``Wl = randn(n_l, n_{l-1}) / sqrt(n_{l-1})`` from numpy's global
  generator.
- ``forward_propagation_with_dropout`` calls ``np.random.seed(1)`` and
  draws each hidden layer's mask with ``np.random.rand`` in turn (so every
  call draws the same masks: the notebook's ``model`` trains with one
  fixed pair of masks), leaving numpy's generator where the notebook
  leaves it.
- The caches are the notebook's flat tuples; the gradients hold ``dZ3``,
  ``dW3``, ``db3``, ``dA2``, ``dZ2``, ``dW2``, ``db2``, ``dA1``, ``dZ1``,
  ``dW1``, ``db1``.
- ``model`` prints ``Cost after iteration i: c`` every 10000 iterations
  and returns the parameters only; it does not plot the costs. L2 and
  dropout together are refused (the notebook asserts one at a time).

The products, activations and cross-entropy are the backend's
(``linear_activation_forward``, ``linear_backward``, ``compute_cost``,
with the output clipped to ``[eps, 1 - eps]``); without dropout ``model``
is the backend's ``L_layer_model`` (with ``lambd``).
"""
import numpy as np

from .. import _validation as V
from . import _adapters
from . import _three_layer as T

#: The notebook's title.
NOTEBOOK = "Regularization"

#: The hidden layers of the notebook's ``model``.
HIDDEN = (20, 3)

#: ``model`` prints the cost every this many iterations.
PRINT_EVERY = 10000

#: The functions built per backend by ``_namespace``.
_BOUND = ["initialize_parameters", "forward_propagation",
          "backward_propagation", "compute_cost", "update_parameters",
          "predict", "predict_dec", "plot_decision_boundary",
          "compute_cost_with_regularization",
          "backward_propagation_with_regularization",
          "forward_propagation_with_dropout",
          "backward_propagation_with_dropout", "model"]

__all__ = list(_BOUND)


def _namespace(B):
    """The notebook's names bound to backend module ``B``."""
    ns = T.utilities(B, __name__)

    def initialize_parameters(layer_dims):
        """Parameters of an L-layer network, ``layer_dims = [n_0, ...,
        n_L]``.

        As the notebook's utility module: ``np.random.seed(3)``, then for
        each layer ``Wl = randn(n_l, n_{l-1}) / sqrt(n_{l-1})`` from numpy's
        global generator (left where the notebook leaves it) and ``bl``
        zeros.

        Returns
        -------
        parameters : dict
            ``Wl`` (n_l, n_{l-1}) and ``bl`` (n_l, 1) for l = 1 .. L.
        """
        with _adapters.course_seed(3) as rng:
            return B.initialize_parameters_deep(layer_dims, seed=rng)

    def compute_cost(a3, Y):
        """The cross-entropy cost, ``-(1/m) sum(Y log a3 + (1 - Y) log(1 -
        a3))``, a numpy float.

        The backend's ``compute_cost`` (``a3`` clipped to ``[eps, 1 -
        eps]``, where the notebook's ``nansum`` drops the NaN of ``0 *
        log(0)``).
        """
        return np.float64(B.compute_cost(a3, Y))

    def compute_cost_with_regularization(A3, Y, parameters, lambd):
        """The cost with L2 regularization.

        ``compute_cost(A3, Y) + (1/m) (lambd/2) (sum(W1**2) + sum(W2**2) +
        sum(W3**2))``, biases not included.

        Parameters
        ----------
        A3 : ndarray of shape (1, m)
            The output of forward propagation.
        Y : ndarray of shape (1, m)
            0/1 labels.
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``, ``W3``, ``b3``.
        lambd : float
            The regularization strength, >= 0.

        Returns
        -------
        cost : numpy.float64
        """
        Ws, _ = T.three_layers(parameters)
        lambd = T.check_lambd(lambd)
        m = V.as_matrix(Y, "Y", shape_hint="(1, m)").shape[1]
        cross_entropy_cost = compute_cost(A3, Y)
        total = (np.sum(np.square(Ws[0])) + np.sum(np.square(Ws[1]))
                 + np.sum(np.square(Ws[2])))
        return cross_entropy_cost + (1. / m) * (lambd / 2) * total

    def backward_propagation_with_regularization(X, Y, cache, lambd):
        """Gradients of the L2-regularized cost.

        As the notebook: ``dZ3 = A3 - Y``, ``dWl = (1/m) dZl A_{l-1}^T +
        (lambd * Wl) / m`` (the backend's ``linear_backward`` plus the
        regularization term), ``dbl`` not regularized, ``dZl = dAl *
        int64(Al > 0)``.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
        cache : tuple
            ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)`` from
            ``forward_propagation``.
        lambd : float
            >= 0.

        Returns
        -------
        gradients : dict
            ``dZ3``, ``dW3``, ``db3``, ``dA2``, ``dZ2``, ``dW2``, ``db2``,
            ``dA1``, ``dZ1``, ``dW1``, ``db1``.
        """
        return T.backward(B, X, Y, cache, lambd=T.check_lambd(lambd))

    def forward_propagation_with_dropout(X, parameters, keep_prob=0.5):
        """Forward propagation with inverted dropout on both hidden layers.

        As the notebook: ``np.random.seed(1)``; after each hidden ReLU,
        ``Dl = np.random.rand(*Al.shape)``, ``Dl = (Dl < keep_prob)
        .astype(int)``, ``Al = Al * Dl``, ``Al = Al / keep_prob``. numpy's
        global generator is left advanced by the two masks' draws.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``, ``W3``, ``b3``.
        keep_prob : float
            The probability of keeping a hidden unit, in (0, 1].

        Returns
        -------
        A3 : ndarray of shape (1, m)
        cache : tuple
            ``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)``.
        """
        keep_prob = T.check_keep_prob(keep_prob)
        T.three_layers(parameters)
        with _adapters.course_seed(1) as rng:
            return T.forward(B, X, parameters, keep_prob, rng)

    def backward_propagation_with_dropout(X, Y, cache, keep_prob):
        """Gradients with the forward pass's dropout masks.

        As the notebook: ``dZ3 = A3 - Y``; each hidden ``dAl`` is
        multiplied by the cached mask ``Dl`` and divided by
        ``keep_prob``; ``dZl = dAl * int64(Al > 0)``.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
        cache : tuple
            ``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)`` from
            ``forward_propagation_with_dropout``.
        keep_prob : float
            In (0, 1].

        Returns
        -------
        gradients : dict
            ``dZ3``, ``dW3``, ``db3``, ``dA2``, ``dZ2``, ``dW2``, ``db2``,
            ``dA1``, ``dZ1``, ``dW1``, ``db1``.
        """
        return T.backward(B, X, Y, cache,
                          keep_prob=T.check_keep_prob(keep_prob))

    def update_parameters(parameters, grads, learning_rate):
        """One gradient-descent step, ``W - learning_rate * dW`` (the
        backend's ``update_parameters``; ``parameters`` is not modified).

        Returns
        -------
        parameters : dict
        """
        return B.update_parameters(parameters, grads, learning_rate)

    def model(X, Y, learning_rate=0.3, num_iterations=30000, print_cost=True,
              lambd=0, keep_prob=1):
        """Train the notebook's 3-layer network, with L2 or dropout.

        LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, layers
        ``[n_x, 20, 3, 1]``, initialised by ``initialize_parameters``, then
        ``num_iterations`` steps of gradient descent on the whole set:
        with ``lambd > 0`` on the L2-regularized cost, with ``keep_prob <
        1`` through ``forward_propagation_with_dropout`` (the same masks at
        every iteration, as in the notebook). Without dropout this is the
        backend's ``L_layer_model`` (with ``lambd``) from the same initial
        parameters.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
            0/1 labels.
        learning_rate : float
        num_iterations : int
        print_cost : bool
            Print ``Cost after iteration i: c`` every 10000 iterations.
        lambd : float
            L2 strength, >= 0 (0: none).
        keep_prob : float
            Dropout's keep probability, in (0, 1] (1: none).

        Returns
        -------
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``, ``W3``, ``b3``.

        Raises
        ------
        ValueError
            For ``lambd > 0`` together with ``keep_prob < 1``, and for bad
            data or options as ``L_layer_model``.
        """
        lambd = T.check_lambd(lambd)
        keep_prob = T.check_keep_prob(keep_prob)
        if lambd and keep_prob < 1:
            raise ValueError(
                "model uses L2 regularization or dropout, not both (as the "
                "notebook): pass lambd=0 or keep_prob=1, got lambd=%r and "
                "keep_prob=%r" % (lambd, keep_prob))
        X = V.as_matrix(X, "X", shape_hint="(n_x, m)")
        dims = (X.shape[0],) + HIDDEN + (1,)

        def show(i, cost):
            if print_cost and i % PRINT_EVERY == 0:
                print("Cost after iteration {}: {}".format(i, cost))

        if keep_prob == 1:
            # The backend's training computes the notebook's L2 cost and
            # gradients (to rounding).
            with _adapters.course_seed(3) as rng:
                parameters, _ = B.L_layer_model(
                    X, Y, dims, learning_rate, num_iterations, False,
                    callback=show, seed=rng, lambd=lambd)
            return parameters
        # The notebook's loop: the backend's training draws other dropout
        # masks (a fresh pair per update, from a counter-based generator).
        X, Y, dims, learning_rate, num_iterations = V.check_training(
            X, Y, dims, learning_rate, num_iterations)
        parameters = initialize_parameters(list(dims))
        for i in range(num_iterations):
            a3, cache = forward_propagation_with_dropout(X, parameters,
                                                         keep_prob)
            cost = compute_cost(a3, Y)
            grads = backward_propagation_with_dropout(X, Y, cache, keep_prob)
            parameters = update_parameters(parameters, grads, learning_rate)
            show(i, cost)
        return parameters

    for fn in (initialize_parameters, compute_cost, update_parameters,
               compute_cost_with_regularization,
               backward_propagation_with_regularization,
               forward_propagation_with_dropout,
               backward_propagation_with_dropout, model):
        ns[fn.__name__] = _adapters._named(fn, fn.__name__, __name__)
    return ns


def _bind(backend):
    import fastdnn
    return _namespace(fastdnn.get_backend(backend))


#: The backend this module's functions run on; other backends:
#: :func:`fastdnn.course.load`.
BACKEND = "numba"
globals().update(_bind(BACKEND))
