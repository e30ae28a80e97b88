"""The course notebook "Planar data classification with one hidden layer".

The notebook's functions (Course 1, Week 3: LINEAR -> TANH -> LINEAR ->
SIGMOID) with its names, signatures, return structures, random draws and
printed lines, on fastdnn's numba backend (``fastdnn.course.load("planar",
backend="numpy")`` gives the same namespace on the numpy one)::

    from fastdnn.course.planar import *
    X, Y = load_planar_dataset()
    parameters = nn_model(X, Y, n_h=4, num_iterations=10000, print_cost=True)
    predictions = predict(parameters, X)          # 90% right on the flower

The numbers are those of the notebook's newest revision (the one whose
public tests call ``np.random.seed(2)`` before ``initialize_parameters``
and expect ``W1[0] = [0.56305445, -1.03925886]`` from ``nn_model_test``):

- ``initialize_parameters(n_x, n_h, n_y)`` draws ``randn * 0.01`` from
  numpy's global generator where it stands, without seeding: the notebook's
  cell seeds before calling it. (Older revisions seeded 2 inside it, which
  also overrode ``nn_model``'s seed; their printed costs, 0.693048 ...
  0.218607, are not this revision's 0.693162 ... 0.218485.)
- ``nn_model`` calls ``np.random.seed(3)`` before drawing its initial
  parameters, trains with learning rate 1.2 and prints ``Cost after
  iteration i: c`` (six decimals) every 1000 iterations; it returns the
  parameters only.
- ``compute_cost`` returns a Python float; ``predict(parameters, X)`` (the
  notebook's argument order) returns a boolean array ``A2 > 0.5``.
- ``backward_propagation`` forms ``dZ2 = A2 - Y`` and ``dZ1 = (W2.T @ dZ2)
  * (1 - A1**2)`` from the cache's ``A1``, as the notebook does (its public
  test gives a cache whose ``A1`` is not ``tanh(Z1)``).

The products and sums run on the backend's own functions
(``linear_activation_forward``, ``linear_backward``, ``compute_cost``,
``update_parameters``, ``two_layer_model`` with ``activation="tanh"``), so
the numba namespace runs on the numba kernels. Inputs are checked as
fastdnn checks them everywhere; ``nn_model`` trains on 0/1 (or boolean)
labels only.
"""
from .. import _validation as V
from ..datasets import load_planar_dataset
from . import _adapters

#: The notebook's title.
NOTEBOOK = "Planar data classification with one hidden layer"

#: The hidden layer size ``layer_sizes`` returns (the notebook's 4).
N_H = 4

#: The notebook's learning rate (``update_parameters``' default, the one
#: ``nn_model`` trains with).
LEARNING_RATE = 1.2

#: The functions built per backend by ``_namespace``.
_BOUND = ["initialize_parameters", "forward_propagation", "compute_cost",
          "backward_propagation", "update_parameters", "nn_model", "predict"]

__all__ = ["load_planar_dataset", "layer_sizes"] + _BOUND


def layer_sizes(X, Y):
    """The sizes of the notebook's three layers.

    Parameters
    ----------
    X : array_like of shape (n_x, m)
    Y : array_like of shape (n_y, m)

    Returns
    -------
    sizes : tuple of int
        ``(n_x, 4, n_y)``: the hidden layer has 4 units, as in the notebook.

    Raises
    ------
    TypeError, ValueError
        If ``X`` or ``Y`` is not a 2-D numeric array, or their numbers of
        columns (examples) differ.
    """
    X = V.as_matrix(X, "X", finite=False, shape_hint="(n_x, m)")
    Y = V.as_matrix(Y, "Y", finite=False, shape_hint="(n_y, m)")
    if X.shape[1] != Y.shape[1]:
        raise ValueError("X has %d columns (examples) but Y has %d; both must "
                         "be (rows, m) with one example per column"
                         % (X.shape[1], Y.shape[1]))
    return (int(X.shape[0]), N_H, int(Y.shape[0]))


def _two_layers(parameters):
    """``(W1, b1, W2, b2)`` of a one-hidden-layer parameters dict."""
    L, Ws, bs = V.check_parameters(parameters)
    if L != 2:
        raise ValueError("parameters must hold W1, b1, W2, b2 (one hidden "
                         "layer), got %d layers" % L)
    return Ws[0], bs[0], Ws[1], bs[1]


def _cached(cache, key):
    # The notebook's cache is a dict {"Z1", "A1", "Z2", "A2"}.
    if not isinstance(cache, dict):
        raise TypeError("cache must be the dict {'Z1', 'A1', 'Z2', 'A2'} "
                        "that forward_propagation returns, got %s"
                        % type(cache).__name__)
    if key not in cache:
        raise ValueError("cache has no %r; pass the dict that "
                         "forward_propagation returns" % key)
    return V.as_matrix(cache[key], "cache[%r]" % key)


def _namespace(B):
    """The notebook's names bound to backend module ``B``."""

    def initialize_parameters(n_x, n_h, n_y):
        """Parameters of LINEAR -> TANH -> LINEAR -> SIGMOID.

        As the notebook's newest revision: ``W1 = randn(n_h, n_x) * 0.01``
        and ``W2 = randn(n_y, n_h) * 0.01`` drawn from numpy's global
        generator WITHOUT seeding it (seed first, as the notebook's cell
        does with ``np.random.seed(2)``), ``b1`` and ``b2`` zeros. The
        global generator is left advanced by the draws.

        Returns
        -------
        parameters : dict
            ``W1`` (n_h, n_x), ``b1`` (n_h, 1), ``W2`` (n_y, n_h), ``b2``
            (n_y, 1).
        """
        with _adapters.global_stream() as rng:
            return B.initialize_parameters(n_x, n_h, n_y, seed=rng)

    def forward_propagation(X, parameters):
        """LINEAR -> TANH -> LINEAR -> SIGMOID.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``.

        Returns
        -------
        A2 : ndarray of shape (n_y, m)
            The sigmoid output.
        cache : dict
            ``Z1``, ``A1``, ``Z2``, ``A2``, as the notebook's.
        """
        W1, b1, W2, b2 = _two_layers(parameters)
        A1, (_, Z1) = B.linear_activation_forward(X, W1, b1, "tanh")
        A2, (_, Z2) = B.linear_activation_forward(A1, W2, b2, "sigmoid")
        return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}

    def compute_cost(A2, Y):
        """The cross-entropy cost, a Python float.

        The backend's ``compute_cost`` (``-(1/m) * sum(Y log A2 + (1 - Y)
        log(1 - A2))``, with ``A2`` clipped to ``[eps, 1 - eps]``; equal to
        the notebook's unclipped cost wherever the output is not saturated).

        Parameters
        ----------
        A2 : ndarray of shape (1, m)
        Y : ndarray of shape (1, m)
            Labels, 0/1 or boolean.

        Returns
        -------
        cost : float
        """
        return float(B.compute_cost(A2, Y))

    def backward_propagation(parameters, cache, X, Y):
        """Gradients of the cost, as the notebook forms them.

        ``dZ2 = A2 - Y``, ``dZ1 = (W2.T @ dZ2) * (1 - A1**2)`` with ``A1``
        and ``A2`` from ``cache`` (``Z1`` and ``Z2`` are not used), and
        ``dW = dZ @ A_prev.T / m``, ``db = sum(dZ) / m`` from the backend's
        ``linear_backward``.

        Parameters
        ----------
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``.
        cache : dict
            ``A1`` and ``A2`` (as ``forward_propagation`` returns them).
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (n_y, m)
            Labels (real values are allowed, as in the notebook's formula).

        Returns
        -------
        grads : dict
            ``dW1``, ``db1``, ``dW2``, ``db2``.
        """
        W1, b1, W2, b2 = _two_layers(parameters)
        A1 = _cached(cache, "A1")
        A2 = _cached(cache, "A2")
        Y = V.check_labels(Y, A2.shape, A2.dtype)
        dA1, dW2, db2 = B.linear_backward(A2 - Y, (A1, W2, b2))
        # The tanh derivative from the cached activation, as the notebook
        # (tanh_backward would recompute it from Z1).
        _, dW1, db1 = B.linear_backward(dA1 * (1 - A1 ** 2), (X, W1, b1))
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    def update_parameters(parameters, grads, learning_rate=LEARNING_RATE):
        """One gradient-descent step, ``W - learning_rate * dW``.

        The backend's ``update_parameters`` with the notebook's default
        learning rate 1.2; ``parameters`` is not modified.

        Returns
        -------
        parameters : dict
            New arrays ``W1``, ``b1``, ``W2``, ``b2``.
        """
        return B.update_parameters(parameters, grads, learning_rate)

    def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
        """Train the notebook's network on ``(X, Y)``.

        As the notebook: ``np.random.seed(3)``, then
        ``initialize_parameters(n_x, n_h, n_y)`` from numpy's global
        generator (left where the notebook leaves it), then
        ``num_iterations`` steps of gradient descent with learning rate 1.2
        (the backend's ``two_layer_model`` with ``activation="tanh"``).

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
            0/1 or boolean labels.
        n_h : int
            Hidden units.
        num_iterations : int
        print_cost : bool
            Print ``Cost after iteration i: c`` (``%f``, six decimals) every
            1000 iterations.

        Returns
        -------
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``.
        """
        n_x, _, n_y = layer_sizes(X, Y)

        def every_thousand(i, cost):
            if print_cost and i % 1000 == 0:
                print("Cost after iteration %i: %f" % (i, cost))

        with _adapters.course_seed(3) as rng:
            parameters, _ = B.two_layer_model(
                X, Y, (n_x, n_h, n_y), LEARNING_RATE, num_iterations, False,
                callback=every_thousand, seed=rng, activation="tanh",
                initialization="random", scale=0.01)
        return parameters

    def predict(parameters, X):
        """Predicted labels, ``A2 > 0.5`` (the notebook's argument order).

        Returns
        -------
        predictions : ndarray of bool, shape (1, m)
        """
        A2, _ = forward_propagation(X, parameters)
        return A2 > 0.5

    ns = {"load_planar_dataset": load_planar_dataset,
          "layer_sizes": layer_sizes}
    for fn in (initialize_parameters, forward_propagation, compute_cost,
               backward_propagation, update_parameters, nn_model, predict):
        ns[fn.__name__] = _adapters._named(fn, fn.__name__, __name__)
    return ns


def _bind(backend):
    import fastdnn
    return _namespace(fastdnn.get_backend(backend))


#: The backend this module's functions run on; other backends:
#: :func:`fastdnn.course.load`.
BACKEND = "numba"
globals().update(_bind(BACKEND))
