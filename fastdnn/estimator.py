"""A scikit-learn style classifier around the L-layer network.

:class:`DNNClassifier` follows scikit-learn's conventions (no work in
``__init__``, ``fit`` returns ``self``, learned attributes end in ``_``,
``get_params``/``set_params``, ``predict``/``predict_proba``/``score``) and
takes ``X`` in scikit-learn's layout, one sample per *row*: it transposes to
the course's one-example-per-column layout internally.

scikit-learn is optional (``pip install "fastdnn[sklearn]"``): when it is
importable the class also inherits its ``ClassifierMixin`` and
``BaseEstimator`` (HTML repr, tags, ``clone``, pipelines, grid search all
work); without it the class is self-contained.
"""
import inspect
import numbers
import warnings

import numpy as np

from . import _validation as v
from ._train_options import training_kwargs

try:  # optional
    from sklearn.base import BaseEstimator as _SkBase
    from sklearn.base import ClassifierMixin as _SkClassifier
    from sklearn.exceptions import DataConversionWarning
    from sklearn.exceptions import NotFittedError
    _BASES = (_SkClassifier, _SkBase)
except ImportError:  # pragma: no cover - exercised in a subprocess test
    _BASES = ()

    class NotFittedError(ValueError, AttributeError):
        """``predict`` called before ``fit``."""

    class DataConversionWarning(UserWarning):
        """The input was converted (e.g. a column ``y`` to a 1-D vector)."""

__all__ = ["DNNClassifier", "NotFittedError"]

#: The network DNNClassifier trains and its initializer, passed to the
#: backends explicitly (so that it stays the course's binary classifier
#: whatever their defaults); save its ``parameters_`` with
#: ``fastdnn.save_model(path, parameters, activation=ACTIVATION,
#: output=OUTPUT)``.
ACTIVATION = "relu"
OUTPUT = "sigmoid"
INITIALIZATION = "xavier"


def _is_sparse(x):
    return type(x).__module__.startswith("scipy.sparse")


def _check_not_masked(x, name):
    # np.asarray drops a masked array's mask: the masked entries would be
    # used as data.
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            "%s is a numpy masked array; DNNClassifier would ignore its mask "
            "and use the masked entries as data: pass %s.filled(value) to "
            "choose their value, or drop the masked samples (rows) first"
            % (name, name))


def _check_X(X, name="X"):
    """``X`` as a finite 2-D float array (n_samples, n_features)."""
    if _is_sparse(X):
        raise TypeError("DNNClassifier does not support sparse input; "
                        "convert %s with %s.toarray()" % (name, name))
    if X is None or isinstance(X, (str, bytes)):
        raise TypeError("%s must be a 2-D numeric array of shape (n_samples, "
                        "n_features), got %s" % (name, type(X).__name__))
    _check_not_masked(X, name)
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


def _check_y(y, n_samples):
    if y is None:
        raise ValueError("DNNClassifier requires y to be passed, but the "
                         "target y is None")
    if _is_sparse(y):
        raise TypeError("DNNClassifier does not support a sparse y")
    _check_not_masked(y, "y")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was "
                      "expected. Please change the shape of y to "
                      "(n_samples,), for example using ravel().",
                      DataConversionWarning, stacklevel=3)
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError("y should be a 1d array of n_samples labels, got "
                         "shape %s" % (y.shape,))
    if y.shape[0] != n_samples:
        raise ValueError("X has %d samples but y has %d labels"
                         % (n_samples, y.shape[0]))
    if y.dtype.kind == "c":
        raise ValueError("Complex data not supported: y is complex")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or inf")
    if y.dtype.kind == "O":
        kinds = {type(v) for v in y.tolist()}
        if len(kinds) > 1:
            raise ValueError("Unknown label type: y mixes labels of types %s"
                             % ", ".join(sorted(k.__name__ for k in kinds)))
    classes, y_index = np.unique(y, return_inverse=True)
    if len(classes) == 1:
        raise ValueError(
            "Only binary classification is supported, and y has one class "
            "only (%r); DNNClassifier needs exactly two" % (classes[0],))
    if len(classes) != 2:
        kind = ""
        if y.dtype.kind == "f" and not np.all(classes == np.round(classes)):
            kind = " (Unknown label type: continuous)"
        raise ValueError(
            "Only binary classification is supported. y has %d distinct "
            "class value(s)%s; DNNClassifier needs exactly two"
            % (len(classes), kind))
    return classes, y_index.reshape(-1)


def _check_score_y(y, n_samples):
    """``score``'s labels: one per sample, as a vector or a column."""
    if y is None or _is_sparse(y):
        raise TypeError("score needs y, a 1-D array of n_samples labels, got "
                        "%s" % type(y).__name__)
    _check_not_masked(y, "y")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError("y should be a 1d array of n_samples labels, got "
                         "shape %s" % (y.shape,))
    if y.shape[0] != n_samples:
        raise ValueError("X has %d samples but y has %d labels; score needs "
                         "one label per sample (nothing is broadcast)"
                         % (n_samples, y.shape[0]))
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or inf")
    return y


def _check_sample_weight(sample_weight, n_samples):
    """``score``'s weights: 1-D, finite, >= 0, one per sample, not all 0."""
    _check_not_masked(sample_weight, "sample_weight")
    w = v.as_array(sample_weight, "sample_weight")
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


class DNNClassifier(*_BASES):
    """Binary classifier: the L-layer network
    ``[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID`` trained by full-batch
    gradient descent, as ``L_layer_model`` trains it.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (20, 7, 5)
        Widths of the hidden ReLU layers; the input width comes from ``X``
        and the output is one sigmoid unit. ``()`` is logistic regression.
    learning_rate : float, default 0.0075
    n_iterations : int, default 2500
        Gradient-descent steps.
    backend : {"numba", "numpy"}, default "numba"
        Which implementation trains (see ``fastdnn.get_backend``).
    dtype : {"float64", "float32"}, default "float64"
        Floating-point type of the training.
    solver : {"auto", "primal", "gram"}, default "auto"
        The numba backend's solver choice; the numpy backend has only
        ``"auto"``.
    random_state : int, RandomState, Generator or None, default 1
        Seed of the weight initialisation. 1 gives exactly the course's
        network; ``None`` draws a seed from numpy's global random state.
        Other seeds need a backend whose ``L_layer_model`` accepts
        ``seed=``.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels seen in ``fit``, sorted; ``classes_[1]`` is the
        positive class (the sigmoid unit's).
    n_features_in_ : int
    layer_dims_ : list of int
        ``[n_features, *hidden_layer_sizes, 1]``.
    parameters_ : dict
        ``W1, b1, ..., WL, bL`` as ``L_layer_model`` returns them; usable
        with the functional API and ``fastdnn.save_model`` (the network is
        ``activation="relu"``, ``output="sigmoid"``: :data:`ACTIVATION`,
        :data:`OUTPUT`).
    costs_ : list of float
        The cost every 100 iterations.
    """

    def __init__(self, hidden_layer_sizes=(20, 7, 5), learning_rate=0.0075,
                 n_iterations=2500, backend="numba", dtype="float64",
                 solver="auto", random_state=1):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.learning_rate = learning_rate
        self.n_iterations = n_iterations
        self.backend = backend
        self.dtype = dtype
        self.solver = solver
        self.random_state = random_state

    # ------------------------------------------------------------ params

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self"
                      and p.kind == p.POSITIONAL_OR_KEYWORD)

    def get_params(self, deep=True):
        """The constructor's parameters, as a dict ``{name: value}``."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters; returns ``self``. No validation
        happens here: bad values are reported by :meth:`fit`."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    "Invalid parameter %r for estimator %s. Valid parameters "
                    "are: %s." % (name, type(self).__name__, valid))
            setattr(self, name, value)
        return self

    if not _BASES:
        def __repr__(self):
            defaults = type(self)().get_params()
            changed = ["%s=%r" % (k, v) for k, v in self.get_params().items()
                       if not _same(v, defaults[k])]
            return "%s(%s)" % (type(self).__name__, ", ".join(changed))

    # ------------------------------------------------------------ tags

    if _BASES:
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.classifier_tags.multi_class = False
            tags.target_tags.required = True
            tags.input_tags.allow_nan = False
            return tags

        def _more_tags(self):  # scikit-learn < 1.6
            return {"binary_only": True, "requires_y": True}

    # ------------------------------------------------------------ fit

    def _backend(self):
        import fastdnn

        if self.backend not in fastdnn.BACKENDS:
            raise ValueError("backend must be one of %s, got %r"
                             % (", ".join(repr(b) for b in
                                          sorted(fastdnn.BACKENDS)),
                                self.backend))
        return fastdnn.get_backend(self.backend)

    def _check_params(self):
        # Every parameter is checked here, under the estimator's own names
        # (n_iterations, hidden_layer_sizes), before the functional API
        # sees it under its names (num_iterations, layers_dims).
        sizes = self.hidden_layer_sizes
        if (isinstance(sizes, numbers.Integral)
                and not isinstance(sizes, bool)):
            sizes = (sizes,)
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise TypeError("hidden_layer_sizes must be a sequence of "
                            "positive ints such as (20, 7, 5), got %r"
                            % (sizes,))
        sizes = [v.check_int(s, "hidden_layer_sizes[%d]" % i, 1)
                 for i, s in enumerate(sizes)]
        v.check_learning_rate(self.learning_rate, "learning_rate")
        v.check_int(self.n_iterations, "n_iterations", 0)
        if self.dtype not in ("float32", "float64", np.float32, np.float64):
            raise ValueError("dtype must be 'float32' or 'float64', got %r"
                             % (self.dtype,))
        if self.solver not in ("auto", "primal", "gram"):
            raise ValueError("solver must be 'auto', 'primal' or 'gram', got "
                             "%r" % (self.solver,))
        return [int(s) for s in sizes], np.dtype(self.dtype)

    def _seed(self):
        rs = self.random_state
        if rs is None:
            rs = np.random.mtrand._rand
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(np.iinfo(np.int32).max))
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(np.iinfo(np.int32).max))
        if isinstance(rs, bool) or not isinstance(rs, numbers.Integral):
            raise TypeError("random_state must be an int, a RandomState, a "
                            "Generator or None, got %r" % (rs,))
        return v.check_int(rs, "random_state", 0, v.SEED_MAX)

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and the labels ``y``
        (n_samples,), which may be any two distinct values.

        Returns
        -------
        self
        """
        sizes, dtype = self._check_params()
        X = _check_X(X)
        classes, y_index = _check_y(y, X.shape[0])
        B = self._backend()
        dims = [X.shape[1]] + sizes + [1]
        v.check_weight_sizes(dims, "hidden_layer_sizes")
        kwargs = training_kwargs(B, self.backend, dtype, self.solver,
                                 self._seed())
        Xt = np.ascontiguousarray(X.T, dtype=dtype)
        Y = y_index.astype(dtype).reshape(1, -1)
        parameters, costs = B.L_layer_model(
            Xt, Y, dims, self.learning_rate, self.n_iterations,
            print_cost=False, activation=ACTIVATION, output=OUTPUT,
            initialization=INITIALIZATION, **kwargs)
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        self.layer_dims_ = dims
        self.parameters_ = parameters
        # The functional API records 0-d arrays, as the course does; a
        # fitted attribute is plain numbers.
        self.costs_ = [float(c) for c in costs]
        return self

    # ------------------------------------------------------------ predict

    def _check_fitted(self):
        if not hasattr(self, "parameters_"):
            raise NotFittedError(
                "This %s instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
                % type(self).__name__)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "parameters_")

    def _positive_proba(self, X):
        self._check_fitted()
        X = _check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                "X has %d features, but %s is expecting %d features as input"
                % (X.shape[1], type(self).__name__, self.n_features_in_))
        B = self._backend()
        dtype = self.parameters_["W1"].dtype
        # Samples in rows, C order: X.T is the network's (n_x, m) input in
        # Fortran order, which the numba forward pass reads without a copy.
        X = np.ascontiguousarray(X, dtype=dtype)
        AL, _ = B.L_model_forward(X.T, self.parameters_,
                                  activation=ACTIVATION, output=OUTPUT)
        return np.asarray(AL).reshape(-1)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, 2): column ``k`` is the
        probability of ``classes_[k]``."""
        p = self._positive_proba(X).astype(np.float64)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """Predicted labels (values of ``classes_``): ``classes_[1]`` where
        the network's output is > 0.5, as the course's ``predict``."""
        p = self._positive_proba(X)
        return self.classes_[(p > 0.5).astype(np.intp)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        ``y`` holds one label per sample (a column (n_samples, 1) is
        accepted); ``sample_weight``, when given, one finite weight >= 0 per
        sample. Nothing is broadcast.
        """
        pred = self.predict(X)
        y = _check_score_y(y, pred.shape[0])
        correct = (pred == y).astype(np.float64)
        if sample_weight is None:
            return float(correct.mean())
        weights = _check_sample_weight(sample_weight, pred.shape[0])
        return float(np.average(correct, weights=weights))


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b
