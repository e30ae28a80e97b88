"""Argument checks and output layouts shared by the dataset generators.

Every generator checks its arguments here before drawing a single random
number, so a bad call raises a ``TypeError``/``ValueError`` that names the
argument and leaves the random generator untouched.
"""
import decimal
import numbers

import numpy as np

from .._validation_scalars import SEED_MAX, check_int

#: The layouts a generator can return its arrays in.
LAYOUTS = ("course", "sklearn")


def check_n(value, name, minimum=2):
    """A number of examples: an integer >= ``minimum``, as a Python int."""
    return check_int(value, name, minimum)


def check_real(value, name, low, high=None, high_open=True):
    """A finite real number in ``[low, high)`` (or ``[low, high]`` when
    ``high_open`` is false; no upper bound when ``high`` is None), returned
    as a float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Real, decimal.Decimal)):
        raise TypeError("%s must be a real number, got %r (%s)"
                        % (name, value, type(value).__name__))
    try:
        f = float(value)
    except OverflowError:
        f = float("inf")
    if high is None:
        bounds = ">= %s" % low
        ok = f >= low
    else:
        bounds = "in [%s, %s%s" % (low, high, ")" if high_open else "]")
        ok = low <= f and (f < high if high_open else f <= high)
    if not np.isfinite(f) or not ok:
        raise ValueError("%s must be a finite number %s, got %r"
                         % (name, bounds, value))
    return f


def check_noise(noise, name="noise"):
    """None (no noise) or the standard deviation of the Gaussian noise, a
    finite real >= 0; returned as None or a float."""
    if noise is None:
        return None
    return check_real(noise, name, 0)


def check_bool(value, name):
    """A bool (numpy's too), returned as a Python bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError("%s must be True or False, got %r (%s)"
                        % (name, value, type(value).__name__))
    return bool(value)


def check_layout(layout):
    """``"course"`` or ``"sklearn"``."""
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError("layout must be 'course' (X of shape (2, m), Y of "
                         "shape (1, m)) or 'sklearn' (X of shape (m, 2), y "
                         "of shape (m,)), got %r" % (layout,))
    return layout


def generator(seed, name="seed"):
    """The source of random numbers for ``seed``.

    An integer in ``[0, 2**32 - 1]`` gives a new
    ``np.random.RandomState(seed)``; a ``RandomState`` is used as it is (and
    advanced); None gives the ``np.random`` module, whose functions draw
    from numpy's global generator, as scikit-learn's ``random_state=None``
    and the course's ``np.random.seed(...)`` cells do. The three expose the
    same ``randn``, ``shuffle`` and ``normal``.
    """
    if seed is None:
        return np.random
    if isinstance(seed, np.random.RandomState):
        return seed
    if isinstance(seed, np.random.Generator):
        # A Generator draws other numbers than RandomState for the same
        # seed, so it could not reproduce the course or scikit-learn.
        raise TypeError("%s must be None, an integer or a "
                        "np.random.RandomState, got a np.random.Generator "
                        "(its draws differ from RandomState's); pass an "
                        "integer seed instead" % name)
    return np.random.RandomState(check_int(seed, name, 0, SEED_MAX))


def arrange(X, y, layout):
    """Return ``X`` of shape (m, 2) and ``y`` of shape (m,) in ``layout``.

    The course's layout is one example per column, ``X`` of shape
    ``(n_x, m) = (2, m)`` and ``Y`` of shape ``(1, m)``. Both arrays are
    returned C-contiguous (the course's ``X.T`` is a Fortran-ordered view;
    the values are the same).
    """
    if layout == "sklearn":
        return X, y
    return np.ascontiguousarray(X.T), y.reshape(1, -1)
