"""Same weights, same trajectory: with scikit-learn's initial draws (the
same random_state) and shuffle=False, DNNClassifier's and DNNRegressor's
loss curves are MLPClassifier's and MLPRegressor's to 1e-10 relative in
float64, on both backends, for every solver scikit-learn has, L2 and each
learning-rate schedule. Then scikit-learn's estimator checks, clone,
pickle, pipelines, grid search and cross-validation."""
import pickle
import warnings

import numpy as np
import pytest

import fastdnn
from fastdnn.estimator import DNNClassifier, DNNRegressor

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import (GridSearchCV,  # noqa: E402
                                     cross_val_score)
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

BACKENDS = sorted(fastdnn.BACKENDS)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.RandomState(0)
X = RNG.randn(120, 4)
TARGETS = {
    "binary": (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int),
    "multiclass": np.array(["a", "b", "c"])[np.digitize(X[:, 0],
                                                        [-0.5, 0.5])],
    "multilabel": np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0,
                                   X[:, 3] > 0.5]).astype(int),
    "regression": 2 * X[:, 0] - X[:, 2] + 0.1 * X[:, 1] ** 2,
}

SOLVERS = {
    "sgd": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05),
    "momentum": dict(solver="sgd", nesterovs_momentum=False,
                     learning_rate_init=0.02),
    "nesterov": dict(solver="sgd", learning_rate_init=0.02),
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "invscaling": dict(solver="sgd", learning_rate="invscaling",
                       learning_rate_init=0.2, power_t=0.3),
    # tol so large that no epoch improves: the rate is divided by 5 every
    # n_iter_no_change + 1 epochs.
    "adaptive": dict(solver="sgd", learning_rate="adaptive", tol=10.0,
                     n_iter_no_change=2, learning_rate_init=0.05),
    "stop": dict(solver="adam", tol=10.0, n_iter_no_change=3,
                 learning_rate_init=0.01),
}


def _pair(kind, settings, **kw):
    common = dict(hidden_layer_sizes=(6, 5), activation="tanh",
                  max_iter=12, shuffle=False, random_state=3, batch_size=32,
                  alpha=0.01, **settings)
    common.update(kw)
    if kind == "regression":
        return MLPRegressor(**common), lambda **b: DNNRegressor(**common,
                                                                **b)
    return MLPClassifier(**common), lambda **b: DNNClassifier(**common, **b)


def _same_curve(ours, theirs, rtol=1e-10):
    assert len(ours.loss_curve_) == len(theirs.loss_curve_)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_,
                               rtol=rtol)
    for a, b in zip(ours.coefs_ + ours.intercepts_,
                    theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_loss_curve_is_scikit_learns(kind, solver, backend):
    sk, ours = _pair(kind, SOLVERS[solver])
    y = TARGETS[kind]
    sk.fit(X, y)
    est = ours(backend=backend).fit(X, y)
    _same_curve(est, sk)
    assert est.n_iter_ == sk.n_iter_ and est.t_ == sk.t_
    assert est.best_loss_ == pytest.approx(sk.best_loss_, rel=1e-10)
    if solver == "stop":
        # The first epoch improves on inf, the next n_iter_no_change + 1
        # do not.
        assert est.n_iter_ == 5
    if kind != "regression":
        np.testing.assert_array_equal(est.classes_, sk.classes_)
        np.testing.assert_allclose(est.predict_proba(X),
                                   sk.predict_proba(X), rtol=1e-8)
        np.testing.assert_array_equal(est.predict(X), sk.predict(X))
    else:
        np.testing.assert_allclose(est.predict(X), sk.predict(X),
                                   rtol=1e-8)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_float32_follows_scikit_learns_float32(kind, backend):
    # scikit-learn trains float32 input in float32: so does
    # dtype="float32", to float32's rounding.
    sk, ours = _pair(kind, SOLVERS["adam"])
    y = TARGETS[kind]
    sk.fit(X.astype(np.float32), y)
    est = ours(backend=backend, dtype="float32").fit(X, y)
    assert est.coefs_[0].dtype == sk.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(est.loss_curve_, sk.loss_curve_, rtol=1e-5)


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_full_batch_without_l2_and_relu(kind):
    sk, ours = _pair(kind, SOLVERS["nesterov"], batch_size=120, alpha=0.0,
                     activation="relu")
    y = TARGETS[kind]
    _same_curve(ours(backend=BACKENDS[-1]).fit(X, y), sk.fit(X, y))


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_logistic_hidden_layers_and_their_initialisation(kind):
    # Glorot's factor is 2 for "logistic", 6 otherwise (every layer).
    sk, ours = _pair(kind, SOLVERS["adam"], activation="logistic")
    y = TARGETS[kind]
    _same_curve(ours(backend=BACKENDS[0]).fit(X, y), sk.fit(X, y))


def test_early_stopping_is_scikit_learns():
    sk, ours = _pair("binary", SOLVERS["adam"], early_stopping=True,
                     max_iter=40, n_iter_no_change=3, tol=1e-3)
    y = TARGETS["binary"]
    sk.fit(X, y)
    est = ours(backend=BACKENDS[0]).fit(X, y)
    assert est.validation_scores_ == sk.validation_scores_
    assert est.best_validation_score_ == sk.best_validation_score_
    assert est.best_loss_ is None
    _same_curve(est, sk)


def test_shuffled_epochs_are_scikit_learns():
    # The shuffles too are drawn as scikit-learn draws them.
    sk, ours = _pair("multiclass", SOLVERS["nesterov"], shuffle=True)
    y = TARGETS["multiclass"]
    _same_curve(ours(backend=BACKENDS[-1]).fit(X, y), sk.fit(X, y))


def test_warm_start_from_weights_passed_in():
    # Weights set by hand (scikit-learn's layout) are the starting point.
    sk, ours = _pair("regression", SOLVERS["momentum"], warm_start=True)
    y = TARGETS["regression"]
    start = MLPRegressor(hidden_layer_sizes=(6, 5), max_iter=1,
                         random_state=9).fit(X, y)
    est = ours(backend=BACKENDS[0]).fit(X, y)  # defines the attributes
    for model in (sk.fit(X, y), est):
        model.coefs_ = [c.copy() for c in start.coefs_]
        model.intercepts_ = [i.copy() for i in start.intercepts_]
    sk.fit(X, y)
    est.fit(X, y)
    assert len(est.loss_curve_) > 12  # the first fit's and the second's
    _same_curve(est, sk)


def test_partial_fit_is_scikit_learns():
    sk, ours = _pair("multiclass", SOLVERS["adam"], batch_size=10)
    y = TARGETS["multiclass"]
    est = ours(backend=BACKENDS[-1])
    for k in range(4):
        part = slice(30 * k, 30 * (k + 1))
        sk.partial_fit(X[part], y[part], classes=["a", "b", "c"])
        est.partial_fit(X[part], y[part], classes=["a", "b", "c"])
    assert est.n_iter_ == sk.n_iter_ == 1 and est.t_ == sk.t_ == 120
    _same_curve(est, sk)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_several_targets_mean_the_squared_errors(solver, backend):
    # scikit-learn's reported loss averages the squared errors over the
    # targets (its gradient is the sum's, delta = pred - y): so does
    # DNNRegressor's, L2 term apart.
    y = np.column_stack([TARGETS["regression"], X[:, 1], X[:, 0] ** 2])
    sk, ours = _pair("regression", SOLVERS[solver])
    sk.fit(X, y)
    est = ours(backend=backend).fit(X, y)
    _same_curve(est, sk)
    assert est.predict(X).shape == (120, 3)
    if backend == "numba":
        with pytest.raises(ValueError, match="form='gram' does not"):
            ours(backend=backend, form="gram").fit(X, y)


# ------------------------------------------------ scikit-learn's protocol

def test_clone_pickle_pipeline_grid_search_cross_val():
    y = TARGETS["multiclass"]
    est = DNNClassifier(hidden_layer_sizes=(8,), max_iter=30,
                        learning_rate_init=0.02, random_state=0,
                        backend=BACKENDS[0])
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est
    pipe = make_pipeline(StandardScaler(), est).fit(X, y)
    assert pipe.score(X, y) > 0.8
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict_proba(X),
                                  pipe.predict_proba(X))
    grid = GridSearchCV(est, {"alpha": [1e-4, 1.0],
                              "hidden_layer_sizes": [(4,), (8,)]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"alpha", "hidden_layer_sizes"}
    scores = cross_val_score(DNNRegressor(hidden_layer_sizes=(8,),
                                          max_iter=40, random_state=0,
                                          learning_rate_init=0.02,
                                          backend=BACKENDS[0]),
                             X, TARGETS["regression"], cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.5


try:
    from sklearn.utils.estimator_checks import parametrize_with_checks
except ImportError:  # pragma: no cover
    parametrize_with_checks = None

if parametrize_with_checks is not None:
    # A small network and few epochs keep the checks fast while still
    # passing their accuracy thresholds. No check is skipped by us.
    _CHECKED = [Est(hidden_layer_sizes=(16,), max_iter=100,
                    learning_rate_init=0.05, random_state=0, backend=b)
                for Est in (DNNClassifier, DNNRegressor) for b in BACKENDS]

    @parametrize_with_checks(_CHECKED)
    def test_sklearn_estimator_checks(estimator, check):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            check(estimator)


@pytest.mark.parametrize("settings", ["invscaling", "adam"])
def test_partial_fit_after_fit_continues_its_optimizer(settings):
    # The fit's optimizer (rate, velocity, Adam's step) goes on, as in
    # scikit-learn; invscaling trains in the dual form here (sgd without
    # momentum, n_x >> m), whose rate must carry over too.
    wide = np.random.RandomState(4).randn(60, 400)
    y = (wide[:, 0] > 0).astype(int)
    kw = dict(SOLVERS[settings])
    if settings == "invscaling":
        kw["momentum"] = 0.0
    sk, ours = _pair("binary", kw, max_iter=3)
    est = ours(backend=BACKENDS[-1])
    for model in (sk, est):
        model.fit(wide, y)
        model.partial_fit(wide, y)
        model.partial_fit(wide, y)
    _same_curve(est, sk)


def test_warm_start_refuses_another_network():
    sk, ours = _pair("binary", SOLVERS["adam"], warm_start=True)
    est = ours(backend=BACKENDS[0]).fit(X, TARGETS["binary"])
    est.set_params(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match=r"fitted network \[4, 6, 5, 1\] "
                       r"does not fit hidden_layer_sizes=\(4,\)"):
        est.fit(X, TARGETS["binary"])
