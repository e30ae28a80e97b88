"""The cat / non-cat dataset and your own images.

The data files are never shipped with fastdnn: point to the folder holding
``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` with the ``path``
argument or the ``FASTDNN_DATA`` environment variable.
"""
import os

import numpy as np

from . import _validation as v

#: Environment variable naming the folder that holds the dataset.
DATA_ENV = "FASTDNN_DATA"
TRAIN_FILE = "train_catvnoncat.h5"
TEST_FILE = "test_catvnoncat.h5"


def find_data_dir(path=None):
    """The folder holding both dataset files: ``path``, else ``$FASTDNN_DATA``.

    Raises
    ------
    FileNotFoundError
        Naming both files and the environment variable.
    """
    tried = []
    for where in (path, os.environ.get(DATA_ENV)):
        if not where:
            continue
        where = os.fspath(where)
        tried.append(where)
        if all(os.path.isfile(os.path.join(where, f))
               for f in (TRAIN_FILE, TEST_FILE)):
            return where
    looked = ("looked in: " + ", ".join(tried)) if tried else (
        "no folder was given and $%s is not set" % DATA_ENV)
    raise FileNotFoundError(
        "cannot find %s and %s (%s); pass the folder that holds them (--data "
        "DIR, or load_data(path)) or set the environment variable %s"
        % (TRAIN_FILE, TEST_FILE, looked, DATA_ENV))


def load_data(path=None):
    """Load the cat / non-cat dataset as the course's loader does.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder with the two ``.h5`` files; defaults to ``$FASTDNN_DATA``.

    Returns
    -------
    train_x_orig : uint8 ndarray of shape (209, 64, 64, 3)
    train_y : int ndarray of shape (1, 209)
    test_x_orig : uint8 ndarray of shape (50, 64, 64, 3)
    test_y : int ndarray of shape (1, 50)
    classes : ndarray of bytes, ``[b'non-cat', b'cat']``
    """
    import h5py  # imported here so that the numerics import without it

    folder = find_data_dir(path)
    with h5py.File(os.path.join(folder, TRAIN_FILE), "r") as f:
        train_x_orig = np.array(f["train_set_x"][:])
        train_y = np.array(f["train_set_y"][:])
    with h5py.File(os.path.join(folder, TEST_FILE), "r") as f:
        test_x_orig = np.array(f["test_set_x"][:])
        test_y = np.array(f["test_set_y"][:])
        classes = np.array(f["list_classes"][:])
    return (train_x_orig, train_y.reshape(1, -1), test_x_orig,
            test_y.reshape(1, -1), classes)


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


def load_image(path, num_px=64):
    """Read any image file as one column of the network's input.

    Any size and mode (RGBA, grayscale, palette) is converted to RGB and
    resized to ``num_px x num_px``, the way the training images were made.

    Returns
    -------
    x : float64 ndarray of shape (num_px * num_px * 3, 1), values in [0, 1]
    """
    from PIL import Image

    num_px = v.check_int(num_px, "num_px", 1)
    with Image.open(path) as img:
        img = img.convert("RGB").resize((num_px, num_px))
        pixels = np.asarray(img, dtype=np.float64)
    return pixels.reshape(num_px * num_px * 3, 1) / 255.
