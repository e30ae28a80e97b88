"""The cat / non-cat dataset.

The data files are never shipped with fastdnn. :func:`load_data` reads
``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` from the first of:

1. the folder given as ``path`` (``--data DIR`` on the command line);
2. the folder named by the ``FASTDNN_DATA`` environment variable;
3. ``./datasets``, relative to the current directory (where the course
   keeps them).

A folder given as ``path`` or ``$FASTDNN_DATA`` is used or refused: when it
lacks the files, :class:`FileNotFoundError` says so and no other folder is
tried. Your own images are read by :func:`fastdnn.images.load_image`, also
importable from here.
"""
import os

import numpy as np

from . import _validation as v
from .images import load_image  # noqa: F401 (part of this module's API)

#: Environment variable naming the folder that holds the dataset.
DATA_ENV = "FASTDNN_DATA"
#: Folder searched last, relative to the current directory.
DEFAULT_DIR = "datasets"
TRAIN_FILE = "train_catvnoncat.h5"
TEST_FILE = "test_catvnoncat.h5"


def _where_to_look():
    return ("pass the folder that holds them (--data DIR, or load_data(path)"
            "), set the environment variable %s, or put them in ./%s"
            % (DATA_ENV, DEFAULT_DIR))


def _check_folder(folder, source):
    """``folder`` if it holds both files, else FileNotFoundError."""
    if not os.path.isdir(folder):
        problem = ("does not exist" if not os.path.exists(folder)
                   else "is not a folder")
    else:
        missing = [f for f in (TRAIN_FILE, TEST_FILE)
                   if not os.path.isfile(os.path.join(folder, f))]
        if not missing:
            return folder
        problem = "has no %s" % " and no ".join(missing)
    raise FileNotFoundError(
        "cannot find the dataset files %s and %s: %s %s %s; %s"
        % (TRAIN_FILE, TEST_FILE, source, folder, problem, _where_to_look()))


def find_data_dir(path=None):
    """The folder holding both dataset files.

    ``path`` if given, else ``$FASTDNN_DATA`` if set, else ``./datasets``.
    The first of them that is given is the only one looked in.

    Raises
    ------
    FileNotFoundError
        Naming the folder looked in, the missing files, and the three ways
        to give the folder.
    ValueError
        ``path`` is an empty string.
    """
    if path is not None:
        folder = os.fspath(path)  # TypeError for a non-path
        if isinstance(folder, bytes):
            folder = os.fsdecode(folder)
        if not folder:
            raise ValueError("path is an empty string; pass the folder "
                             "that holds %s and %s" % (TRAIN_FILE, TEST_FILE))
        return _check_folder(folder, "the folder")
    env = os.environ.get(DATA_ENV)
    if env:
        return _check_folder(env, "$%s =" % DATA_ENV)
    return _check_folder(
        os.path.join(os.curdir, DEFAULT_DIR),
        "no folder was given, $%s is not set, and" % DATA_ENV)


# ---------------------------------------------------------------- checks

def _read(f, filename, key):
    """The whole dataset ``key`` of the open HDF5 file ``f``, once its kind
    and declared size are checked (a small file can declare a dataset of
    any size: unwritten chunks read as zeros)."""
    import h5py

    from .datasets.files import read_h5_dataset

    if key not in f:
        raise ValueError("%s has no dataset %r (it holds: %s); is it the "
                         "course's file?" % (filename, key,
                                             ", ".join(sorted(f)) or
                                             "nothing"))
    node = f[key]
    if not isinstance(node, h5py.Dataset):
        raise ValueError("%s: %r is a group, not a dataset" % (filename, key))
    return read_h5_dataset(node, key, filename)


def _check_images(x, filename, key):
    if x.dtype != np.uint8:
        raise ValueError("%s: %r must hold uint8 pixels (0..255), got dtype "
                         "%s" % (filename, key, x.dtype))
    if x.ndim != 4 or x.shape[-1] != 3 or min(x.shape[1:3]) < 1:
        raise ValueError("%s: %r must have the shape (m, height, width, 3) "
                         "of m RGB images, got %s" % (filename, key,
                                                      x.shape))
    if x.shape[0] == 0:
        raise ValueError("%s: %r holds no images" % (filename, key))


def _check_labels(y, m, filename, key, x_key):
    if y.dtype.kind not in "iub":
        raise ValueError("%s: %r must hold integer 0/1 labels, got dtype %s"
                         % (filename, key, y.dtype))
    if y.ndim > 2 or y.size != m or (y.ndim == 2 and 1 not in y.shape):
        raise ValueError("%s: %r must hold one label per image of %r (%d), "
                         "got shape %s" % (filename, key, x_key, m, y.shape))
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("%s: %r must hold only 0 and 1 labels, got %s"
                         % (filename, key, np.unique(y)[:10].tolist()))


def _check_classes(classes, filename, key):
    if classes.dtype.kind not in "SU" or classes.shape != (2,):
        raise ValueError("%s: %r must hold the two class names (label 0, "
                         "label 1) as strings, got shape %s, dtype %s"
                         % (filename, key, classes.shape, classes.dtype))


def _load_file(folder, name, prefix, with_classes):
    from .datasets.files import open_h5_file

    filename = os.path.join(folder, name)
    # A regular file only (HDF5 would wait forever on a FIFO).
    with open_h5_file(filename) as f:
        x_key, y_key = prefix + "_x", prefix + "_y"
        x = _read(f, filename, x_key)
        _check_images(x, filename, x_key)
        y = _read(f, filename, y_key)
        _check_labels(y, x.shape[0], filename, y_key, x_key)
        classes = None
        if with_classes:
            classes = _read(f, filename, "list_classes")
            _check_classes(classes, filename, "list_classes")
    return x, y.reshape(1, -1), classes


def load_data(path=None):
    """Load the cat / non-cat dataset as the course's loader does.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder with the two ``.h5`` files; by default ``$FASTDNN_DATA``,
        else ``./datasets`` (see the module's documentation).

    Returns
    -------
    train_x_orig : uint8 ndarray of shape (209, 64, 64, 3)
    train_y : int ndarray of shape (1, 209)
    test_x_orig : uint8 ndarray of shape (50, 64, 64, 3)
    test_y : int ndarray of shape (1, 50)
    classes : ndarray of bytes, ``[b'non-cat', b'cat']``

    Raises
    ------
    FileNotFoundError
        The folder lacks the files (see :func:`find_data_dir`).
    OSError
        A file is not a readable HDF5 file.
    ValueError
        A file lacks a dataset or holds one of the wrong shape or dtype
        (the message names the file and the dataset).
    """
    folder = find_data_dir(path)
    train_x_orig, train_y, _ = _load_file(folder, TRAIN_FILE, "train_set",
                                          False)
    test_x_orig, test_y, classes = _load_file(folder, TEST_FILE, "test_set",
                                              True)
    if train_x_orig.shape[1:] != test_x_orig.shape[1:]:
        raise ValueError(
            "the train images (%s in %s) and the test images (%s in %s) "
            "differ in size" % (
                "x".join(map(str, train_x_orig.shape[1:])), TRAIN_FILE,
                "x".join(map(str, test_x_orig.shape[1:])), TEST_FILE))
    return train_x_orig, train_y, test_x_orig, test_y, classes


def flatten_images(x_orig):
    """Images ``(m, h, w, c)`` of 0..255 values to the network's input.

    Returns
    -------
    X : float64 ndarray of shape (n_x, m)
        One flattened image per column, ``n_x = h * w * c``, scaled to [0, 1].
    """
    x = v.as_array(x_orig, "x_orig")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError("x_orig must be a stack of m >= 1 images of shape "
                         "(m, height, width, channels), got shape %s"
                         % (x.shape,))
    return x.reshape(x.shape[0], -1).T / 255.


def print_mislabeled_images(classes, X, y, p, *, max_images=None):
    """The course's ``print_mislabeled_images``: the images where the
    prediction ``p`` differs from the label ``y``.

    Each image is titled ``"Prediction: <class> \\n Class: <class>"`` as in
    the course. Drawn with matplotlib's object API (no pyplot, no global
    state): the returned figure shows in a notebook when it is a cell's
    value; ``fig.savefig(path)`` writes it to a file.

    Parameters
    ----------
    classes : sequence of two str or bytes
        ``load_data``'s ``classes``.
    X : ndarray of shape (n_x, m)
        Flattened images, one per column, values in [0, 1].
    y, p : ndarray of shape (1, m)
        True and predicted 0/1 labels.
    max_images : int, optional
        Draw at most this many (all by default, as the course does); the
        figure's title says how many were left out.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plots import plot_mislabeled  # matplotlib only when drawing

    return plot_mislabeled(classes, X, y, p, max_images=max_images,
                           title="Prediction: {prediction} \n Class: "
                                 "{label}")
