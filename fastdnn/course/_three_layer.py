"""The 3-layer network of the Course 2 notebooks "Regularization" and
"Optimization Methods", as their utility modules define it.

LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID with the notebooks'
flat cache tuples, ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``, and
``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)`` with dropout
(``Dl`` the 0/1 mask of hidden layer ``l``). The products, activations and
costs are the backend's (``linear_activation_forward``,
``linear_backward``, ``compute_cost``, ``predict``), so a namespace bound to
the numba backend runs on its kernels; the dropout masks and the way the
gradients are assembled are the notebooks'.
"""
import numpy as np

from .. import _validation as V
from .._toolbox_options import check_toolbox
from . import _adapters

#: The cache entries, in the notebooks' order.
CACHE_NAMES = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2", "Z3", "A3",
               "W3", "b3")
DROPOUT_CACHE_NAMES = ("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2",
                       "b2", "Z3", "A3", "W3", "b3")


def three_layers(parameters):
    """``(Ws, bs)`` of a checked 3-layer parameters dict."""
    L, Ws, bs = V.check_parameters(parameters)
    if L != 3:
        raise ValueError("parameters must hold W1, b1, W2, b2, W3, b3 (the "
                         "notebook's 3-layer network), got %d layers" % L)
    return Ws, bs


def check_keep_prob(keep_prob):
    """``keep_prob`` in (0, 1], as the training functions check it."""
    return check_toolbox(keep_prob=keep_prob).keep_prob


def check_lambd(lambd):
    """``lambd`` >= 0, as the training functions check it."""
    return check_toolbox(lambd=lambd).lambd


def unpack_cache(cache, dropout):
    """The cache's arrays by name, checked: a tuple of 12 arrays (14 with
    dropout), in the order ``forward_propagation`` (or
    ``forward_propagation_with_dropout``) returns them."""
    names = DROPOUT_CACHE_NAMES if dropout else CACHE_NAMES
    source = ("forward_propagation_with_dropout" if dropout
              else "forward_propagation")
    if not isinstance(cache, (tuple, list)) or len(cache) != len(names):
        raise TypeError(
            "cache must be the tuple of %d arrays (%s) that %s returns, got "
            "%s" % (len(names), ", ".join(names), source,
                    "%s of %d" % (type(cache).__name__, len(cache))
                    if isinstance(cache, (tuple, list))
                    else type(cache).__name__))
    return {name: V.as_matrix(value, "cache %s" % name)
            for name, value in zip(names, cache)}


def forward(B, X, parameters, keep_prob=1.0, rng=None, trusted=False):
    """``(A3, cache)``; with ``rng``, hidden layer ``l`` is followed by the
    notebook's inverted dropout: ``Dl = (rng.rand(*Al.shape) < keep_prob)
    .astype(int)``, ``Al = Al * Dl``, ``Al = Al / keep_prob``.

    ``trusted``: ``parameters`` is a dict of float arrays that a training
    loop made from checked ones (its per-layer checks still run in the
    backend's functions)."""
    if trusted:
        Ws = [parameters["W%d" % l] for l in (1, 2, 3)]
        bs = [parameters["b%d" % l] for l in (1, 2, 3)]
    else:
        Ws, bs = three_layers(parameters)
    A = X
    cache = []
    for l in (0, 1):
        A, ((_, W, b), Z) = B.linear_activation_forward(A, Ws[l], bs[l],
                                                        "relu")
        if rng is None:
            cache += [Z, A, W, b]
            continue
        D = rng.rand(A.shape[0], A.shape[1])
        D = (D < keep_prob).astype(int)
        A = A * D
        A = A / keep_prob
        cache += [Z, D, A, W, b]
    A3, ((_, W3, b3), Z3) = B.linear_activation_forward(A, Ws[2], bs[2],
                                                        "sigmoid")
    return A3, tuple(cache + [Z3, A3, W3, b3])


def backward(B, X, Y, cache, lambd=0.0, keep_prob=None, trusted=False):
    """The gradients as the notebooks' ``backward_propagation_with_
    regularization`` (``lambd``) and ``backward_propagation_with_dropout``
    (``keep_prob``, the cache then holds the masks) form them, with upper
    case keys ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``.

    ``dZ3 = A3 - Y``; per layer the backend's ``linear_backward`` gives
    ``dA_prev = W^T dZ``, ``dW = dZ A_prev^T / m`` and ``db``; ``dW +=
    (lambd * W) / m``; a hidden ``dA`` is masked and scaled as in the
    forward pass, and ``dZ = dA * int64(A > 0)`` (from the cached ``A``).

    ``trusted``: a training loop's own checked ``X``, ``Y`` and a cache
    ``forward`` just made (the backend's ``linear_backward`` still checks
    each layer).
    """
    dropout = keep_prob is not None
    if trusted:
        c = dict(zip(DROPOUT_CACHE_NAMES if dropout else CACHE_NAMES,
                     cache))
        A3 = c["A3"]
    else:
        c = unpack_cache(cache, dropout)
        X = V.as_matrix(X, "X", shape_hint="(n_x, m)")
        A3 = c["A3"]
        if X.shape[1] != A3.shape[1]:
            raise ValueError("X has %d columns (examples) but the cache's "
                             "A3 has %d; pass the X the cache was computed "
                             "from" % (X.shape[1], A3.shape[1]))
        Y = V.check_labels(Y, A3.shape, A3.dtype)
    m = X.shape[1]
    grads = {}
    dZ = A3 - Y
    grads["dZ3"] = dZ
    for l in (3, 2, 1):
        A_prev = X if l == 1 else c["A%d" % (l - 1)]
        W = c["W%d" % l]
        dA_prev, dW, db = B.linear_backward(dZ, (A_prev, W, c["b%d" % l]))
        if lambd:
            dW = dW + (lambd * W) / m
        grads["dW%d" % l] = dW
        grads["db%d" % l] = db
        if l == 1:
            break
        if dropout:
            dA_prev = dA_prev * c["D%d" % (l - 1)]
            dA_prev = dA_prev / keep_prob
        grads["dA%d" % (l - 1)] = dA_prev
        dZ = np.multiply(dA_prev, np.int64(A_prev > 0))
        grads["dZ%d" % (l - 1)] = dZ
    return {key: grads[key] for key in (
        "dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1",
        "db1")}


def lower_case(grads):
    """The utility modules' gradients from ``backward``'s: lower case
    ``dz`` and ``da`` keys carrying the ``1/m`` (``dz3 = (1/m) (A3 -
    Y)``), ``dW`` and ``db`` unchanged."""
    m = grads["dZ3"].shape[1]
    return {key.replace("dZ", "dz").replace("dA", "da"):
            (1. / m) * value if key[1] in "ZA" else value
            for key, value in grads.items()}


def utilities(B, module):
    """The functions the two notebooks import from their utility modules,
    bound to backend ``B`` and named for ``module``: ``forward_propagation``,
    ``backward_propagation``, ``predict``, ``predict_dec`` and
    ``plot_decision_boundary`` (``compute_cost`` differs: the caller's)."""

    def forward_propagation(X, parameters):
        """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        parameters : dict
            ``W1``, ``b1``, ``W2``, ``b2``, ``W3``, ``b3``.

        Returns
        -------
        A3 : ndarray of shape (1, m)
            The sigmoid output.
        cache : tuple
            ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``, as the
            notebook's.
        """
        return forward(B, X, parameters)

    def backward_propagation(X, Y, cache):
        """Gradients of the cost, as the notebook's utility module forms
        them.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : ndarray of shape (1, m)
        cache : tuple
            As ``forward_propagation`` returns it.

        Returns
        -------
        gradients : dict
            With the module's lower case keys: ``dz3 = (1/m) (A3 - Y)``,
            ``dW3``, ``db3``, ``da2``, ``dz2``, ``dW2``, ``db2``, ``da1``,
            ``dz1``, ``dW1``, ``db1`` (``da`` and ``dz`` carry the ``1/m``,
            as there; ``dW`` and ``db`` are the backend's).
        """
        return lower_case(backward(B, X, Y, cache))

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
            1 where ``A3 > 0.5``, else 0.
        """
        three_layers(parameters)
        p = B.predict(X, y, parameters, print_accuracy=False).astype(int)
        if y is not None:
            # y has been checked by B.predict: m 0/1 labels.
            y = np.reshape(np.asarray(y), (1, p.shape[1]))
            print("Accuracy: " + str(np.mean(p[0, :] == y[0, :])))
        return p

    def predict_dec(parameters, X):
        """Boolean predictions ``A3 > 0.5`` (the notebook's argument order,
        used to draw the decision boundary).

        Returns
        -------
        predictions : ndarray of bool, shape (1, m)
        """
        A3, _ = forward(B, X, parameters)
        return A3 > 0.5

    def plot_decision_boundary(model, X, y):
        """The notebook's decision-boundary picture, as a Figure.

        ``model`` maps an ``(k, 2)`` array of points (one per row) to
        their labels, e.g. ``lambda x: predict_dec(parameters, x.T)``; it
        is evaluated on a grid of step 0.01 over the data's range widened
        by 1, drawn as filled contours, and the examples on top.

        Parameters
        ----------
        model : callable
        X : ndarray of shape (2, m)
        y : ndarray of shape (1, m)
            0/1 labels, the points' colours.

        Returns
        -------
        matplotlib.figure.Figure
            Built with matplotlib's object API (no ``pyplot`` state); set
            its title and limits with ``fig.axes[0]``.
        """
        from matplotlib.figure import Figure
        X = V.as_matrix(X, "X", shape_hint="(2, m)")
        if X.shape[0] != 2:
            raise ValueError("X must have 2 rows (x1, x2), got %d"
                             % X.shape[0])
        y = np.reshape(V.as_array(y, "y"), -1)
        if y.shape[0] != X.shape[1]:
            raise ValueError("y has %d labels but X has %d columns"
                             % (y.shape[0], X.shape[1]))
        h = 0.01
        xx, yy = np.meshgrid(
            np.arange(X[0].min() - 1, X[0].max() + 1, h),
            np.arange(X[1].min() - 1, X[1].max() + 1, h))
        Z = np.asarray(model(np.c_[xx.ravel(), yy.ravel()]))
        Z = Z.reshape(xx.shape).astype(float)
        fig = Figure(figsize=(7, 4), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        ax.contourf(xx, yy, Z, cmap="Spectral")
        ax.scatter(X[0], X[1], c=y, s=40, cmap="Spectral",
                   edgecolors="0.2", linewidths=0.4)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        return fig

    return {fn.__name__: _adapters._named(fn, fn.__name__, module)
            for fn in (forward_propagation, backward_propagation, predict,
                       predict_dec, plot_decision_boundary)}
