"""The data of the ``fastdnn`` command: the dataset ``train`` and
``evaluate`` use (by name or from a file, through
:func:`fastdnn.datasets.load`), and the examples of ``predict
--data-file``."""
import collections
import csv
import os

import numpy as np

import fastdnn
from .cli_args import UsageError

#: A dataset in the course's layout: X (n_x, m), y (1, m) class indices or
#: (n_y, m) real targets; the test split or None; ``classes`` (None for
#: real targets); ``image_shape`` [height, width, channels] of image data,
#: else None; ``name`` (printed), ``source`` (recorded in the model file,
#: to find the data again: a dataset's name or a file's absolute path);
#: ``features``, ``label_column``: a CSV file's column names, else None.
CliData = collections.namedtuple(
    "CliData", "X y X_test y_test classes image_shape name source features "
               "label_column")

#: Names the command knows besides fastdnn.datasets.NAMES.
SYNTHETIC = "synthetic"


def _text(classes):
    return [c.decode("utf-8") if isinstance(c, bytes) else str(c)
            for c in classes]


def _images(args, synthetic):
    """The cat images (or the synthetic ones) exactly as the command has
    always read them."""
    if synthetic:
        from ._synthetic import load_synthetic
        data, name = load_synthetic(), SYNTHETIC
    else:
        try:
            data = fastdnn.load_data(args.data)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                "%s; or try the tool on generated images with --synthetic"
                % exc) from None
        name = "cat"
    train_x_orig, train_y, test_x_orig, test_y, classes = data
    return CliData(fastdnn.flatten_images(train_x_orig), train_y,
                   fastdnn.flatten_images(test_x_orig), test_y,
                   _text(classes), list(train_x_orig.shape[1:]), name, name,
                   None, None)


def _csv_header(path):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.reader(f):
            if row:
                return [name.strip() for name in row]
    return []


def load(args, source=None):
    """The dataset of ``--dataset`` / ``--data`` / ``--synthetic`` (or
    ``source``, a recorded dataset) as a :data:`CliData`."""
    from .datasets import NAMES
    from .datasets import load as load_dataset

    if source is None:
        source = SYNTHETIC if args.synthetic else (
            getattr(args, "dataset", None) or "cat")
    if source in ("cat", SYNTHETIC):
        return _images(args, source == SYNTHETIC)
    if source not in NAMES and not os.path.exists(source):
        ext = os.path.splitext(source)[1].lower()
        if ext not in (".npz", ".h5", ".hdf5", ".csv"):
            raise UsageError(
                "unknown dataset %r: give one of %s, or a .npz, .h5 or .csv "
                "file" % (source, ", ".join(NAMES)))
    try:
        d = load_dataset(source, layout="course")
    except ImportError as exc:  # digits without scikit-learn, h5 without h5py
        raise RuntimeError(str(exc)) from None
    features = label_column = None
    if source in NAMES:
        recorded = source
    else:
        recorded = os.path.abspath(source)
        if source.lower().endswith(".csv"):
            header = _csv_header(source)
            features, label_column = header[:-1], header[-1]
    image_shape = [8, 8, 1] if source == "digits" else None
    return CliData(d.X, d.y, d.X_test, d.y_test, d.classes, image_shape,
                   d.name, recorded, features, label_column)


def evaluation_source(args, meta):
    """The dataset ``evaluate`` scores on: the one the options name, else
    the one the model file records, else the cat images."""
    if args.dataset is not None:
        if args.synthetic or (args.data is not None
                              and args.dataset != "cat"):
            raise UsageError("--dataset %s and %s both name the data: give "
                             "one" % (args.dataset, "--synthetic"
                                      if args.synthetic else "--data"))
        return args.dataset
    if args.synthetic:
        return SYNTHETIC
    if args.data is not None:
        return "cat"
    recorded = meta.get("dataset")
    return recorded if isinstance(recorded, str) and recorded else "cat"


# ---------------------------------------------------------------- predict

def _orient(X, n_x, path):
    """X as (n_x, m) from a stored array of examples."""
    if X.ndim > 2:  # a stack of images: examples first
        X = X.reshape(X.shape[0], -1)
    elif X.ndim == 1:
        X = X.reshape(1, -1) if n_x == X.size else X.reshape(-1, 1)
    if X.dtype == np.uint8:
        X = X / 255.0  # pixels, scaled as the training images were
    elif X.dtype.kind not in "biuf":
        raise ValueError("%s: X holds %s values, not numbers"
                         % (path, X.dtype))
    if X.shape[1] == n_x:
        return np.ascontiguousarray(X.T, dtype=np.float64)
    if X.shape[0] == n_x:
        return np.ascontiguousarray(X, dtype=np.float64)
    raise ValueError("%s: X has shape %s, and the model takes %d features "
                     "per example" % (path, X.shape, n_x))


def _read_npz_examples(path, n_x):
    from .datasets.files import X_KEYS, X_TEST_KEYS, _read_npz

    arrays = _read_npz(path)
    for key in X_KEYS + X_TEST_KEYS:
        if key in arrays:
            return _orient(np.asarray(arrays[key]), n_x, path)
    if len(arrays) == 1:
        return _orient(np.asarray(next(iter(arrays.values()))), n_x, path)
    raise ValueError("%s has no array of examples: name it X (it holds: %s)"
                     % (path, ", ".join(sorted(arrays)) or "nothing"))


def _columns(header, n_x, meta, path):
    """The indices of the model's feature columns in ``header``."""
    features = meta.get("features")
    if isinstance(features, list) and len(features) == n_x:
        # the columns the model was trained on, by name, in any order
        missing = [f for f in features if f not in header]
        if missing:
            raise ValueError("%s has no column %s of the model's features "
                             "(%s)" % (path, ", ".join(map(repr, missing)),
                                       ", ".join(features)))
        return [header.index(f) for f in features]
    if len(header) == n_x:
        return list(range(n_x))
    raise ValueError("%s has %d columns (%s) and the model takes %d "
                     "features" % (path, len(header), ", ".join(header),
                                   n_x))


def _read_csv_examples(path, n_x, meta):
    from .datasets.files import read_csv_rows

    header, rows = read_csv_rows(path)
    columns = _columns(header, n_x, meta, path)
    X = np.empty((n_x, len(rows)))
    for j, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError("%s line %d has %d fields, the header %d"
                             % (path, j + 2, len(row), len(header)))
        for i, c in enumerate(columns):
            try:
                X[i, j] = float(row[c])
            except ValueError:
                raise ValueError("%s line %d: column %r holds %r, not a "
                                 "number" % (path, j + 2, header[c],
                                             row[c])) from None
    return X


def read_examples(path, meta):
    """The examples of ``predict --data-file``, (n_x, m) float64."""
    n_x = meta["layer_dims"][0]
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        return _read_csv_examples(path, n_x, meta)
    if ext == ".npz":
        return _read_npz_examples(path, n_x)
    raise ValueError("--data-file %s: give a .csv or .npz file" % path)
