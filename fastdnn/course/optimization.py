"""The course notebook "Optimization Methods" (Course 2, Week 2).

The notebook's optimizers, mini-batches and learning-rate decays, its
``model`` (LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID trained
on mini-batches with gradient descent, momentum or Adam) and the helpers it
imports from its utility module (``initialize_parameters``,
``forward_propagation``, ``backward_propagation``, ``compute_cost``,
``predict``, ``predict_dec``, ``plot_decision_boundary``,
``load_dataset``), with the notebook's names, signatures, return
structures, random draws and printed lines, on fastdnn's numba backend
(``fastdnn.course.load("optimization", backend="numpy")`` gives the same
namespace on the numpy one)::

    from fastdnn.course.optimization import *
    train_X, train_Y = load_dataset()
    layers_dims = [train_X.shape[0], 5, 2, 1]
    parameters = model(train_X, train_Y, layers_dims, optimizer="adam")
    predictions = predict(train_X, train_Y, parameters)   # 0.94

The building blocks (``update_parameters_with_gd``,
``random_mini_batches``, ``initialize_velocity``,
``update_parameters_with_momentum``, ``initialize_adam``,
``update_parameters_with_adam``, ``update_lr``, ``schedule_lr_decay``) are
the backend's own, handed out unchanged: they check their arguments as
fastdnn does everywhere (``update_parameters_with_adam`` refuses parameters
whose layer sizes do not chain), and ``random_mini_batches`` shuffles with
``RandomState(seed)``, the notebook's permutation, leaving numpy's global
generator alone where the notebook seeds it.

As in the notebook:

- ``load_dataset()`` is the moons of ``np.random.seed(3);
  sklearn.datasets.make_moons(n_samples=300, noise=.2)``, generated
  without scikit-learn (:func:`fastdnn.datasets.load_moons_dataset`); it
  does not plot them.
- ``initialize_parameters(layer_dims)`` calls ``np.random.seed(3)`` and
  draws ``Wl = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})``.
- ``compute_cost(a3, Y)`` is the SUM of the cross-entropy over the
  examples; ``model`` adds it up over an epoch's mini-batches and prints
  ``cost_total / m``.
- ``model`` starts at ``seed = 10`` and adds 1 before each epoch's
  ``random_mini_batches``; Adam's ``t`` counts the updates from 1; with a
  ``decay`` the learning rate becomes ``decay(learning_rate0, i,
  decay_rate)`` after epoch ``i``. It prints ``Cost after epoch i: c``
  (``%f``) every 1000 epochs, and ``learning rate after epoch i: r`` with
  a decay; it returns the parameters only and does not plot the costs.

The products, activations and cross-entropy are the backend's (the output
clipped to ``[eps, 1 - eps]``).
"""
import numpy as np

from .. import _validation as V
from .._toolbox_options import check_toolbox
from .._validation_tables import check_name
from ..datasets import load_moons_dataset as load_dataset
from . import _adapters
from . import _three_layer as T

#: The notebook's title.
NOTEBOOK = "Optimization Methods"

#: The optimizers of the notebook's ``model``.
OPTIMIZERS = ("gd", "momentum", "adam")

#: ``model`` prints the cost every this many epochs.
PRINT_EVERY = 1000

#: The first seed of ``model``'s mini-batches (one is added before each
#: epoch).
SEED = 10

#: The backend's building blocks, under the notebook's names.
_PASSTHROUGH = ["update_parameters_with_gd", "random_mini_batches",
                "initialize_velocity", "update_parameters_with_momentum",
                "initialize_adam", "update_parameters_with_adam",
                "update_lr", "schedule_lr_decay"]

#: The functions built per backend by ``_namespace``.
_BOUND = _PASSTHROUGH + [
    "initialize_parameters", "forward_propagation", "backward_propagation",
    "compute_cost", "predict", "predict_dec", "plot_decision_boundary",
    "model"]

__all__ = ["load_dataset"] + _BOUND


def _check_model(X, Y, layers_dims, optimizer, learning_rate, mini_batch_size,
                 num_epochs, toolbox_options):
    """``model``'s arguments, checked before any training: ``(X, Y, dims,
    learning_rate, mini_batch_size, num_epochs, toolbox)``."""
    check_name(optimizer, "optimizer", OPTIMIZERS)
    dims = V.check_layer_dims(layers_dims, "layers_dims")
    if len(dims) != 4 or dims[-1] != 1:
        raise ValueError(
            "layers_dims must be [n_x, n_1, n_2, 1] (the notebook's 3-layer "
            "network with one sigmoid output), got %r" % (list(dims),))
    X = V.as_matrix(X, "X", shape_hint="(n_x, m)")
    V.check_X_for_layers(X, dims)
    Y = V.check_training_labels(Y, X.shape[1], X.dtype)
    learning_rate = V.check_learning_rate(learning_rate)
    mini_batch_size = V.check_int(mini_batch_size, "mini_batch_size", 1)
    num_epochs = V.check_int(num_epochs, "num_epochs", 0)
    toolbox = check_toolbox(optimizer=optimizer, **toolbox_options)
    return X, Y, dims, learning_rate, mini_batch_size, num_epochs, toolbox


def _namespace(B):
    """The notebook's names bound to backend module ``B``."""
    ns = _adapters.passthrough(B, _PASSTHROUGH)
    ns.update(T.utilities(B, __name__))

    def initialize_parameters(layer_dims):
        """Parameters of an L-layer network, ``layer_dims = [n_0, ...,
        n_L]``.

        As the notebook's utility module: ``np.random.seed(3)``, then for
        each layer ``Wl = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})`` from
        numpy's global generator (left where the notebook leaves it) and
        ``bl`` zeros.

        Returns
        -------
        parameters : dict
            ``Wl`` (n_l, n_{l-1}) and ``bl`` (n_l, 1) for l = 1 .. L.
        """
        with _adapters.course_seed(3) as rng:
            return B.initialize_parameters_deep(layer_dims, seed=rng,
                                                initialization="he")

    def compute_cost(a3, Y):
        """The cross-entropy SUMMED over the examples (not averaged), a
        numpy float: ``-sum(Y log a3 + (1 - Y) log(1 - a3))``.

        ``m`` times the backend's ``compute_cost`` (``a3`` clipped to
        ``[eps, 1 - eps]``). The notebook's ``model`` adds it up over the
        mini-batches of an epoch and divides by the number of examples.
        """
        cost = np.float64(B.compute_cost(a3, Y))
        return cost * np.shape(a3)[1]

    def model(X, Y, layers_dims, optimizer, learning_rate=0.0007,
              mini_batch_size=64, beta=0.9, beta1=0.9, beta2=0.999,
              epsilon=1e-8, num_epochs=5000, print_cost=True, decay=None,
              decay_rate=1):
        """Train the notebook's 3-layer network on mini-batches.

        ``initialize_parameters(layers_dims)``, then ``num_epochs`` epochs;
        epoch ``i`` shuffles with ``random_mini_batches(X, Y,
        mini_batch_size, 11 + i)`` and makes one update per mini-batch with
        ``update_parameters_with_gd``, ``update_parameters_with_momentum``
        or ``update_parameters_with_adam`` (``t`` counting the updates from
        1); with ``decay`` the learning rate is then ``decay(learning_rate,
        i, decay_rate)``.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
            0/1 labels.
        layers_dims : list of int
            ``[n_x, n_1, n_2, 1]``.
        optimizer : {"gd", "momentum", "adam"}
        learning_rate : float
        mini_batch_size : int
        beta : float
            Momentum's, in [0, 1).
        beta1, beta2 : float
            Adam's, in [0, 1).
        epsilon : float
            Adam's, > 0.
        num_epochs : int
        print_cost : bool
            Print ``Cost after epoch i: c`` every 1000 epochs (``cost_total
            / m``, ``%f``), and ``learning rate after epoch i: r`` with a
            decay.
        decay : callable, optional
            ``decay(learning_rate0, epoch_num, decay_rate)``, e.g.
            ``update_lr`` or ``schedule_lr_decay``.
        decay_rate : float
            >= 0.

        Returns
        -------
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``, ``W3``, ``b3``.

        Raises
        ------
        TypeError, ValueError
            For an unknown optimizer, bad data or options, before any
            training.
        """
        X, Y, dims, learning_rate, mini_batch_size, num_epochs, toolbox = (
            _check_model(X, Y, layers_dims, optimizer, learning_rate,
                         mini_batch_size, num_epochs,
                         dict(beta=beta, beta1=beta1, beta2=beta2,
                              epsilon=epsilon, decay=decay,
                              decay_rate=decay_rate)))
        m = X.shape[1]
        learning_rate0 = learning_rate
        t = 0
        seed = SEED
        parameters = initialize_parameters(list(dims))
        if optimizer == "momentum":
            v = B.initialize_velocity(parameters)
        elif optimizer == "adam":
            v, s = B.initialize_adam(parameters)
        for i in range(num_epochs):
            seed = seed + 1
            cost_total = 0
            for minibatch_X, minibatch_Y in ns["random_mini_batches"](
                    X, Y, mini_batch_size, seed):
                # The notebook's forward_propagation, compute_cost and
                # backward_propagation on arrays checked above.
                a3, caches = T.forward(B, minibatch_X, parameters,
                                       trusted=True)
                cost_total += compute_cost(a3, minibatch_Y)
                grads = T.lower_case(T.backward(
                    B, minibatch_X, minibatch_Y, caches, trusted=True))
                if optimizer == "gd":
                    parameters = B.update_parameters_with_gd(
                        parameters, grads, learning_rate)
                elif optimizer == "momentum":
                    parameters, v = B.update_parameters_with_momentum(
                        parameters, grads, v, toolbox.beta, learning_rate)
                else:
                    t = t + 1
                    parameters, v, s, _, _ = B.update_parameters_with_adam(
                        parameters, grads, v, s, t, learning_rate,
                        toolbox.beta1, toolbox.beta2, toolbox.epsilon)
            cost_avg = cost_total / m
            if decay:
                learning_rate = decay(learning_rate0, i, toolbox.decay_rate)
            if print_cost and i % PRINT_EVERY == 0:
                print("Cost after epoch %i: %f" % (i, cost_avg))
                if decay:
                    print("learning rate after epoch %i: %f"
                          % (i, learning_rate))
        return parameters

    for fn in (initialize_parameters, compute_cost, model):
        ns[fn.__name__] = _adapters._named(fn, fn.__name__, __name__)
    ns["load_dataset"] = load_dataset
    return ns


def _bind(backend):
    import fastdnn
    return _namespace(fastdnn.get_backend(backend))


#: The backend this module's functions run on; other backends:
#: :func:`fastdnn.course.load`.
BACKEND = "numba"
globals().update(_bind(BACKEND))
