"""Checks of array arguments: numeric, real, 2-D, non-empty, finite, and
one float dtype per call.

Dtype policy: float32 and float64 arrays keep their dtype. Every other numeric
input (integers, booleans, uint8 images, float16) is converted to the float
dtype of the other arrays of the call, or to float64 when there is none.
Masked arrays are refused (``np.asarray`` would drop the mask).
:mod:`fastdnn._validation` re-exports these functions.
"""
import threading

import numpy as np

from ._validation_scalars import FLOAT_DTYPES


def _describe(x):
    if isinstance(x, np.ndarray):
        return "array of dtype %s and shape %s" % (x.dtype, x.shape)
    return type(x).__name__


def as_array(x, name):
    """Return ``x`` as a real numeric ndarray, or raise ``TypeError``.

    Strings, ``None``, objects, complex numbers and masked arrays are
    refused; booleans, integers and floats are accepted unchanged
    (conversion comes later).
    """
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(
            "%s must be a numeric array, got %s" % (name, _describe(x)))
    check_not_masked(x, name)
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(
            "%s must be a numeric array, got %s that numpy cannot turn into "
            "one (%s)" % (name, type(x).__name__, exc)) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            "%s must be a real numeric array (bool, int or float), got %s; "
            "convert it with np.asarray(%s, dtype=float) (every value must "
            "be a real number that float64 can hold)"
            % (name, _describe(arr), name))
    return arr


def check_not_masked(x, name):
    """Refuse a ``numpy.ma.MaskedArray``: ``np.asarray`` drops its mask, so
    the masked entries would silently be used as data."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            "%s is a numpy masked array; its mask would be ignored and the "
            "masked entries used as data: pass %s.filled(value) to choose "
            "their value, or drop the masked examples (columns) first"
            % (name, name))


def result_dtype(*arrays):
    """The float dtype a call computes in.

    float64 if any argument is float64, else float32 if any is float32, else
    float64 (only integer, boolean or float16 arguments).
    """
    dtypes = {a.dtype for a in arrays}
    if np.dtype(np.float64) in dtypes:
        return np.dtype(np.float64)
    if np.dtype(np.float32) in dtypes:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def as_matrix(x, name, dtype=None, finite=True, shape_hint="(n, m)"):
    """Return ``x`` as a 2-D float array with no NaN or inf.

    Parameters
    ----------
    x : array_like
        The user's argument.
    name : str
        The argument's name, used in error messages.
    dtype : numpy dtype, optional
        Convert to this dtype. By default float32/float64 are kept and other
        numeric dtypes become float64.
    finite : bool
        Refuse NaN and inf (default).
    shape_hint : str
        The expected shape in course notation, for error messages.
    """
    arr = as_array(x, name)
    if arr.ndim != 2:
        fix = ""
        if arr.ndim == 1:
            fix = ("; a row of m values is np.reshape(%s, (1, -1)), a column "
                   "of n values np.reshape(%s, (-1, 1))" % (name, name))
        raise ValueError("%s must be a 2-D array of shape %s, got shape %s%s"
                         % (name, shape_hint, arr.shape, fix))
    if arr.size == 0:
        raise ValueError("%s must not be empty, got shape %s (expected %s "
                         "with every size >= 1)" % (name, arr.shape,
                                                    shape_hint))
    if dtype is None:
        dtype = arr.dtype if arr.dtype in FLOAT_DTYPES else np.float64
    arr = arr.astype(dtype, copy=False)
    if finite:
        check_finite(arr, name)
    return arr


#: From this many elements, check_finite reads an array once (its sum)
#: rather than twice (its min and max).
FINITE_SUM_MIN = 1 << 16


#: From this many elements, the sum is taken in two halves at once, the
#: second on a thread of its own (numpy's sum lets other threads run while
#: it reads): one core's reads do not use the memory's bandwidth up (the
#: MNIST shape's 60,000 x 784 float32 X: 7.8 -> 5.0 ms on two Zen 4
#: cores).
FINITE_THREADS_MIN = 1 << 22


def _halves(arr):
    # Two halves of arr, each one block of its memory, or None (an array
    # in neither C nor Fortran order, or too short to halve).
    if arr.flags.c_contiguous:
        axis = 0
    elif arr.flags.f_contiguous:
        axis = arr.ndim - 1
    else:
        return None
    half = arr.shape[axis] // 2
    if half == 0:
        return None
    if axis == 0:
        return arr[:half], arr[half:]
    return arr[..., :half], arr[..., half:]


def _quiet_sum(part, out):
    # The sum of part appended to out, without the overflow's warning (a
    # thread's error state is its own).
    with np.errstate(over="ignore", invalid="ignore"):
        out.append(part.sum())


def _sum_is_finite(arr):
    halves = _halves(arr) if arr.size >= FINITE_THREADS_MIN else None
    sums = []
    if halves is not None:
        worker = threading.Thread(target=_quiet_sum,
                                  args=(halves[1], sums))
        worker.start()
        _quiet_sum(halves[0], sums)
        worker.join()
    if len(sums) != 2:  # one pass, or the thread failed
        sums = []
        _quiet_sum(arr, sums)
    return all(np.isfinite(value) for value in sums)


def _all_finite(arr):
    # min and max pass a NaN on and show an inf, without the temporary
    # boolean array of np.isfinite (a quarter of a float32 X's size). Over
    # a large array one pass does: a NaN or an inf makes the sum NaN or inf
    # (60,000 x 784 float32: 14 ms against 20; float64 23 against 43), and
    # only a sum that overflowed from finite values needs min and max.
    if arr.size >= FINITE_SUM_MIN and _sum_is_finite(arr):
        return True
    return bool(np.isfinite(arr.min()) and np.isfinite(arr.max()))


#: What :func:`check_finite` advises by default.
CLEAN_THE_DATA = ("clean the data (or, during training, lower the learning "
                  "rate)")


def check_finite(arr, name, fix=CLEAN_THE_DATA):
    """ValueError ``"<name> contains <n> NaN and <n> inf value(s); <fix>"``
    unless every value of ``arr`` is finite."""
    if arr.size and not _all_finite(arr):
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise ValueError("%s contains %d NaN and %d inf value(s); %s"
                         % (name, n_nan, n_inf, fix))


def as_matrices(named, finite=True):
    """Validate several arrays at once and give them one float dtype.

    ``named`` is a sequence of ``(name, value, shape_hint)``.
    """
    raw = [as_array(value, name) for name, value, _ in named]
    dtype = result_dtype(*raw)
    return [as_matrix(arr, name, dtype=dtype, finite=finite, shape_hint=hint)
            for arr, (name, _, hint) in zip(raw, named)]


def check_same_shape(x, x_name, ref, ref_name):
    if x.shape != ref.shape:
        raise ValueError(
            "%s has shape %s but %s has shape %s; they must match (nothing "
            "is broadcast)" % (x_name, x.shape, ref_name, ref.shape))


def shown_values(values, limit=5):
    """The distinct ``values`` of an error message: the first ``limit`` in
    ascending order, ``%g``-formatted, then ``...`` if there are more."""
    values = np.unique(values)
    text = ", ".join("%g" % x for x in values[:limit])
    return text + (", ..." if values.size > limit else "")


def check_binary(y, name):
    """Refuse labels other than 0 and 1 (``y`` finite, already checked).

    The network has one sigmoid output for the probability of label 1: a
    label 2 would be trained towards or scored against a value it can
    never reach.
    """
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(
            "%s must hold 0/1 labels, got %d other value(s) (%s); map your "
            "two classes to 0 and 1, e.g. (%s == positive_class)"
            ".astype(int)" % (name, int(bad.sum()), shown_values(y[bad]),
                              name))


def check_unit_interval(x, name, what, fix):
    """Refuse values of ``x`` outside [0, 1] (``x`` finite, already
    checked), naming them: ``what`` says what x holds, ``fix`` how to
    mend it."""
    bad = (x < 0) | (x > 1)
    if bad.any():
        raise ValueError("%s must hold %s in [0, 1], got %d value(s) outside "
                         "(%s); %s" % (name, what, int(bad.sum()),
                                       shown_values(x[bad], 3), fix))
