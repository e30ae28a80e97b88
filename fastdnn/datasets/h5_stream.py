"""An HDF5 dataset read a few examples at a time: training data larger than
memory.

:func:`open_h5` opens the features and labels of a ``.h5`` / ``.hdf5``
file (found by the names :func:`fastdnn.datasets.load` looks for) without
reading the features: an :class:`H5Examples` reads the examples it is asked
for, in the order asked, and nothing else. The labels (one value per
example, or one row of targets) are read whole.

Every example comes back as :func:`fastdnn.datasets.load` gives it: pixels
(uint8) scaled by 1/255, other numbers as float64, in the course's layout
(one example per column), so that training on a streamed file computes the
numbers training on the loaded arrays computes.
"""
import os

import numpy as np

from .files import (CLASS_KEYS, X_KEYS, X_TEST_KEYS, Y_KEYS, Y_TEST_KEYS,
                    _pick, h5_declared_bytes, open_h5_file, read_h5_dataset)
from .named import _features, encode_labels, encode_test_labels, examples_axis

#: The arrays each split reads.
SPLITS = {"train": (X_KEYS, Y_KEYS), "test": (X_TEST_KEYS, Y_TEST_KEYS)}


class H5Examples:
    """The examples of one split of an HDF5 file, read on demand.

    Use :func:`open_h5` to make one; close it (or use it in a ``with``
    block) when done.

    Attributes
    ----------
    m : int
        The number of examples.
    n_x : int
        Features per example (an image's pixels, flattened).
    y : ndarray (1, m) or (n_y, m)
        The labels as :func:`fastdnn.datasets.load` encodes them: class
        indices (int64) or real targets (float64).
    classes : list of str or None
        The class names (None for real targets).
    nbytes, itemsize : int
        The features' size as stored, and one value's.
    image_shape : list of int or None
        ``[height, width, channels]`` of stored images, else None.
    name : str
        The file's name.
    """

    def __init__(self, h5file, x_node, x_key, y, classes, axis, path):
        self._file = h5file
        self._x = x_node
        self._x_key = x_key
        self._axis = axis
        self._path = path
        shape = x_node.shape
        self.m = int(shape[axis])
        self.n_x = int(np.prod(shape, dtype=np.int64)) // max(self.m, 1)
        self.y = y
        self.classes = classes
        self.nbytes = h5_declared_bytes(x_node)
        self.itemsize = x_node.dtype.itemsize
        self.image_shape = list(shape[1:]) if len(shape) > 2 else None
        self.name = os.path.basename(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Close the file (reading afterwards raises ``ValueError``)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _check_open(self):
        if self._file is None:
            raise ValueError("%s is closed" % self.name)

    def _rows(self, selection):
        # (k, n_x) stored values, selection along the examples' axis.
        try:
            if self._axis == 1:
                block = np.asarray(self._x[:, selection]).T
            else:
                block = np.asarray(self._x[selection])
        except Exception as exc:  # h5py's errors of a corrupt file
            raise OSError("cannot read %r from %s: %s"
                          % (self._x_key, self._path, exc)) from exc
        return block.reshape(block.shape[0], -1)

    def _course_layout(self, rows, dtype):
        # As datasets.load: float64 first (pixels scaled), then the
        # training dtype, so that both routes round alike.
        return np.ascontiguousarray(_features(rows, self._path).T,
                                    dtype=dtype)

    def columns(self, index, dtype=np.float64):
        """The examples ``index`` (distinct, any order) as X (n_x, k).

        Parameters
        ----------
        index : int array (k,)
            Example numbers in [0, m), no repeats.
        dtype : float32 or float64

        Returns
        -------
        ndarray (n_x, k)
            Column j is example ``index[j]``.
        """
        self._check_open()
        index = np.asarray(index, dtype=np.int64).ravel()
        if index.size and (index.min() < 0 or index.max() >= self.m):
            raise ValueError("index must lie in [0, %d)" % self.m)
        # HDF5 reads increasing positions; read them so, then put each
        # example in its place.
        order = np.argsort(index, kind="stable")
        ordered = index[order]
        if ordered.size > 1 and np.any(ordered[1:] == ordered[:-1]):
            raise ValueError("index must not repeat an example")
        stored = self._rows(ordered)
        rows = np.empty_like(stored)
        rows[order] = stored
        return self._course_layout(rows, dtype)

    def block(self, start, stop, dtype=np.float64):
        """Examples ``start`` to ``stop - 1`` as X (n_x, stop - start)."""
        self._check_open()
        return self._course_layout(self._rows(slice(start, stop)), dtype)


def open_h5(path, *, split="train", x_key=None, y_key=None,
            file_layout=None, classes=None):
    """Open one split of an HDF5 file for reading a few examples at a time.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.h5`` / ``.hdf5`` file.
    split : {"train", "test"}
        ``"train"``: the arrays ``X``/``y`` (or ``X_train``, ...);
        ``"test"``: ``X_test``/``y_test`` (or ``test_x``, ...).
    x_key, y_key : str, optional
        The arrays' names, when they are not among those.
    file_layout : {None, "sklearn", "course"}
        How a 2-D X is stored; by default the labels' count decides.
    classes : list of str, optional
        The training split's class names, to encode a test split's labels
        with (as :func:`fastdnn.datasets.load` encodes its test split).

    Returns
    -------
    H5Examples
        Open; the caller closes it.

    Raises
    ------
    ValueError
        A missing array, features that are not numbers, labels that do not
        match the features, or a file that is not a regular file.
    OSError
        A file HDF5 cannot read.
    """
    import h5py

    if split not in SPLITS:
        raise ValueError("split must be 'train' or 'test', got %r"
                         % (split,))
    if file_layout not in (None, "sklearn", "course"):
        raise ValueError("file_layout must be None, 'sklearn' or 'course', "
                         "got %r" % (file_layout,))
    path = os.fspath(path)
    f = open_h5_file(path)
    try:
        available = [k for k in f if isinstance(f[k], h5py.Dataset)]
        x_keys, y_keys = SPLITS[split]
        what = "test " if split == "test" else ""
        xk = _pick(available, x_keys, x_key, what + "feature", path, True)
        yk = _pick(available, y_keys, y_key, what + "label", path, True)
        ck = _pick(available, CLASS_KEYS, None, "", path, False)
        x_node = f[xk]
        if x_node.dtype.kind not in "biuf" or len(x_node.shape) < 1:
            raise ValueError("%s: %r holds %s values, not numbers"
                             % (path, xk, x_node.dtype))
        y_raw = read_h5_dataset(f[yk], yk, path)
        axis = examples_axis(x_node.shape, y_raw.shape, file_layout, path)
        m = x_node.shape[axis]
        if y_raw.ndim == 2 and 1 not in y_raw.shape and \
                y_raw.shape[0] != m:
            y_raw = y_raw.T
        if (y_raw.shape[0] if y_raw.ndim else 1) != m and \
                y_raw.size != m:
            raise ValueError("%s: %r holds %d examples but %r has shape %s"
                             % (path, xk, m, yk, y_raw.shape))
        if split == "test" and classes is not None:
            y, names = encode_test_labels(y_raw, classes, path), classes
        else:
            y, names = encode_labels(
                y_raw, None if ck is None else read_h5_dataset(f[ck], ck,
                                                               path))
        y = y.reshape(1, -1) if y.ndim == 1 else np.ascontiguousarray(y.T)
        return H5Examples(f, x_node, xk, y, names, axis, path)
    except BaseException:
        f.close()
        raise
