"""Checks of the scalar arguments: counts, layer widths, rates and scales.

Python numbers can be far outside what numpy can store (``10**400``, a
``Fraction`` whose float underflows to 0, a width of ``2**63``); handed to
numpy unchecked they raise its internal errors (``OverflowError: int too
large to convert to float``, ``array is too big``) that name no argument.
These functions check the Python value first and raise a ``TypeError`` or
``ValueError`` that names the argument. :mod:`fastdnn._validation`
re-exports them.
"""
import decimal
import numbers
import operator
import os

import numpy as np

#: The float dtypes the kernels are compiled for.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: The largest count or width accepted: numpy's default integer (int64).
INT64_MAX = int(np.iinfo(np.int64).max)
#: The largest seed ``np.random.RandomState`` takes.
SEED_MAX = 2**32 - 1
#: numpy refuses an array of more bytes than this (``array is too big``).
MAX_ARRAY_BYTES = int(np.iinfo(np.intp).max)


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def check_int(value, name, minimum, maximum=INT64_MAX):
    """An integer (numpy integers too, not bool, not float) in
    ``[minimum, maximum]``; returned as a Python int.

    The default maximum is int64's: counts and widths become numpy
    integers or array sizes, which cannot hold more.
    """
    if _is_bool(value):
        raise TypeError("%s must be an integer, got a bool" % name)
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %r (%s)"
                        % (name, value, type(value).__name__)) from None
    if value < minimum:
        raise ValueError("%s must be >= %d, got %d" % (name, minimum, value))
    if maximum is not None and value > maximum:
        raise ValueError("%s must be <= %d, got %d" % (name, maximum, value))
    return value


def check_layer_dims(layer_dims, name="layer_dims"):
    """A sequence of at least two positive integer layer widths.

    Every weight matrix ``W_l`` of shape ``(n_l, n_{l-1})`` must also be an
    array numpy can allocate in float64; a width that makes one larger
    is refused here, naming the layer, instead of by numpy's allocator.
    """
    if isinstance(layer_dims, (str, bytes)) or not hasattr(layer_dims,
                                                           "__len__"):
        raise TypeError("%s must be a sequence of layer widths such as "
                        "[12288, 20, 7, 5, 1], got %r" % (name, layer_dims))
    dims = [check_int(d, "%s[%d]" % (name, i), 1)
            for i, d in enumerate(layer_dims)]
    if len(dims) < 2:
        raise ValueError("%s needs at least two sizes (input and output), got "
                         "%r" % (name, list(layer_dims)))
    check_weight_sizes(dims, name)
    return dims


def check_weight_sizes(dims, name):
    """Refuse widths whose weight matrices cannot be allocated.

    Each ``W_l`` (float64, as initialised) must be an array numpy can make,
    and all of them together must fit in this machine's physical memory
    when that is known: beyond it numpy's ``MemoryError`` would name no
    argument (and training would be hopeless long before).
    """
    total = 0
    for l in range(1, len(dims)):
        n_bytes = dims[l] * dims[l - 1] * 8
        total += n_bytes
        if n_bytes > MAX_ARRAY_BYTES:
            raise ValueError(
                "%s: W%d would have shape (%d, %d), %d bytes in float64, "
                "more than numpy can allocate; use smaller layer widths"
                % (name, l, dims[l], dims[l - 1], n_bytes))
    memory = _physical_memory()
    if memory is not None and total > memory:
        raise ValueError(
            "%s: the weights W1..W%d would take %.3g GiB in float64, more "
            "than this machine's %.3g GiB of memory; use smaller layer "
            "widths" % (name, len(dims) - 1, total / 2**30, memory / 2**30))


def _physical_memory():
    """Bytes of physical memory, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # e.g. Windows
        return None


def check_positive_real(value, name):
    """A finite real number > 0 that float64 represents; returns the float.

    Python ints, floats, ``Fraction``, ``Decimal`` and numpy scalars are
    accepted; bools, strings, arrays and complex numbers are not. A value
    too large for float64 (``10**400``) or so small that it rounds to 0
    (``Fraction(1, 10**400)``) is refused rather than silently changed.
    """
    if _is_bool(value) or not isinstance(value, (numbers.Real,
                                                 decimal.Decimal)):
        raise TypeError("%s must be a real number, got %r (%s)"
                        % (name, value, type(value).__name__))
    try:
        f = float(value)
    except OverflowError:
        raise ValueError("%s must be finite and > 0 and fit in float64, got "
                         "a number too large for float64 (%s)"
                         % (name, _short(value))) from None
    if not np.isfinite(f):
        raise ValueError("%s must be finite and > 0, got %r" % (name, value))
    if f <= 0:
        if f == 0 and value > 0:  # underflow; value is not NaN here
            raise ValueError(
                "%s must be finite and > 0 and fit in float64, got %s, "
                "which rounds to 0 in float64" % (name, _short(value)))
        raise ValueError("%s must be finite and > 0, got %r" % (name, value))
    return f


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + "..." + text[-10:]


def check_learning_rate(learning_rate, name="learning_rate"):
    """The learning rate: see :func:`check_positive_real`."""
    return check_positive_real(learning_rate, name)


def check_scale(scale, name="scale"):
    """``initialize_parameters_deep``'s ``scale``: None or a finite real
    > 0 (see :func:`check_positive_real`)."""
    if scale is None:
        return None
    return check_positive_real(scale, name)


def check_dtype(dtype, name="dtype"):
    """Normalise a user's dtype argument to float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError("%s must be 'float32' or 'float64', got %r"
                        % (name, dtype)) from None
    if dt not in FLOAT_DTYPES:
        raise ValueError("%s must be 'float32' or 'float64', got %r"
                         % (name, dtype))
    return dt
