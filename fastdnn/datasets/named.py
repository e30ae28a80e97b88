"""One entry point for every dataset: :func:`load` takes a name (``"cat"``,
``"planar"``, ``"circles"``, ``"moons"``, ``"digits"``) or a file and gives
the arrays in the course's layout or scikit-learn's, with class names.
"""
import collections
import os

import numpy as np

from ._checks import check_layout
from .files import read_arrays, read_csv

#: A loaded dataset. ``X``: (n_x, m) in the course's layout, (m, n_x) in
#: scikit-learn's; ``y``: (1, m) or (m,) class indices (int64) for a
#: classification set, real targets for regression ((n_y, m) or (m, n_y)
#: with several); ``X_test``/``y_test``: the test split, or None;
#: ``classes``: the class names (label i is ``classes[i]``), or None for
#: regression; ``name``.
Dataset = collections.namedtuple(
    "Dataset", "X y X_test y_test classes name")

#: The datasets known by name.
NAMES = ("cat", "planar", "circles", "moons", "digits")

#: The digits' training images; the other 297 of the 1797 are the test set.
DIGITS_TRAIN = 1500

#: File name endings :func:`load` reads.
EXTENSIONS = (".npz", ".h5", ".hdf5", ".csv")


def examples_axis(x_shape, y_shape, file_layout, path):
    """The axis of a stored X (of ``x_shape``) that runs over the examples:
    0 (one example per row, or a stack of images) or 1 (one per column),
    given the labels' shape ``y_shape``."""
    if len(x_shape) != 2:
        return 0
    m = y_shape[0] if len(y_shape) == 1 else max(y_shape) \
        if 1 in y_shape else None
    if file_layout == "sklearn":
        return 0
    if file_layout == "course":
        return 1
    rows, cols = x_shape
    if m is None:  # several targets: the layout of y decides
        return 0 if y_shape[0] == rows else 1
    if m == rows and m != cols:
        return 0
    if m == cols and m != rows:
        return 1
    if m == rows == cols:
        raise ValueError("%s: X is square (%d x %d), so its layout is "
                         "ambiguous; pass file_layout='sklearn' (one example "
                         "per row) or 'course' (one per column)"
                         % (path, rows, cols))
    raise ValueError("%s: X has shape %s but there are %d labels"
                     % (path, tuple(x_shape), m))


def _examples_first(X, y, file_layout, path):
    """X as (m, n) given a stored X and labels y."""
    if X.ndim > 2:  # a stack of images or tensors: examples first
        return X.reshape(X.shape[0], -1)
    if X.ndim == 1:
        return X.reshape(-1, 1)
    return X if examples_axis(X.shape, y.shape, file_layout, path) == 0 \
        else X.T


def _features(X, path):
    if X.dtype == np.uint8:  # pixels, scaled as the course scales them
        return X.astype(np.float64) / 255.0
    if X.dtype.kind not in "biuf":
        raise ValueError("%s: the features must be numbers, got dtype %s"
                         % (path, X.dtype))
    return X.astype(np.float64)


def _text(values):
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
            for v in np.asarray(values).ravel().tolist()]


def encode_labels(y, classes=None):
    """Labels as ``(y, classes)``: class indices 0..C-1 (int64) with their
    names for class labels (strings, or integer values), or float64
    targets with ``classes=None`` for real values and several columns."""
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        return y.astype(np.float64), None
    if y.dtype.kind in "SU":
        names, index = np.unique(y, return_inverse=True)
        return index.astype(np.int64), _text(names)
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.dtype.kind not in "iuf":
        raise ValueError("the labels must be numbers or strings, got dtype "
                         "%s" % y.dtype)
    if not np.all(np.isfinite(y)):
        raise ValueError("the labels hold NaN or infinite values")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        return y.astype(np.float64), None
    values = np.unique(y)
    if classes is not None and len(_text(classes)) >= len(values) and \
            values.min() >= 0 and values.max() < len(_text(classes)):
        return y.astype(np.int64), _text(classes)
    if values.min() == 0 and values.max() == len(values) - 1:
        return y.astype(np.int64), [str(int(v)) for v in values]
    index = np.searchsorted(values, y)
    return index.astype(np.int64), [str(int(v)) if float(v).is_integer()
                                    else str(v) for v in values]


def encode_test_labels(y_test, names, path):
    """Test labels encoded with the training set's class ``names`` (real
    targets, ``names`` None, as float64)."""
    if names is None:
        return np.asarray(y_test, dtype=np.float64)
    test = np.asarray(y_test).ravel()
    if test.dtype.kind in "SU":
        lookup = {name: i for i, name in enumerate(names)}
        unknown = sorted(set(_text(test)) - set(lookup))
        if unknown:
            raise ValueError("%s: test labels %s are not among the "
                             "training classes" % (path, unknown))
        return np.array([lookup[t] for t in _text(test)], dtype=np.int64)
    return encode_labels(test, names)[0]


def _arrange(X, y, layout):
    """X (m, n) and y (m,) or (m, k) to ``layout``."""
    if layout == "sklearn":
        return np.ascontiguousarray(X), y
    XT = np.ascontiguousarray(X.T)
    return XT, (y.reshape(1, -1) if y.ndim == 1
                else np.ascontiguousarray(y.T))


def _from_file(path, layout, x_key, y_key, label_column, file_layout):
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        X, labels, _, _ = read_csv(path, label_column)
        y, classes = encode_labels(labels)
        X, y = _arrange(X, y, layout)
        return Dataset(X, y, None, None, classes, os.path.basename(path))
    X, y_raw, X_test, y_test_raw, classes = read_arrays(path, x_key, y_key)
    y_raw = np.asarray(y_raw)
    X = _features(_examples_first(np.asarray(X), y_raw, file_layout, path),
                  path)
    if X.size == 0:
        raise ValueError("%s: X holds no values (shape %s after one example "
                         "per row); a dataset needs at least one example "
                         "of at least one feature" % (path, X.shape))
    if y_raw.ndim == 2 and 1 not in y_raw.shape and y_raw.shape[0] != \
            X.shape[0]:
        y_raw = y_raw.T
    y, names = encode_labels(y_raw, classes)
    X, y = _arrange(X, y, layout)
    if X_test is not None and y_test_raw is not None:
        y_test_raw = np.asarray(y_test_raw)
        X_test = _features(_examples_first(np.asarray(X_test), y_test_raw,
                                           file_layout, path), path)
        y_test = encode_test_labels(y_test_raw, names, path)
        X_test, y_test = _arrange(X_test, y_test, layout)
    else:
        X_test = y_test = None
    return Dataset(X, y, X_test, y_test, names, os.path.basename(path))


def _cat(layout, data_dir):
    from ..data import flatten_images, load_data
    train_x, train_y, test_x, test_y, classes = load_data(data_dir)
    X = flatten_images(train_x)
    X_test = flatten_images(test_x)
    y = train_y.ravel().astype(np.int64)
    y_test = test_y.ravel().astype(np.int64)
    X, y = _arrange(X.T, y, layout)
    X_test, y_test = _arrange(X_test.T, y_test, layout)
    return Dataset(X, y, X_test, y_test, _text(classes), "cat")


def _digits(layout):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the digits dataset is scikit-learn's: pip "
                          "install 'fastdnn[sklearn]'") from None
    digits = load_digits()
    # Pixel intensities 0..16, scaled to [0, 1].
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    # A fixed split: the first DIGITS_TRAIN images to train, the rest
    # (297) to test.
    X_test, y_test = _arrange(X[DIGITS_TRAIN:], y[DIGITS_TRAIN:], layout)
    X, y = _arrange(X[:DIGITS_TRAIN], y[:DIGITS_TRAIN], layout)
    return Dataset(X, y, X_test, y_test,
                   [str(c) for c in digits.target_names], "digits")


def _generated(name, layout):
    # The package re-exports the function planar under its module's name:
    # import from the modules themselves.
    from .planar import planar
    from .shapes import circles, moons
    if name == "planar":
        X, y = planar(layout="sklearn")
        X_test = y_test = None
    elif name == "circles":
        X, y = circles(300, noise=0.05, seed=1, layout="sklearn")
        X_test, y_test = circles(100, noise=0.05, seed=2, layout="sklearn")
    else:
        X, y = moons(300, noise=0.2, seed=3, layout="sklearn")
        X_test, y_test = moons(100, noise=0.2, seed=4, layout="sklearn")
    X, y = _arrange(X, np.asarray(y, dtype=np.int64), layout)
    if X_test is not None:
        X_test, y_test = _arrange(X_test, np.asarray(y_test, np.int64),
                                  layout)
    names = {"planar": ["red", "blue"], "circles": ["outer", "inner"],
             "moons": ["upper", "lower"]}[name]
    return Dataset(X, y, X_test, y_test, names, name)


def load(source, *, layout="course", x_key=None, y_key=None,
         label_column=None, file_layout=None, data_dir=None):
    """Load a dataset by name or from a file.

    Parameters
    ----------
    source : str or os.PathLike
        ``"cat"`` (the course's images, flattened and scaled to [0, 1],
        with their test split), ``"planar"``, ``"circles"``, ``"moons"``
        (the course's 2-D sets; circles and moons with a test split drawn
        from the next seed), ``"digits"`` (scikit-learn's 8x8 digits,
        scaled to [0, 1], the first 1500 to train and the last 297 to
        test; needs scikit-learn), or the path of a ``.npz``,
        ``.h5``/``.hdf5`` or ``.csv`` file.
    layout : {"course", "sklearn"}
        ``"course"``: X (n_x, m), y (1, m); ``"sklearn"``: X (m, n_x), y
        (m,).
    x_key, y_key : str, optional
        The arrays' names in a ``.npz``/HDF5 file (default: the first of
        ``X``, ``x``, ``X_train``, ... and ``y``, ``Y``, ``y_train``, ...;
        ``X_test``/``y_test`` and ``classes`` are picked up when present).
    label_column : str, optional
        A CSV file's label column (default: the last).
    file_layout : {None, "sklearn", "course"}
        How a file stores a 2-D X; by default the labels' count decides.
    data_dir : str or os.PathLike, optional
        The cat files' folder (default ``$FASTDNN_DATA``, else
        ``./datasets``).

    Returns
    -------
    Dataset
        ``(X, y, X_test, y_test, classes, name)``; class labels become
        indices 0..C-1 and ``classes`` their names; real-valued labels (or
        several label columns) stay as they are, with ``classes=None``.
    """
    layout = check_layout(layout)
    if file_layout not in (None, "sklearn", "course"):
        raise ValueError("file_layout must be None, 'sklearn' or 'course', "
                         "got %r" % (file_layout,))
    if isinstance(source, str) and source in NAMES:
        if source == "cat":
            return _cat(layout, data_dir)
        if source == "digits":
            return _digits(layout)
        return _generated(source, layout)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError("source must be a dataset name (%s) or a file path, "
                        "got %r" % (", ".join(NAMES), source))
    path = os.fspath(source)
    if os.path.splitext(path)[1].lower() not in EXTENSIONS:
        raise ValueError("unknown dataset %r: give one of %s, or a file "
                         "ending in %s" % (path, ", ".join(NAMES),
                                           ", ".join(EXTENSIONS)))
    return _from_file(path, layout, x_key, y_key, label_column, file_layout)
