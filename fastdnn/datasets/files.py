"""A user's own data: ``.npz``, ``.h5`` / ``.hdf5`` and ``.csv`` files.

Nothing read can run code or exhaust memory: ``.npz`` archives go through
fastdnn's safe reader (no pickles, declared sizes checked before anything
is decompressed), HDF5 datasets are checked for kind and declared size
before they are read, and only regular files are opened (a FIFO cannot
hang the reader).

Arrays in files are looked up by name: ``X`` / ``x`` and ``y`` / ``Y`` (or
the names given), with optional ``X_test`` / ``y_test`` and ``classes``. A
CSV file has one example per row, a header row of column names, and its
label in the last column (or the one named).
"""
import csv
import io
import os
import stat

import numpy as np

from .. import _npz_safety
from .._validation_scalars import _physical_memory

#: Names tried, in order, for the features, the labels, the test split and
#: the class names.
X_KEYS = ("X", "x", "X_train", "x_train", "train_x", "train_set_x")
Y_KEYS = ("y", "Y", "y_train", "Y_train", "train_y", "train_set_y")
X_TEST_KEYS = ("X_test", "x_test", "test_x", "test_set_x")
Y_TEST_KEYS = ("y_test", "Y_test", "test_y", "test_set_y")
CLASS_KEYS = ("classes", "list_classes", "class_names")

#: Largest array read whole: half of the physical memory (or 8 GiB when it
#: is unknown).
MAX_BYTES = (_physical_memory() or 16 << 30) // 2


def _pick(available, wanted, given, what, filename, required):
    if given is not None:
        if given not in available:
            raise ValueError("%s has no array %r (it holds: %s)"
                             % (filename, given,
                                ", ".join(sorted(available)) or "nothing"))
        return given
    for key in wanted:
        if key in available:
            return key
    if required:
        raise ValueError(
            "%s has no %s array: name it one of %s, or pass its name "
            "(it holds: %s)" % (filename, what, ", ".join(wanted),
                                ", ".join(sorted(available)) or "nothing"))
    return None


def _read_npz(path):
    f, size = _npz_safety.open_regular(path)
    with f:
        try:
            return _npz_safety.read_npz(f, size)
        except _npz_safety.NpzError as exc:
            raise ValueError("%s %s" % (path, exc)) from None


def h5_declared_bytes(node):
    """The size an HDF5 dataset declares, before anything is read."""
    return int(np.prod(node.shape, dtype=np.float64)) * node.dtype.itemsize


def open_h5_file(path):
    """An HDF5 file open for reading, if it is a regular file (a FIFO would
    hang the reader); ``OSError`` for a file HDF5 cannot read."""
    import h5py

    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError("%s is not a regular file" % path)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise OSError("cannot read %s as an HDF5 file: %s"
                      % (path, exc)) from exc


def read_h5_dataset(node, key, path):
    """The whole HDF5 dataset ``node`` (named ``key`` in ``path``), once its
    kind (numbers or strings) and declared size are checked."""
    if node.dtype.kind not in "biufSU":
        raise ValueError("%s: %r holds %s values, not numbers or "
                         "strings" % (path, key, node.dtype))
    nbytes = h5_declared_bytes(node)
    if nbytes > MAX_BYTES:
        raise ValueError(
            "%s: %r declares %d bytes, more than the %d this "
            "machine can read whole" % (path, key, nbytes, MAX_BYTES))
    try:
        return np.asarray(node[()])
    except Exception as exc:  # h5py's errors of a corrupt file
        raise OSError("cannot read %r from %s: %s"
                      % (key, path, exc)) from exc


def _h5_arrays(path, keys):
    import h5py

    with open_h5_file(path) as f:
        available = [k for k in f if isinstance(f[k], h5py.Dataset)]
        return {key: read_h5_dataset(f[key], key, path)
                for key in keys(available)}


def _keys_chooser(path, x_key, y_key):
    def choose(available):
        chosen = [_pick(available, X_KEYS, x_key, "feature", path, True),
                  _pick(available, Y_KEYS, y_key, "label", path, True)]
        for wanted in (X_TEST_KEYS, Y_TEST_KEYS, CLASS_KEYS):
            key = _pick(available, wanted, None, "", path, False)
            if key is not None:
                chosen.append(key)
        return chosen
    return choose


def read_arrays(path, x_key=None, y_key=None):
    """``(X, y, X_test, y_test, classes)`` as stored in a ``.npz`` or HDF5
    file (the tests and the classes None when absent)."""
    ext = os.path.splitext(str(path))[1].lower()
    choose = _keys_chooser(path, x_key, y_key)
    if ext == ".npz":
        arrays = _read_npz(path)
        arrays = {k: arrays[k] for k in choose(list(arrays))}
    else:
        arrays = _h5_arrays(path, choose)
    names = choose(list(arrays))
    X, y = arrays[names[0]], arrays[names[1]]
    rest = {k: arrays[k] for k in names[2:]}

    def get(wanted):
        for key in wanted:
            if key in rest:
                return rest[key]
        return None

    return X, y, get(X_TEST_KEYS), get(Y_TEST_KEYS), get(CLASS_KEYS)


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def read_csv_rows(path):
    """``(header, rows)`` of a CSV file: the stripped column names and the
    non-empty rows after them (lists of str), read from a regular file of
    at most ``MAX_BYTES // 8`` bytes."""
    f, size = _npz_safety.open_regular(path)
    if size > MAX_BYTES // 8:
        f.close()
        raise ValueError("%s is %d bytes, more than the %d that can be "
                         "parsed whole here" % (path, size, MAX_BYTES // 8))
    with f:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        try:
            rows = [row for row in csv.reader(text) if row]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValueError("%s is not a readable CSV file: %s"
                             % (path, exc)) from None
    if len(rows) < 2:
        raise ValueError("%s needs a header row and at least one example"
                         % path)
    return [name.strip() for name in rows[0]], rows[1:]


def read_csv(path, label_column=None):
    """``(X (m, n), labels (m,), feature names, label name)`` of a CSV file
    with a header row; labels stay strings unless every one is a number."""
    header, rows = read_csv_rows(path)
    if label_column is None:
        label_index = len(header) - 1
    elif label_column in header:
        label_index = header.index(label_column)
    else:
        raise ValueError("%s has no column %r (columns: %s)"
                         % (path, label_column, ", ".join(header)))
    if len(header) < 2:
        raise ValueError("%s needs at least one feature column and a label "
                         "column" % path)
    features, labels = [], []
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError("%s line %d has %d fields, the header %d"
                             % (path, line, len(row), len(header)))
        values = []
        for i, field in enumerate(row):
            if i == label_index:
                labels.append(field.strip())
                continue
            value = _number(field)
            if value is None:
                raise ValueError("%s line %d: column %r holds %r, not a "
                                 "number" % (path, line, header[i], field))
            values.append(value)
        features.append(values)
    names = [n for i, n in enumerate(header) if i != label_index]
    numbers = [_number(label) for label in labels]
    if all(v is not None for v in numbers):
        labels = np.array(numbers)
    else:
        labels = np.array(labels)
    return (np.array(features, dtype=np.float64), labels, names,
            header[label_index])
