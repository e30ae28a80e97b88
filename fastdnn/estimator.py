"""scikit-learn style estimators around fastdnn's networks:
:class:`DNNClassifier` (binary, multi-class and multi-label) and
:class:`DNNRegressor` (one or several real targets).

They take scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` parameters,
with the same names and meanings (``solver`` is the optimizer, as there),
train with scikit-learn's update rules and schedules on fastdnn's backends,
and add what those lack: ``solver="gd"`` and ``"rmsprop"``, dropout
(``keep_prob``), the numba or numpy ``backend``, ``dtype="float32"`` and
the dual form (``form``). Started from the same weights with
``shuffle=False``, the loss curve is scikit-learn's to rounding (see
docs/api.md for where its formulas differ from the course's).

``X`` is in scikit-learn's layout, one sample per *row*; the fitted
network is also available in the course's layout, ``parameters_``
(``W_l = coefs_[l-1].T``), for the functional API and
``fastdnn.save_model``.

scikit-learn is optional (``pip install "fastdnn[sklearn]"``): when it is
importable the classes also inherit its mixins and ``BaseEstimator``
(HTML repr, tags, ``clone``, pipelines, grid search); without it they are
self-contained.
"""
import numpy as np

from . import _estimator_checks as C
from ._estimator_base import BaseDNN
from ._estimator_checks import ConvergenceWarning, NotFittedError

try:  # optional
    from sklearn.base import BaseEstimator as _SkBase
    from sklearn.base import ClassifierMixin as _SkClassifier
    from sklearn.base import RegressorMixin as _SkRegressor
    _CLASSIFIER_BASES = (_SkClassifier, _SkBase)
    _REGRESSOR_BASES = (_SkRegressor, _SkBase)
except ImportError:  # pragma: no cover - exercised in a subprocess test
    _CLASSIFIER_BASES = _REGRESSOR_BASES = ()

__all__ = ["DNNClassifier", "DNNRegressor", "NotFittedError",
           "ConvergenceWarning"]

_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (100,)
        The widths of the hidden layers (``()``: no hidden layer).
    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu"}, \
default "relu"
        The hidden layers' activation.
    solver : {"adam", "sgd", "gd", "rmsprop"}, default "adam"
        The optimizer: scikit-learn's Adam and SGD (with ``momentum`` and
        ``nesterovs_momentum``), the course's plain gradient step and
        RMSprop (``beta_2``, ``epsilon``).
    alpha : float >= 0, default 1e-4
        L2 strength, scikit-learn's scaling: ``alpha / (2 n_batch) *
        sum ||W||^2`` added to each batch's loss.
    batch_size : int or "auto", default "auto"
        Mini-batch size; "auto" is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default \
"constant"
        The schedule (not Adam's): ``invscaling`` sets the rate to
        ``learning_rate_init / (t_ + 1) ** power_t`` after each epoch,
        ``adaptive`` divides it by 5 after ``n_iter_no_change`` epochs
        without improvement by ``tol``.
    learning_rate_init : float > 0, default 0.001
    power_t : float >= 0, default 0.5
    max_iter : int >= 1, default 200
        Epochs (passes over the training set).
    shuffle : bool, default True
        Shuffle the samples before each epoch.
    random_state : int, RandomState or None, default None
        The initial weights (scikit-learn's Glorot-uniform draws), the
        shuffles, the early-stopping split and the dropout seed.
    tol : float >= 0, default 1e-4
    verbose : bool or int, default False
        Print the loss (and validation score) of each epoch.
    warm_start : bool, default False
        ``fit`` continues from the fitted weights (``coefs_`` and
        ``intercepts_``, which may be set by hand).
    momentum : float in [0, 1), default 0.9
    nesterovs_momentum : bool, default True
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data and stop when its
        score has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        the best epoch's weights are kept.
    validation_fraction : float in (0, 1), default 0.1
    beta_1, beta_2 : float in [0, 1), default 0.9, 0.999
    epsilon : float > 0, default 1e-8
    n_iter_no_change : int >= 1, default 10
    keep_prob : float in (0, 1], default 1.0
        Dropout's keep probability on the hidden layers (inverted
        dropout); 1 is none.
    backend : {"numba", "numpy"}, default "numba"
        Which implementation trains.
    dtype : {"float64", "float32"}, default "float64"
    form : {"auto", "primal", "gram"}, default "auto"
        The numba backend's form: ``"gram"`` trains the first layer in
        dual form (exact for ``solver="gd"`` and ``"sgd"`` with
        ``momentum=0``); ``"auto"`` picks it when it pays.

    Attributes
    ----------
    coefs_, intercepts_ : lists of arrays
        scikit-learn's layout: ``coefs_[i]`` (n_in, n_out).
    parameters_ : dict
        The course's layout (``W_l = coefs_[l-1].T``, ``b_l`` a column).
    loss_, loss_curve_, best_loss_, validation_scores_,
    best_validation_score_, n_iter_, t_, n_layers_, n_outputs_,
    out_activation_, n_features_in_, feature_names_in_
        As scikit-learn's (``n_iter_``: the epochs of the last ``fit``;
        ``t_``: samples seen).
"""


class DNNClassifier(BaseDNN, *_CLASSIFIER_BASES):
    __doc__ = ("""Neural-network classifier: a sigmoid unit for two classes,
    softmax for more, one sigmoid per label for a 2-D 0/1 indicator ``y``
    (multi-label), trained on the cross-entropy.
""" + _PARAMETERS + """    classes_ : ndarray
        The labels seen in ``fit`` (sorted), or ``0..n_labels-1`` for a
        multi-label ``y``.
""")

    _stratify = True

    if _CLASSIFIER_BASES:
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.classifier_tags.multi_label = True
            tags.target_tags.required = True
            tags.input_tags.allow_nan = False
            return tags

    def _encode(self, y, n, first, incremental, classes):
        owner = type(self).__name__
        kind, y = C.classifier_target(y, n, owner)
        if first:
            if kind == "multilabel":
                labels = np.arange(y.shape[1])
            else:
                labels = np.unique(y if classes is None else
                                   np.asarray(classes))
                if len(labels) < 2:
                    # The label as Python shows it: 0 or 'cat', not
                    # numpy's np.int64(0) or np.str_('cat').
                    raise ValueError(
                        "y has one class only (%r); %s needs at least two "
                        "classes" % (labels[:1].tolist()[0], owner))
            self.classes_ = labels
            self._kind = kind
            self._output = ("softmax" if kind == "classes"
                            and len(labels) > 2 else "sigmoid")
        elif kind != self._kind:
            raise ValueError("y is %s but %s was fitted on %s targets"
                             % (kind, owner, self._kind))
        elif kind == "classes":
            seen = np.unique(y)
            if self.warm_start and not incremental:
                if set(seen.tolist()) != set(self.classes_.tolist()):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        "got %s, `y` has %s" % (self.classes_, seen))
            elif np.setdiff1d(seen, self.classes_).size:
                raise ValueError("`y` has classes not in `self.classes_`. "
                                 "`self.classes_` has %s. 'y' has %s."
                                 % (self.classes_, seen))
        if kind == "multilabel":
            if y.shape[1] != len(self.classes_):
                raise ValueError("y has %d labels, %s was fitted on %d"
                                 % (y.shape[1], owner, len(self.classes_)))
            return y.astype(np.float64)
        if classes is not None and np.setdiff1d(y, self.classes_).size:
            raise ValueError("`y` has classes not in `classes`: %s"
                             % (np.setdiff1d(y, self.classes_),))
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return (index == 1).astype(np.float64).reshape(-1, 1)
        return np.eye(len(self.classes_))[index]

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and ``y``: labels
        (n_samples,) of any kind, or a 0/1 indicator matrix (n_samples,
        n_labels) for multi-label. Returns ``self``."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y, classes=None):
        """One epoch on ``(X, y)``, continuing the weights and the
        optimizer's state of the previous calls. ``classes`` (every label
        that will be seen) is needed on the first call unless ``y`` is a
        multi-label indicator. Returns ``self``."""
        if not hasattr(self, "classes_") and classes is None:
            kind, _ = C.classifier_target(y, C.check_X(
                X, type(self).__name__).shape[0], type(self).__name__)
            if kind != "multilabel":
                raise ValueError("classes must be passed on the first call "
                                 "to partial_fit.")
        return self._fit(X, y, incremental=True,
                         classes=None if hasattr(self, "coefs_")
                         else classes)

    def _validation_score(self, X, Y):
        return _accuracy(self._decide(self._rows_output(X)),
                         self._decide(Y))

    def _decide(self, P):
        # Class indices (or the 0/1 label matrix) of output rows P.
        if self._kind == "multilabel":
            return (P > 0.5).astype(np.int64)
        if P.shape[1] == 1:
            return (P[:, 0] > 0.5).astype(np.intp)
        return np.argmax(P, axis=1)

    def predict_proba(self, X):
        """Probabilities, (n_samples, n_classes) in the order of
        ``classes_`` (two columns for a binary problem; one per label for
        multi-label, each its own unit's)."""
        P = self._network_output(X)
        if P.shape[1] == 1 and self._kind == "classes":
            return np.column_stack([1 - P[:, 0], P[:, 0]])
        return P

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Labels (values of ``classes_``), or the 0/1 label matrix for
        multi-label: probability > 0.5, else the most probable class."""
        decided = self._decide(self._network_output(X))
        if self._kind == "multilabel":
            return decided
        return self.classes_[decided]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` (multi-label: all labels of a
        sample right); ``sample_weight``, one finite weight >= 0 per
        sample."""
        pred = self.predict(X)
        y = C.score_y(y, pred.shape[0])
        correct = pred == y
        if correct.ndim == 2:
            correct = correct.all(axis=1)
        correct = correct.astype(np.float64)
        if sample_weight is None:
            return float(correct.mean())
        weights = C.sample_weight(sample_weight, pred.shape[0])
        return float(np.average(correct, weights=weights))


class DNNRegressor(BaseDNN, *_REGRESSOR_BASES):
    __doc__ = ("""Neural-network regressor: identity output, squared error,
    one or several targets.
""" + _PARAMETERS)

    _stratify = False
    _output = "identity"

    if _REGRESSOR_BASES:
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.target_tags.multi_output = True
            tags.target_tags.single_output = True
            tags.target_tags.required = True
            tags.input_tags.allow_nan = False
            return tags

    def _encode(self, y, n, first, incremental, classes):
        y = C.regressor_target(y, n, type(self).__name__)
        Y = y.reshape(n, -1)
        if not first and Y.shape[1] != self.n_outputs_:
            raise ValueError("y has %d targets, %s was fitted on %d"
                             % (Y.shape[1], type(self).__name__,
                                self.n_outputs_))
        return Y

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and real targets ``y``
        (n_samples,) or (n_samples, n_targets). Returns ``self``."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """One epoch on ``(X, y)``, continuing the weights and the
        optimizer's state of the previous calls. Returns ``self``."""
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predictions, (n_samples,) for one target, else (n_samples,
        n_targets)."""
        out = self._network_output(X)
        return out.ravel() if self.n_outputs_ == 1 else out

    def _validation_score(self, X, Y):
        return _r2(Y, self._rows_output(X), None)

    def score(self, X, y, sample_weight=None):
        """The coefficient of determination R^2 of :meth:`predict`,
        averaged over the targets."""
        pred = self.predict(X)
        y = C.score_y(y, pred.shape[0]).astype(np.float64)
        weights = None
        if sample_weight is not None:
            weights = C.sample_weight(sample_weight, pred.shape[0])
        return _r2(y.reshape(len(y), -1), pred.reshape(len(y), -1), weights)


def _accuracy(pred, truth):
    correct = pred == truth
    if correct.ndim == 2:
        correct = correct.all(axis=1)
    return float(np.mean(correct))


def _r2(Y, P, weights):
    # scikit-learn's r2_score, uniform average over the targets; a
    # constant target scores 1 when predicted exactly, else 0.
    w = np.ones(Y.shape[0]) if weights is None else weights
    w = w[:, None]
    num = (w * (Y - P) ** 2).sum(axis=0)
    mean = (w * Y).sum(axis=0) / w.sum()
    den = (w * (Y - mean) ** 2).sum(axis=0)
    scores = np.ones(Y.shape[1])
    ok = den != 0
    scores[ok] = 1 - num[ok] / den[ok]
    scores[~ok & (num != 0)] = 0.0
    return float(scores.mean())


if not _CLASSIFIER_BASES:
    def _repr(self):
        defaults = type(self)().get_params()
        changed = ["%s=%r" % (k, v) for k, v in self.get_params().items()
                   if not _same(v, defaults[k])]
        return "%s(%s)" % (type(self).__name__, ", ".join(changed))

    DNNClassifier.__repr__ = _repr
    DNNRegressor.__repr__ = _repr


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b
