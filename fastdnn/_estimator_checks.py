"""The estimators' input checks (private): ``X``, the targets of a
classifier (binary, multi-class, multi-label indicator) or a regressor (one
or several real targets), ``score``'s labels and weights, and every
constructor parameter under its own name, before any training code runs.

scikit-learn is optional: its exception classes are used when importable,
look-alikes otherwise.
"""
import math
import numbers
import warnings

import numpy as np

from . import _validation as v

try:  # optional
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.exceptions import DataConversionWarning
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - exercised in a subprocess test
    class NotFittedError(ValueError, AttributeError):
        """``predict`` called before ``fit``."""

    class DataConversionWarning(UserWarning):
        """The input was converted (e.g. a column ``y`` to a 1-D vector)."""

    class ConvergenceWarning(UserWarning):
        """The optimizer stopped at ``max_iter`` before converging."""


def is_sparse(x):
    return type(x).__module__.startswith("scipy.sparse")


def check_not_masked(x, name, owner):
    # np.asarray drops a masked array's mask: the masked entries would be
    # used as data.
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            "%s is a numpy masked array; %s would ignore its mask and use "
            "the masked entries as data: pass %s.filled(value) to choose "
            "their value, or drop the masked samples (rows) first"
            % (name, owner, name))


def check_X(X, owner, name="X"):
    """``X`` as a finite 2-D float array (n_samples, n_features)."""
    if is_sparse(X):
        raise TypeError("%s does not support sparse input; convert %s with "
                        "%s.toarray()" % (owner, name, name))
    if X is None or isinstance(X, (str, bytes)):
        raise TypeError("%s must be a 2-D numeric array of shape (n_samples, "
                        "n_features), got %s" % (name, type(X).__name__))
    check_not_masked(X, name, owner)
    arr = np.asarray(X)
    if arr.dtype.kind == "c":
        raise ValueError("Complex data not supported: %s is complex" % name)
    if arr.dtype.kind == "O":
        # numbers stored as objects (or strings of numbers) are numbers;
        # float() raises "argument must be a string or a real number".
        try:
            arr = arr.astype(np.float64)
        except OverflowError:  # a Python int beyond float64
            raise ValueError("%s holds a number too large for float64"
                             % name) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError("%s must be numeric, got an array of dtype %s"
                        % (name, arr.dtype))
    if arr.ndim != 2:
        hint = ""
        if arr.ndim < 2:
            hint = (" Reshape your data either using array.reshape(-1, 1) if "
                    "your data has a single feature or array.reshape(1, -1) "
                    "if it contains a single sample.")
        raise ValueError("Expected a 2-D array of shape (n_samples, "
                         "n_features) for %s, got shape %s.%s"
                         % (name, arr.shape, hint))
    if arr.shape[0] < 1:
        raise ValueError("Found array with 0 sample(s) (shape=%s) while a "
                         "minimum of 1 is required." % (arr.shape,))
    if arr.shape[1] < 1:
        raise ValueError("Found array with 0 feature(s) (shape=%s) while a "
                         "minimum of 1 is required." % (arr.shape,))
    if arr.dtype.kind != "f" or arr.dtype.itemsize < 4:
        arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError("Input %s contains NaN or inf; clean the data first"
                         % name)
    return arr


def _y_array(y, n_samples, owner):
    if y is None:
        raise ValueError("%s requires y to be passed, but the target y is "
                         "None" % owner)
    if is_sparse(y):
        raise TypeError("%s does not support a sparse y" % owner)
    check_not_masked(y, "y", owner)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was "
                      "expected. Please change the shape of y to "
                      "(n_samples,), for example using ravel().",
                      DataConversionWarning, stacklevel=4)
        y = y.ravel()
    if y.ndim not in (1, 2):
        raise ValueError("y must be 1-D (n_samples,) or 2-D (n_samples, "
                         "n_outputs), got shape %s" % (y.shape,))
    if y.shape[0] != n_samples:
        raise ValueError("X has %d samples but y has %d"
                         % (n_samples, y.shape[0]))
    if y.dtype.kind == "c":
        raise ValueError("Complex data not supported: y is complex")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or inf")
    return y


def classifier_target(y, n_samples, owner):
    """``(kind, y)``: kind "multilabel" for a 2-D 0/1 indicator matrix
    (y as int8), else "classes" (y 1-D labels of any kind)."""
    y = _y_array(y, n_samples, owner)
    if y.ndim == 2:
        if y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all():
            return "multilabel", (y != 0).astype(np.int8)
        raise ValueError(
            "y of shape %s is not a multi-label indicator matrix (only 0 "
            "and 1); multiclass-multioutput targets are not supported: "
            "pass a 1-D y of labels or a 0/1 matrix" % (y.shape,))
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError("Unknown label type: continuous. %s is a "
                         "classifier: y must hold class labels (use "
                         "DNNRegressor for real targets)" % owner)
    if y.dtype.kind == "O":
        kinds = {type(x) for x in y.tolist()}
        if len(kinds) > 1:
            raise ValueError("Unknown label type: y mixes labels of types %s"
                             % ", ".join(sorted(k.__name__ for k in kinds)))
    return "classes", y


def regressor_target(y, n_samples, owner):
    """y as float64, 1-D or 2-D (n_samples, n_outputs)."""
    y = _y_array(y, n_samples, owner)
    if y.dtype.kind not in "biuf":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("%s needs real targets, y has dtype %s"
                             % (owner, y.dtype)) from None
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or inf")
    return y.astype(np.float64)


def score_y(y, n_samples):
    """``score``'s targets: one row per sample (a column is a vector)."""
    if y is None or is_sparse(y):
        raise TypeError("score needs y, an array of n_samples targets, got "
                        "%s" % type(y).__name__)
    check_not_masked(y, "y", "score")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim not in (1, 2):
        raise ValueError("y should be a 1d array of n_samples labels, got "
                         "shape %s" % (y.shape,))
    if y.shape[0] != n_samples:
        raise ValueError("X has %d samples but y has %d labels; score needs "
                         "one label per sample (nothing is broadcast)"
                         % (n_samples, y.shape[0]))
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or inf")
    return y


def sample_weight(weights, n_samples):
    """``score``'s weights: 1-D, finite, >= 0, one per sample, not all 0."""
    check_not_masked(weights, "sample_weight", "score")
    w = v.as_array(weights, "sample_weight")
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError("sample_weight must be a 1-D array of one weight "
                         "per sample, shape (%d,), got shape %s"
                         % (n_samples, w.shape))
    w = w.astype(np.float64)
    v.check_finite(w, "sample_weight")
    if (w < 0).any():
        raise ValueError("sample_weight must be >= 0, got %d negative "
                         "weight(s)" % int((w < 0).sum()))
    if not w.sum() > 0:
        raise ValueError("sample_weight sums to 0: at least one sample needs "
                         "a weight > 0")
    return w


# ---------------------------------------------------------- parameters

def _choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError("%s must be one of %s, got %r"
                         % (name, ", ".join(repr(c) for c in choices),
                            value))
    return value


def _real(value, name, low=None, high=None, low_open=False,
          high_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a real number, got %r (%s)"
                        % (name, value, type(value).__name__))
    try:
        f = float(value)
    except OverflowError:  # a Python int or Fraction beyond float64
        f = math.inf
    ok = np.isfinite(f)
    if low is not None:
        ok = ok and (f > low if low_open else f >= low)
    if high is not None:
        ok = ok and (f < high if high_open else f <= high)
    if not ok:
        raise ValueError("%s must be a finite number in %s%s, %s%s, got %r"
                         % (name, "(" if low_open else "[",
                            "-inf" if low is None else "%g" % low,
                            "inf" if high is None else "%g" % high,
                            ")" if high_open else "]", value))
    return f


ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid",
               "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu"}
SOLVERS = ("sgd", "adam", "gd", "rmsprop")
SCHEDULES = ("constant", "invscaling", "adaptive")
FORMS = ("auto", "primal", "gram")


def check_params(est):
    """Every constructor parameter of ``est``, checked under its name;
    returns the hidden layer sizes as a list of ints."""
    sizes = est.hidden_layer_sizes
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError("hidden_layer_sizes must be a sequence of positive "
                        "ints such as (100,), got %r" % (sizes,))
    sizes = [int(v.check_int(s, "hidden_layer_sizes[%d]" % i, 1))
             for i, s in enumerate(sizes)]
    _choice(est.activation, "activation", tuple(ACTIVATIONS))
    _choice(est.solver, "solver", SOLVERS)
    _real(est.alpha, "alpha", 0.0)
    if not (isinstance(est.batch_size, str) and est.batch_size == "auto"):
        v.check_int(est.batch_size, "batch_size ('auto' or an int)", 1)
    _choice(est.learning_rate, "learning_rate", SCHEDULES)
    _real(est.learning_rate_init, "learning_rate_init", 0.0, low_open=True)
    _real(est.power_t, "power_t", 0.0)
    v.check_int(est.max_iter, "max_iter", 1)
    for name in ("shuffle", "warm_start", "nesterovs_momentum",
                 "early_stopping"):
        if not isinstance(getattr(est, name), (bool, np.bool_)):
            raise TypeError("%s must be True or False, got %r"
                            % (name, getattr(est, name)))
    _real(est.tol, "tol", 0.0)
    if not isinstance(est.verbose, (bool, np.bool_, numbers.Integral)):
        raise TypeError("verbose must be a bool or an int, got %r"
                        % (est.verbose,))
    _real(est.momentum, "momentum", 0.0, 1.0, high_open=True)
    _real(est.validation_fraction, "validation_fraction", 0.0, 1.0,
          True, True)
    _real(est.beta_1, "beta_1", 0.0, 1.0, high_open=True)
    _real(est.beta_2, "beta_2", 0.0, 1.0, high_open=True)
    _real(est.epsilon, "epsilon", 0.0, low_open=True)
    v.check_int(est.n_iter_no_change, "n_iter_no_change", 1)
    _real(est.keep_prob, "keep_prob", 0.0, 1.0, low_open=True)
    if est.dtype not in ("float32", "float64", np.float32, np.float64):
        raise ValueError("dtype must be 'float32' or 'float64', got %r"
                         % (est.dtype,))
    _choice(est.form, "form", FORMS)
    if est.backend not in ("numba", "numpy"):
        raise ValueError("backend must be one of 'numba', 'numpy', got %r"
                         % (est.backend,))
    return sizes


def random_state(rs):
    """``random_state`` as a RandomState (a new one for an int or None's
    global one, as scikit-learn's ``check_random_state``)."""
    if rs is None:
        return np.random.mtrand._rand
    if isinstance(rs, np.random.RandomState):
        return rs
    if isinstance(rs, bool) or not isinstance(rs, numbers.Integral):
        raise TypeError("random_state must be an int, a RandomState or "
                        "None, got %r" % (rs,))
    return np.random.RandomState(v.check_int(rs, "random_state", 0,
                                             2 ** 32 - 1))


def fitted_layer_sizes(coefs, intercepts, n_features):
    """``[n_features, n_1, ..., n_outputs]`` of a fitted network's
    ``coefs_`` (``(n_{l-1}, n_l)`` each, ``n_0 = n_features``) and
    ``intercepts_`` (``(n_l,)`` each), real and finite; else TypeError or
    ValueError naming the first entry that is not (they are public
    attributes: a user may have changed them before ``predict``,
    ``partial_fit`` or a warm start)."""
    fix = "set them from a fitted estimator or refit"
    coefs, intercepts = list(coefs), list(intercepts)
    if not coefs or len(coefs) != len(intercepts):
        raise ValueError("coefs_ and intercepts_ must be two non-empty "
                         "lists of the same length, got %d and %d; %s"
                         % (len(coefs), len(intercepts), fix))
    sizes = [n_features]
    for l, (c, i) in enumerate(zip(coefs, intercepts)):
        c = v.as_array(c, "coefs_[%d]" % l)
        i = v.as_array(i, "intercepts_[%d]" % l)
        if c.ndim != 2 or c.shape[0] != sizes[-1]:
            raise ValueError("coefs_[%d] must have shape (%d, n_out), got "
                             "%s; %s" % (l, sizes[-1], c.shape, fix))
        if i.shape != (c.shape[1],):
            raise ValueError("intercepts_[%d] must have shape (%d,) to match "
                             "coefs_[%d], got %s; %s"
                             % (l, c.shape[1], l, i.shape, fix))
        v.check_finite(c, "coefs_[%d]" % l, fix)
        v.check_finite(i, "intercepts_[%d]" % l, fix)
        sizes.append(c.shape[1])
    return sizes
