"""Figures: the cost curve, the mislabeled images and the decision boundary
of a classifier of 2-D data.

Built with matplotlib's object API (:class:`matplotlib.figure.Figure`), never
``pyplot``: no global state, no GUI, works on a headless machine. Each
function writes a PNG when given a path and returns the figure, which a
notebook displays as it is.
"""
import math

import numpy as np
from matplotlib.figure import Figure

from . import _validation as v

_BLUE = "#1f5fa8"
_RED = "#c0392b"
_GREEN = "#1e8449"


def _save(fig, path):
    if path is not None:
        fig.savefig(path, format="png", dpi=fig.dpi)
    return fig


#: The y-axis label of :func:`plot_costs`, by the output the network was
#: trained with (each output fixes its loss).
COST_LABELS = {"sigmoid": "cost (cross-entropy)",
               "softmax": "cost (categorical cross-entropy)",
               "identity": "cost (squared error / 2)"}


def plot_costs(costs, learning_rate, path=None, *, every=100,
               output="sigmoid"):
    """The learning curve: the cost recorded every ``every`` iterations.

    Parameters
    ----------
    costs : sequence of float or of 0-d arrays
        As returned by ``L_layer_model`` (one cost every 100 iterations,
        each a 0-d array of the training's dtype).
    learning_rate : float
        Shown in the title, as the course does.
    path : str or os.PathLike, optional
        Write the figure there as a PNG.
    every : int
        Iterations between two recorded costs (100 for fastdnn's models).
    output : {"sigmoid", "softmax", "identity"}
        The output the network was trained with, which names the loss on
        the y axis (:data:`COST_LABELS`).

    Returns
    -------
    matplotlib.figure.Figure
        A run whose cost became NaN or infinite (it diverged) is drawn up
        to its last finite cost, with a dashed line and a note where the
        cost stopped being finite.
    """
    try:
        if costs is None or isinstance(costs, (str, bytes)):
            raise TypeError
        c = np.asarray(costs, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError("costs must be a sequence of numbers (the costs a "
                        "training recorded), got %s"
                        % type(costs).__name__) from None
    if c.size == 0:
        raise ValueError("costs is empty: train for at least one iteration")
    every = v.check_int(every, "every", 1)
    ylabel = COST_LABELS[v.check_output(output)]
    it = np.arange(c.size) * every
    bad = np.flatnonzero(~np.isfinite(c))
    if bad.size and bad[0] == 0:
        raise ValueError("costs[0] is %r: the training diverged before its "
                         "first recorded cost; lower the learning rate"
                         % float(c[0]))
    diverged = int(bad[0]) if bad.size else None
    if diverged is not None:
        c, it_bad, it = c[:diverged], it[diverged], it[:diverged]

    fig = Figure(figsize=(7, 4.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(it, c, color=_BLUE, linewidth=2,
            marker="o" if c.size <= 30 else None, markersize=3.5)
    ax.set_title("Learning rate = %g" % learning_rate, fontsize=12)
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.grid(True, color="0.88", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.margins(x=0.03)
    ax.set_ylim(min(0.0, 1.08 * c.min()), 1.08 * max(c.max(), 1e-12))
    if diverged is not None:
        ax.axvline(it_bad, color="0.45", linestyle="--", linewidth=1)
        ax.annotate("cost not finite from iteration %d" % it_bad,
                    (it_bad, 0.5), xycoords=("data", "axes fraction"),
                    xytext=(-4, 0), textcoords="offset points", ha="right",
                    fontsize=9, color="0.3", rotation=90, va="center")
    ax.annotate("%.4f" % c[0], (it[0], c[0]), xytext=(6, 4),
                textcoords="offset points", fontsize=9, color="0.3")
    if c.size > 1:
        ax.annotate("%.4f" % c[-1], (it[-1], c[-1]), xytext=(-6, 6),
                    textcoords="offset points", ha="right", fontsize=9,
                    color="0.3")
    return _save(fig, path)


def _class_names(classes):
    names = []
    for c in np.asarray(classes).ravel().tolist():
        names.append(c.decode("utf-8") if isinstance(c, bytes) else str(c))
    if len(names) < 2:
        raise ValueError("classes must name at least two classes (label 0, "
                         "label 1, ...), got %r" % (names,))
    return names


def _check_labels(labels, n, what):
    """Class indices 0..n-1, as int64."""
    out = np.asarray(labels).astype(np.int64)
    if out.size and (out.min() < 0 or out.max() >= n):
        raise ValueError("%s must be class indices from 0 to %d (one per "
                         "class name), got values from %d to %d"
                         % (what, n - 1, out.min(), out.max()))
    return out


def _image_shape(n_x, image_shape):
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if int(np.prod(shape)) != n_x:
            raise ValueError("image_shape %s does not hold the %d values of "
                             "one column of X" % (shape, n_x))
        return shape
    side = int(round(math.sqrt(n_x / 3)))
    if side * side * 3 == n_x:
        return (side, side, 3)
    side = int(round(math.sqrt(n_x)))
    if side * side == n_x:
        return (side, side)
    raise ValueError("cannot tell the image size of a column of %d values; "
                     "pass image_shape=(height, width, channels)" % n_x)


#: Title of each image of :func:`plot_mislabeled`.
MISLABELED_TITLE = "#{index}\nPrediction: {prediction}\nClass: {label}"


def plot_mislabeled(classes, X, y, p, path=None, *, image_shape=None,
                    max_images=None, ncols=5, title=MISLABELED_TITLE):
    """The course's ``print_mislabeled_images``: a grid of the images whose
    prediction differs from the label, each titled with both classes.

    Parameters
    ----------
    classes : sequence of str or bytes
        Names of label 0, label 1, ... (``load_data``'s ``classes``: two).
    X : ndarray of shape (n_x, m)
        Flattened images, one per column, values in [0, 1].
    y, p : ndarray of shape (1, m)
        True and predicted labels: 0/1 (two classes; any nonzero value is
        label 1), or class indices 0..C-1 for C class names.
    path : str or os.PathLike, optional
        Write the figure there as a PNG.
    image_shape : (height, width[, channels]), optional
        By default square RGB (or grayscale) images are assumed.
    max_images : int, optional
        Show at most this many mislabeled images, the first ones (all by
        default); the figure's title then says how many were left out.
    ncols : int
        Images per row.
    title : str
        Title of each image, a :meth:`str.format` string with the fields
        ``{index}`` (column of X), ``{prediction}`` and ``{label}`` (class
        names).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _class_names(classes)
    X = v.as_matrix(X, "X", shape_hint="(n_x, m)")
    m = X.shape[1]
    y = np.asarray(y).reshape(-1)
    p = np.asarray(p).reshape(-1)
    if y.shape != (m,) or p.shape != (m,):
        raise ValueError("y and p must hold one label per column of X (m = "
                         "%d), got shapes %s and %s"
                         % (m, np.shape(y), np.shape(p)))
    shape = _image_shape(X.shape[0], image_shape)
    ncols = v.check_int(ncols, "ncols", 1)
    if len(names) == 2:
        y, p = (y != 0).astype(np.int64), (p != 0).astype(np.int64)
    else:
        y = _check_labels(y, len(names), "y")
        p = _check_labels(p, len(names), "p")
    wrong = np.flatnonzero(y != p)
    shown = wrong if max_images is None else wrong[:v.check_int(
        max_images, "max_images", 1)]

    if shown.size == 0:
        fig = Figure(figsize=(5, 1.6), dpi=100, layout="constrained")
        fig.text(0.5, 0.5, "No mislabeled images (%d of %d correct)"
                 % (m - wrong.size, m), ha="center", va="center",
                 fontsize=12, color=_GREEN)
        return _save(fig, path)

    cols = min(ncols, shown.size)
    rows = math.ceil(shown.size / cols)
    fig = Figure(figsize=(2.1 * cols, 2.45 * rows + 0.55), dpi=100,
                 layout="constrained")
    heading = "%d mislabeled image%s of %d" % (
        wrong.size, "" if wrong.size == 1 else "s", m)
    if shown.size < wrong.size:
        heading += " (first %d shown, %d left out)" % (
            shown.size, wrong.size - shown.size)
    fig.suptitle(heading, fontsize=13)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, j in zip(axes.ravel(), shown):
        img = np.clip(X[:, j].reshape(shape), 0, 1)
        # tiny images (8x8 digits) as pixels: smoothing would blur them
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0,
                  vmax=1, interpolation="nearest" if shape[0] < 16
                  else "lanczos")
        pred, true = names[p[j]], names[y[j]]
        ax.set_title(title.format(index=j, prediction=pred, label=true),
                     fontsize=9, color=_RED, linespacing=1.25)
    return _save(fig, path)


def _grid(X, resolution):
    """A resolution x resolution grid over X's two features, with a margin
    of a tenth of each range (at least 0.5 for data in a point)."""
    axes = []
    for row in X:
        low, high = float(row.min()), float(row.max())
        pad = max(0.1 * (high - low), 0.5 if high == low else 0.0)
        axes.append(np.linspace(low - pad, high + pad, resolution))
    return np.meshgrid(*axes)


def plot_decision_boundary(classify, X, y, path=None, *, classes=None,
                           resolution=300, title=None):
    """The course's ``plot_decision_boundary``: the class a model gives each
    point of the plane, with the examples on top.

    Parameters
    ----------
    classify : callable
        ``classify(points)`` with points of shape (2, k) returns their k
        class indices (shape (k,) or (1, k)), e.g. ``lambda P:
        fastdnn.predict(P, None, parameters, print_accuracy=False)``.
    X : ndarray of shape (2, m)
        The examples, one per column (the course's layout).
    y : ndarray of shape (1, m) or (m,)
        Their class indices 0..C-1.
    path : str or os.PathLike, optional
        Write the figure there as a PNG.
    classes : sequence of str, optional
        The class names, shown in the legend (default "0", "1", ...).
    resolution : int
        Grid points along each axis (``classify`` sees resolution**2).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    X = v.as_matrix(X, "X", shape_hint="(2, m)")
    if X.shape[0] != 2:
        raise ValueError("X must hold 2 features per example (shape (2, m)) "
                         "to draw a decision boundary, got shape %s"
                         % (X.shape,))
    y = np.asarray(y).reshape(-1)
    if y.shape != (X.shape[1],):
        raise ValueError("y must hold one label per column of X (m = %d), "
                         "got shape %s" % (X.shape[1], np.shape(y)))
    resolution = v.check_int(resolution, "resolution", 2)
    if classes is None:
        n = int(np.max(y)) + 1 if y.size else 2
        names = [str(k) for k in range(max(n, 2))]
    else:
        names = _class_names(classes)
    y = _check_labels(y, len(names), "y")
    xx, yy = _grid(X, resolution)
    Z = np.asarray(classify(np.vstack([xx.ravel(), yy.ravel()])))
    if Z.size != xx.size:
        raise ValueError("classify returned %d labels for %d points"
                         % (Z.size, xx.size))
    Z = _check_labels(Z, len(names), "classify's labels").reshape(xx.shape)

    n = len(names)
    cmap = matplotlib.colormaps["Spectral" if n == 2 else "tab10"]
    colors = [cmap(0.0), cmap(1.0)] if n == 2 else [
        cmap(k % 10) for k in range(n)]
    areas = matplotlib.colors.ListedColormap(colors)
    fig = Figure(figsize=(6.4, 5.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.contourf(xx, yy, Z, levels=np.arange(n + 1) - 0.5, cmap=areas,
                alpha=0.35)
    for k, name in enumerate(names):
        sel = y == k
        if sel.any():
            ax.scatter(X[0, sel], X[1, sel], s=14, color=colors[k],
                       edgecolors="0.15", linewidths=0.4, label=name)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "Decision boundary", fontsize=12)
    ax.legend(loc="best", fontsize=9, framealpha=0.8)
    return _save(fig, path)
