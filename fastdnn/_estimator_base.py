"""What :class:`~fastdnn.DNNClassifier` and :class:`~fastdnn.DNNRegressor`
share (private): scikit-learn's MLP parameters and training loop, on
fastdnn's backends.

The loop is scikit-learn's ``MLPClassifier``/``MLPRegressor`` epoch loop
(``_fit_stochastic``): per epoch an optional shuffle of the sample order
(the ``random_state``'s ``shuffle`` of the running order, as
``sklearn.utils.shuffle``), one pass of mini-batches of ``batch_size``
through a :class:`fastdnn._trainer.Trainer`, the epoch's loss (the sum of
batch loss * batch size, over n), ``t_ += n``, the no-improvement count on
the training loss or the validation score, the ``invscaling`` rate
``learning_rate_init / (t_ + 1) ** power_t`` after the epoch, and on
``n_iter_no_change`` epochs without improvement by ``tol`` a stop (or,
with ``learning_rate="adaptive"``, the rate divided by 5 until it is
<= 1e-6). Starting weights are scikit-learn's Glorot-uniform draws from
``random_state``; the optimizers are scikit-learn's update rules
(``sgd_sklearn``, ``nesterov_sklearn``, ``adam_sklearn``, see
:mod:`fastdnn._toolbox_options`), L2 ``alpha`` is scikit-learn's (``alpha
/ (2 n_batch) * sum ||W||^2`` in the loss, biases not decayed).
"""
import inspect
import math
import warnings

import numpy as np

from . import _estimator_checks as C
from ._reference_toolbox import _forward
from ._toolbox_options import check_toolbox
from ._trainer import Trainer

#: scikit-learn's names of the output activations.
OUT_ACTIVATION = {"sigmoid": "logistic", "softmax": "softmax",
                  "identity": "identity"}


class BaseDNN:
    """The shared parameters and training of the two estimators (see
    :class:`fastdnn.DNNClassifier` for the parameters)."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu",
                 solver="adam", alpha=0.0001, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, keep_prob=1.0,
                 backend="numba", dtype="float64", form="auto"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.keep_prob = keep_prob
        self.backend = backend
        self.dtype = dtype
        self.form = form

    # ------------------------------------------------------------ params

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind in (
                          p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))

    def get_params(self, deep=True):
        """The constructor's parameters, as a dict ``{name: value}``."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters; returns ``self``. No validation
        happens here: bad values are reported by ``fit``."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    "Invalid parameter %r for estimator %s. Valid parameters "
                    "are: %s." % (name, type(self).__name__, valid))
            setattr(self, name, value)
        return self

    # ------------------------------------------------------------ layout

    @property
    def parameters_(self):
        """``{"W1": ..., "b1": ..., ...}``: the fitted network in the
        course's layout (``W_l = coefs_[l-1].T``, ``b_l`` a column)."""
        self._check_fitted()
        out = {}
        for l, (c, i) in enumerate(zip(self.coefs_, self.intercepts_), 1):
            out["W%d" % l] = np.ascontiguousarray(np.asarray(c).T)
            out["b%d" % l] = np.asarray(i).reshape(-1, 1).copy()
        return out

    def _set_parameters(self, params):
        L = len(params) // 2
        self.coefs_ = [np.ascontiguousarray(params["W%d" % l].T)
                       for l in range(1, L + 1)]
        self.intercepts_ = [params["b%d" % l].ravel().copy()
                            for l in range(1, L + 1)]

    def _check_fitted(self):
        if not hasattr(self, "coefs_"):
            raise C.NotFittedError(
                "This %s instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
                % type(self).__name__)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    # ------------------------------------------------------------ names

    def _check_feature_names(self, X, reset):
        names = _feature_names(X)
        if reset:
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return
        fitted = getattr(self, "feature_names_in_", None)
        owner = type(self).__name__
        if names is None and fitted is None:
            return
        if fitted is None:
            warnings.warn("X has feature names, but %s was fitted without "
                          "feature names" % owner, UserWarning)
        elif names is None:
            warnings.warn("X does not have valid feature names, but %s was "
                          "fitted with feature names" % owner, UserWarning)
        elif len(names) != len(fitted) or (names != fitted).any():
            raise ValueError("The feature names should match those that "
                             "were passed during fit; got %s, fitted with %s"
                             % (list(names), list(fitted)))

    def _check_predict_X(self, X):
        self._check_fitted()
        self._check_feature_names(X, reset=False)
        X = C.check_X(X, type(self).__name__)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                "X has %d features, but %s is expecting %d features as input"
                % (X.shape[1], type(self).__name__, self.n_features_in_))
        # The public weights, as a user may have left them (training checks
        # them in _fit, and its own updates keep them finite).
        C.fitted_layer_sizes(self.coefs_, self.intercepts_,
                             self.n_features_in_)
        return X

    def _network_output(self, X):
        """The output layer's activations, (n_samples, n_outputs)."""
        return self._rows_output(self._check_predict_X(X))

    def _rows_output(self, X):
        # The forward pass on checked rows X (n_samples, n_features).
        params = self.parameters_
        dtype = params["W1"].dtype
        Xt = np.ascontiguousarray(X.T, dtype=dtype)
        acts = (C.ACTIVATIONS[self.activation],) * (self.n_layers_ - 2)
        with np.errstate(over="ignore"):
            AL, _, _ = _forward(Xt, params, acts, self._output, 1.0, 0, 0)
        return np.asarray(AL, dtype=np.float64).T

    # ------------------------------------------------------------ fit

    def _optimizer(self):
        if self.solver == "adam":
            return "adam_sklearn"
        if self.solver == "sgd":
            if self.momentum == 0:
                # v = 0 * v - lr * g: plain steps, bit for bit.
                return "gd"
            return ("nesterov_sklearn" if self.nesterovs_momentum
                    else "sgd_sklearn")
        return self.solver

    def _initialize(self, dims, rs, dtype):
        # scikit-learn's Glorot-uniform draws, in its order.
        factor = 2.0 if self.activation == "logistic" else 6.0
        params = {}
        for l in range(1, len(dims)):
            fan_in, fan_out = dims[l - 1], dims[l]
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = rs.uniform(-bound, bound, (fan_in, fan_out))
            intercept = rs.uniform(-bound, bound, fan_out)
            params["W%d" % l] = coef.T.astype(dtype)
            params["b%d" % l] = intercept.reshape(-1, 1).astype(dtype)
        self._set_parameters(params)
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(dims)
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._opt_state = None
        self._has_optimizer = False
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._best_params = None

    def _fit(self, X, y, incremental, classes=None):
        owner = type(self).__name__
        sizes = C.check_params(self)
        first = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support "
                             "early_stopping=True")
        self._check_feature_names(X, reset=first)
        X = C.check_X(X, owner)
        if not first and X.shape[1] != self.n_features_in_:
            raise ValueError(
                "X has %d features, but %s is expecting %d features as input"
                % (X.shape[1], owner, self.n_features_in_))
        Y = self._encode(y, X.shape[0], first, incremental, classes)
        dims = [X.shape[1]] + sizes + [Y.shape[1]]
        dtype = np.dtype(self.dtype)
        rs = C.random_state(self.random_state)
        if first:
            self.n_features_in_ = X.shape[1]
            self.n_outputs_ = Y.shape[1]
            self.out_activation_ = OUT_ACTIVATION[self._output]
            self._initialize(dims, rs, dtype)
        else:
            fitted = C.fitted_layer_sizes(self.coefs_, self.intercepts_,
                                          self.n_features_in_)
            if fitted != dims:
                raise ValueError(
                    "warm_start/partial_fit: the fitted network %s does not "
                    "fit hidden_layer_sizes=%r and this data %s; refit "
                    "without warm_start" % (fitted, self.hidden_layer_sizes,
                                            dims))
        self._train(X, Y, y, incremental, rs, dtype)
        return self

    def _split(self, X, Y, rs):
        n_val = math.ceil(self.validation_fraction * X.shape[0])
        if X.shape[0] - n_val < 1 or n_val < 2:
            raise ValueError("The validation set is too small. Increase "
                             "'validation_fraction' or the size of your "
                             "dataset.")
        try:
            from sklearn.model_selection import train_test_split
        except ImportError:  # pragma: no cover - sklearn is optional
            order = rs.permutation(X.shape[0])
            val, train = order[:n_val], order[n_val:]
            return X[train], X[val], Y[train], Y[val]
        # scikit-learn stratifies a classifier's one-column (binary)
        # target only.
        stratify = Y.astype(bool) if (self._stratify
                                      and Y.shape[1] == 1) else None
        return train_test_split(X, Y, random_state=rs,
                                test_size=self.validation_fraction,
                                stratify=stratify)

    def _form(self, toolbox, dims, m, incremental, cost_scale):
        if self.form == "gram" and cost_scale != 1.0:
            raise ValueError(
                "form='gram' does not record scikit-learn's squared error "
                "over several targets (its mean over the targets); use "
                "form='primal' or 'auto'")
        if self.backend != "numba" or incremental or cost_scale != 1.0:
            if self.form == "gram" and self.backend != "numba":
                raise ValueError("form='gram' needs backend='numba'")
            return "primal"
        if self.form == "gram":
            if not toolbox.exact_in_gram:
                raise ValueError(
                    "form='gram' trains solver='gd' and solver='sgd' with "
                    "momentum=0 only (the dual form is exact for updates "
                    "linear in the gradient and implements the course's "
                    "rules); use form='primal' or 'auto'")
            return "gram"
        # Early stopping scores the weights each epoch, which the dual
        # form rebuilds (n_1 n_x m, a primal pass's forward product).
        if self.form == "auto" and toolbox.exact_in_gram and \
                not self.early_stopping:
            from ._gram_toolbox import toolbox_gram_pays
            if toolbox_gram_pays(dims[0], m, dims, toolbox):
                return "gram"
        return "primal"

    def _train(self, X, Y, y_raw, incremental, rs, dtype):
        early = self.early_stopping and not incremental
        if early:
            X, X_val, Y, Y_val = self._split(X, Y, rs)
        n = X.shape[0]
        if isinstance(self.batch_size, str):
            batch = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than "
                              "sample size. It is going to be clipped",
                              UserWarning)
            batch = int(np.clip(self.batch_size, 1, n))
        mbs = None if batch >= n else batch
        optimizer = self._optimizer()
        seed = 0
        if self.keep_prob < 1:
            seed = int(rs.randint(np.iinfo(np.int32).max))
        toolbox = check_toolbox(
            optimizer=optimizer, beta=self.momentum, beta1=self.beta_1,
            beta2=self.beta_2, epsilon=self.epsilon, mini_batch_size=mbs,
            lambd=self.alpha, keep_prob=self.keep_prob, seed=seed, m=n)
        dims = [X.shape[1]] + [c.shape[1] for c in self.coefs_]
        # scikit-learn's squared error is the mean over the targets (its
        # gradient the sum's): the recorded loss only is scaled.
        cost_scale = 1.0 / Y.shape[1] if self._output == "identity" else 1.0
        form = self._form(toolbox, dims, n, incremental, cost_scale)
        acts = (C.ACTIVATIONS[self.activation],) * (len(dims) - 2)
        # partial_fit goes on with the optimizer of the previous training
        # (its rate and state; None: a stateless one), fit starts anew.
        state = None
        if incremental and getattr(self, "_has_optimizer", False):
            state = self._opt_state
        else:
            self._lr = float(self.learning_rate_init)
        trainer = Trainer(self.backend, np.ascontiguousarray(X.T, dtype),
                          np.ascontiguousarray(Y.T, dtype),
                          self._params_in(dtype), acts, self._output,
                          toolbox, form, state, cost_scale)
        order = np.arange(n)
        schedule = self.learning_rate if self.solver != "adam" else "adam"
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            if self.shuffle:
                # sklearn.utils.shuffle of the running order.
                idx = np.arange(n)
                rs.shuffle(idx)
                order = order[idx]
            cost = trainer.run([self._lr], order[None] if mbs else None)[0]
            if not np.isfinite(cost):
                raise ValueError(
                    "Solver produced non-finite parameter weights. The "
                    "input data may contain large values and need to be "
                    "preprocessed (or lower learning_rate_init).")
            if early:
                # The validation score needs this epoch's weights (the
                # dual form rebuilds W1 for them: only when needed).
                self._set_parameters(trainer.parameters())
            self.n_iter_ += 1
            self.loss_ = float(cost)
            self.t_ += n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (self.n_iter_, cost))
            self._no_improvement(early, X_val if early else None,
                                 Y_val if early else None)
            if schedule == "invscaling":
                self._lr = (float(self.learning_rate_init)
                            / (self.t_ + 1) ** self.power_t)
            if self._no_improvement_count > self.n_iter_no_change:
                if self._stop(early, schedule):
                    break
                self._no_improvement_count = 0
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) reached "
                    "and the optimization hasn't converged yet."
                    % self.max_iter, C.ConvergenceWarning)
        self._set_parameters(trainer.parameters())
        if early and self._best_params is not None:
            self._set_parameters(self._best_params)
        self._opt_state = trainer.state() if form == "primal" else None
        self._has_optimizer = True

    def _params_in(self, dtype):
        return {k: a.astype(dtype) for k, a in self.parameters_.items()}

    def _no_improvement(self, early, X_val, Y_val):
        if early:
            score = self._validation_score(X_val, Y_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self.parameters_
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _stop(self, early, schedule):
        what = ("Validation score" if early else "Training loss")
        msg = ("%s did not improve more than tol=%f for %d consecutive "
               "epochs." % (what, self.tol, self.n_iter_no_change))
        if schedule != "adaptive" or self._lr <= 1e-6:
            if self.verbose:
                print(msg + " Stopping." if schedule != "adaptive" else
                      msg + " Learning rate too small. Stopping.")
            return True
        self._lr /= 5.0
        if self.verbose:
            print(msg + " Setting learning rate to %f" % self._lr)
        return False


def _feature_names(X):
    cols = getattr(X, "columns", None)
    if cols is None or not hasattr(X, "__dataframe__") and \
            not hasattr(X, "iloc"):
        return None
    names = np.asarray(list(cols), dtype=object)
    kinds = {isinstance(c, str) for c in names}
    if kinds == {True}:
        return names
    if kinds == {True, False}:
        raise TypeError("Feature names are only supported if all input "
                        "features have string names, but your input has "
                        "mixed types; convert them all to str")
    return None
