"""Your own images as input columns of the network.

:func:`load_image` reads any file Pillow can decode and returns the column
the course builds for its own photo: RGB, resized to the network's image
size, values in [0, 1]. Every failure to decode a file is a
:class:`ValueError` that starts with ``cannot read image FILE:``; a file that
cannot be opened at all (missing, a folder, no permission) is the
:class:`OSError` of ``open``, which names it too.
"""
import os
import warnings

import numpy as np

from . import _validation as v

#: Largest image accepted, in pixels (8192 x 8192: 200 MB once decoded as
#: RGB). A header announcing more is refused before any pixel is decoded, so
#: that a small "decompression bomb" file cannot fill the memory. Pillow's
#: own limit (``PIL.Image.MAX_IMAGE_PIXELS``) applies too: its warning is
#: turned into the same error.
MAX_PIXELS = 8192 * 8192

#: Modes of more than 8 bits per channel, which ``convert("RGB")`` would
#: clip to 255 (16-bit: white) or truncate to 0..1 (float: black).
_DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def _deep_gray(img):
    """A high-depth grayscale image as float64 values in [0, 1].

    * 16-bit modes (``I;16*``) are divided by 65535, their full range.
    * ``I`` (32-bit integers): values within 0..65535 are taken as 16-bit
      data (what PNG and TIFF store there) and divided by 65535; any other
      range is stretched from its actual minimum to its actual maximum.
    * ``F`` (32-bit float): values within the nominal range [0, 1] are kept
      as they are; any other range is stretched from its actual minimum to
      its actual maximum. NaN or infinite pixels are refused.

    A stretched constant image becomes 0 (black).
    """
    a = np.asarray(img).astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("it has NaN or infinite pixel values")
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if img.mode.startswith("I;16"):
        return a / 65535.
    if img.mode == "I" and lo >= 0 and hi <= 65535:
        return a / 65535.
    if img.mode == "F" and lo >= 0 and hi <= 1:
        return a
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _decode(img, height, width):
    """The opened image as an (height, width, 3) float64 array in [0, 1]."""
    from PIL import Image

    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ValueError(
            "%dx%d pixels is more than the limit of %d (fastdnn.images."
            "MAX_PIXELS); scale the image down first" % (w, h, MAX_PIXELS))
    if img.mode in _DEEP_MODES:
        gray = Image.fromarray(_deep_gray(img).astype(np.float32), "F")
        gray = np.asarray(gray.resize((width, height)), dtype=np.float64)
        # the resampling filter may overshoot the range a little
        gray = np.clip(gray, 0., 1.)
        return np.repeat(gray[:, :, None], 3, axis=2)
    # 8 bits per channel: the course's conversion, byte for byte.
    img = img.convert("RGB").resize((width, height))
    return np.asarray(img, dtype=np.float64) / 255.


def read_image(path, height, width):
    """Read an image file as an ``(height * width * 3, 1)`` column.

    Like :func:`load_image`, for images that are not square.

    Raises
    ------
    OSError
        The file cannot be opened (missing, a folder, no permission).
    ValueError
        ``cannot read image PATH: ...``: not an image, a corrupt or
        truncated one, or more than :data:`MAX_PIXELS` pixels.
    """
    from PIL import Image

    height = v.check_int(height, "height", 1)
    width = v.check_int(width, "width", 1)
    if height * width > MAX_PIXELS:
        raise ValueError("height x width = %d x %d is more than MAX_PIXELS "
                         "(%d)" % (height, width, MAX_PIXELS))
    name = os.fspath(path)
    with open(path, "rb") as f:  # its OSError names the file
        with warnings.catch_warnings():
            # Pillow warns about harmless oddities (palette transparency,
            # corrupt EXIF...): the pixels are read all the same, so they
            # would only add noise to the output. Local, so the caller's
            # filters are untouched.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                with Image.open(f) as img:
                    pixels = _decode(img, height, width)
            except Exception as exc:
                # Pillow reports a bad file with many types (SyntaxError,
                # struct.error, DecompressionBombError, OSError without an
                # errno...): one ValueError naming the file instead.
                if isinstance(exc, OSError) and exc.errno is not None:
                    raise  # a real I/O error of the file system
                detail = str(exc) or type(exc).__name__
                if isinstance(exc, Image.UnidentifiedImageError):
                    # Pillow's words name its file object, not the file.
                    detail = ("not an image format Pillow reads (JPEG, "
                              "PNG, GIF, BMP, TIFF...)")
                if isinstance(exc, (Image.DecompressionBombError,
                                    Image.DecompressionBombWarning)):
                    detail = "too many pixels (%s)" % detail
                raise ValueError("cannot read image %s: %s"
                                 % (name, detail)) from exc
    return pixels.reshape(height * width * 3, 1)


def load_image(path, num_px=64):
    """Read any image file as one column of the network's input.

    Any size and mode (RGBA, grayscale, palette, 16-bit, float) is converted
    to RGB and resized to ``num_px x num_px``, the way the training images
    were made. 8-bit images are divided by 255 as in the course; 16-bit
    images by 65535; float images are kept if their values lie in [0, 1],
    else stretched from their minimum to their maximum. Pillow's warnings
    are not shown.

    Parameters
    ----------
    path : str or os.PathLike
        The image file (JPEG, PNG, GIF, BMP, TIFF...).
    num_px : int
        Side of the square the network was trained on (64 for the cats).

    Returns
    -------
    x : float64 ndarray of shape (num_px * num_px * 3, 1), values in [0, 1]

    Raises
    ------
    OSError
        The file cannot be opened (missing, a folder, no permission).
    ValueError
        ``cannot read image PATH: ...``: not an image, a corrupt or
        truncated one, or more than :data:`MAX_PIXELS` pixels.
    """
    num_px = v.check_int(num_px, "num_px", 1)
    return read_image(path, num_px, num_px)
