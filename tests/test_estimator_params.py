"""Every estimator parameter changes what it should, the multi-label and
multi-output shapes, partial_fit, warm_start, early stopping, verbose,
feature names, and the dual form (without scikit-learn where possible: the
trajectory tests against it are in test_estimator_sklearn.py)."""
import numpy as np
import pytest

import fastdnn
from fastdnn.estimator import (ConvergenceWarning, DNNClassifier,
                               DNNRegressor)

BACKENDS = sorted(fastdnn.BACKENDS)

pytestmark = pytest.mark.filterwarnings(
    "ignore::fastdnn.estimator.ConvergenceWarning")

RNG = np.random.RandomState(1)
X = RNG.randn(90, 3)
Y_BIN = (X[:, 0] - X[:, 1] > 0).astype(int)
Y_MULTI = np.digitize(X[:, 0], [-0.4, 0.4])
Y_LABELS = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
Y_REG = np.column_stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 0]])

BASE = dict(hidden_layer_sizes=(5,), max_iter=8, random_state=0,
            backend=BACKENDS[0])


def _fit(Est=DNNClassifier, y=Y_BIN, **kw):
    return Est(**{**BASE, **kw}).fit(X, y)


def _differs(a, b):
    return not np.allclose(a.loss_curve_, b.loss_curve_, rtol=1e-12) or \
        len(a.loss_curve_) != len(b.loss_curve_)


# ------------------------------------------------------------ shapes

def test_multiclass_shapes():
    est = _fit(y=Y_MULTI)
    assert est.out_activation_ == "softmax" and est.n_outputs_ == 3
    assert est.predict_proba(X).shape == (90, 3)
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1)
    assert set(est.predict(X)) <= {0, 1, 2}
    np.testing.assert_allclose(est.predict_log_proba(X),
                               np.log(est.predict_proba(X)))


def test_multilabel_shapes():
    est = _fit(y=Y_LABELS)
    assert est.out_activation_ == "logistic" and est.n_outputs_ == 2
    np.testing.assert_array_equal(est.classes_, [0, 1])
    P = est.predict_proba(X)
    assert P.shape == (90, 2)
    np.testing.assert_array_equal(est.predict(X), (P > 0.5).astype(int))
    assert 0 <= est.score(X, Y_LABELS) <= 1
    # The loss sums the labels' cross-entropies.
    one = [_fit(y=Y_LABELS[:, [k]].ravel(), max_iter=1,
                hidden_layer_sizes=()) for k in range(2)]
    both = _fit(y=Y_LABELS, max_iter=1, hidden_layer_sizes=())
    assert both.loss_curve_[0] > max(o.loss_curve_[0] for o in one)


def test_multioutput_regression_shapes():
    est = _fit(DNNRegressor, Y_REG)
    assert est.out_activation_ == "identity" and est.n_outputs_ == 2
    assert est.predict(X).shape == (90, 2)
    one = _fit(DNNRegressor, Y_REG[:, 0])
    assert one.predict(X).shape == (90,)
    assert [c.shape for c in est.coefs_] == [(3, 5), (5, 2)]
    assert [i.shape for i in est.intercepts_] == [(5,), (2,)]
    P = est.parameters_
    np.testing.assert_array_equal(P["W2"], est.coefs_[1].T)
    assert P["b2"].shape == (2, 1)


# ------------------------------------------------------ one per parameter

@pytest.mark.parametrize("name,a,b", [
    ("hidden_layer_sizes", (5,), (4, 3)),
    ("activation", "relu", "tanh"),
    ("activation", "identity", "leaky_relu"),
    ("activation", "logistic", "relu"),
    ("solver", "adam", "sgd"),
    ("solver", "gd", "rmsprop"),
    ("alpha", 0.0, 1.0),
    ("batch_size", "auto", 16),
    ("learning_rate_init", 0.001, 0.01),
    ("random_state", 0, 1),
    ("beta_1", 0.9, 0.5),
    ("beta_2", 0.999, 0.9),
    ("epsilon", 1e-8, 1e-1),
    ("keep_prob", 1.0, 0.7),
    ("dtype", "float64", "float32"),
])
def test_each_parameter_changes_the_run(name, a, b):
    assert _differs(_fit(**{name: a}), _fit(**{name: b}))


@pytest.mark.parametrize("name,a,b", [
    ("shuffle", True, False),
    ("momentum", 0.9, 0.5),
    ("nesterovs_momentum", True, False),
    ("learning_rate", "constant", "invscaling"),
    ("power_t", 0.5, 0.1),
])
def test_sgd_parameters_change_the_run(name, a, b):
    kw = dict(solver="sgd", learning_rate_init=0.05, batch_size=16)
    if name == "power_t":
        kw["learning_rate"] = "invscaling"
    assert _differs(_fit(**kw, **{name: a}), _fit(**kw, **{name: b}))


def test_invscaling_is_the_rate_of_samples_seen():
    # One epoch of n = 90 samples: the second epoch's rate is
    # lr / (90 + 1) ** power_t; with power_t = 0 it is lr (constant).
    kw = dict(solver="sgd", momentum=0.0, learning_rate_init=0.05,
              batch_size=90)
    flat = _fit(**kw, learning_rate="invscaling", power_t=0.0)
    const = _fit(**kw)
    np.testing.assert_allclose(flat.loss_curve_, const.loss_curve_,
                               rtol=1e-14)
    scaled = _fit(**kw, learning_rate="invscaling", power_t=1.0,
                  max_iter=2)
    by_hand = _fit(**kw, max_iter=1)
    by_hand.set_params(warm_start=True, learning_rate_init=0.05 / 91,
                       max_iter=1).fit(X, Y_BIN)
    np.testing.assert_allclose(scaled.loss_curve_, by_hand.loss_curve_,
                               rtol=1e-13)


def test_max_iter_tol_and_n_iter_no_change():
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\)"):
        est = DNNClassifier(**{**BASE, "max_iter": 3}).fit(X, Y_BIN)
    assert est.n_iter_ == 3 == len(est.loss_curve_) and est.t_ == 270
    # No epoch improves by tol = 10: the first improves on inf, then
    # n_iter_no_change + 1 do not.
    stop = _fit(tol=10.0, n_iter_no_change=2, max_iter=50)
    assert stop.n_iter_ == 4
    assert _fit(tol=10.0, n_iter_no_change=4, max_iter=50).n_iter_ == 6
    assert stop.best_loss_ == min(stop.loss_curve_)


def test_adaptive_divides_the_rate_by_5_instead_of_stopping():
    kw = dict(solver="sgd", momentum=0.0, learning_rate_init=0.05,
              tol=10.0, n_iter_no_change=1, max_iter=6)
    est = _fit(**kw, learning_rate="adaptive")
    assert est.n_iter_ == 6 and est._lr == pytest.approx(0.05 / 25)
    assert _fit(**kw).n_iter_ == 3


def test_early_stopping_and_validation_fraction():
    est = _fit(early_stopping=True, max_iter=30, n_iter_no_change=3)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_loss_ is None
    assert est.best_validation_score_ == max(est.validation_scores_)
    other = _fit(early_stopping=True, max_iter=30, n_iter_no_change=3,
                 validation_fraction=0.3)
    assert other.validation_scores_ != est.validation_scores_
    assert _fit(max_iter=5).validation_scores_ is None
    with pytest.raises(ValueError, match="validation set is too small"):
        DNNClassifier(**BASE, early_stopping=True).fit(X[:10], Y_BIN[:10])
    with pytest.raises(ValueError, match="partial_fit does not support"):
        DNNClassifier(**BASE, early_stopping=True).partial_fit(
            X, Y_BIN, classes=[0, 1])
    reg = _fit(DNNRegressor, Y_REG, early_stopping=True, max_iter=10)
    assert all(s <= 1 for s in reg.validation_scores_)


def test_warm_start_continues():
    cold = _fit(max_iter=4)
    warm = _fit(max_iter=4, warm_start=True)
    warm.fit(X, Y_BIN)
    assert len(warm.loss_curve_) == 8 and warm.t_ == 720
    again = _fit(max_iter=4).fit(X, Y_BIN)
    assert again.loss_curve_ == cold.loss_curve_
    with pytest.raises(ValueError, match="warm_start can only be used"):
        warm.fit(X, Y_MULTI)


@pytest.mark.parametrize("backend", BACKENDS)
def test_partial_fit_keeps_the_optimizer_state(backend):
    est = DNNClassifier(**{**BASE, "backend": backend})
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, Y_MULTI)
    for _ in range(3):
        est.partial_fit(X, Y_MULTI, classes=[0, 1, 2])
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 3
    # partial_fit three times is fit with max_iter=3 (shuffle off: the
    # same batches).
    full = DNNClassifier(**{**BASE, "backend": backend, "max_iter": 3,
                            "shuffle": False}).fit(X, Y_MULTI)
    part = DNNClassifier(**{**BASE, "backend": backend, "shuffle": False})
    for _ in range(3):
        part.partial_fit(X, Y_MULTI, classes=[0, 1, 2])
    np.testing.assert_allclose(part.loss_curve_, full.loss_curve_,
                               rtol=1e-12)
    with pytest.raises(ValueError, match="classes not in"):
        part.partial_fit(X, Y_MULTI + 5)
    reg = DNNRegressor(**{**BASE, "backend": backend})
    reg.partial_fit(X, Y_REG).partial_fit(X[:30], Y_REG[:30])
    assert reg.t_ == 120


#: Changes to a fitted network's public attributes that break it, and the
#: message that says which.
_BROKEN = [
    ("short-intercept", lambda c, i: (c, [i[0][:-1]] + i[1:]),
     r"intercepts_\[0\] must have shape \(5,\) to match coefs_\[0\], "
     r"got \(4,\)"),
    ("column-intercept", lambda c, i: (c, i[:-1] + [i[-1][:, None]]),
     r"intercepts_\[1\] must have shape \(3,\) to match coefs_\[1\], "
     r"got \(3, 1\)"),
    ("coef-rows", lambda c, i: ([c[0][:-1]] + c[1:], i),
     r"coefs_\[0\] must have shape \(3, n_out\), got \(2, 5\)"),
    ("coef-chain", lambda c, i: (c[:1] + [c[1][:-1]], i),
     r"coefs_\[1\] must have shape \(5, n_out\), got \(4, 3\)"),
    ("lists", lambda c, i: (c, i[:1]), "same length, got 2 and 1"),
    ("nan-coef", lambda c, i: ([np.where(c[0] > 0, np.nan, c[0])] + c[1:],
                               i),
     r"coefs_\[0\] contains \d+ NaN and 0 inf"),
    ("inf-intercept", lambda c, i: (c, i[:1] + [i[1] * np.inf]),
     r"intercepts_\[1\] contains 0 NaN and 3 inf"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case,change,message", _BROKEN,
                         ids=[b[0] for b in _BROKEN])
def test_a_broken_fitted_network_is_refused_by_name(backend, case, change,
                                                    message):
    # predict, partial_fit and a warm start all refuse coefs_ or
    # intercepts_ that no longer fit together, with one message naming
    # the entry, on every backend (not numpy's broadcasting or reshape
    # errors, or a training on the wrong shapes).
    for method in ("predict", "partial_fit", "warm fit"):
        est = _fit(y=Y_MULTI, backend=backend, warm_start=True)
        est.coefs_, est.intercepts_ = change(list(est.coefs_),
                                             list(est.intercepts_))
        call = {"predict": lambda: est.predict(X),
                "partial_fit": lambda: est.partial_fit(X, Y_MULTI),
                "warm fit": lambda: est.fit(X, Y_MULTI)}[method]
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fitted_network_of_text_is_refused_by_name(backend):
    est = _fit(y=Y_MULTI, backend=backend)
    est.intercepts_[0] = np.array(["a"] * 5)
    with pytest.raises(TypeError, match=r"intercepts_\[0\] must be a real "
                       "numeric array"):
        est.predict(X)


def test_verbose_prints_each_epoch(capsys):
    _fit(verbose=True, max_iter=2, early_stopping=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Iteration 1, loss = ")
    assert out[1].startswith("Validation score: ")
    assert len(out) == 4


def test_backends_and_forms_agree():
    runs = [DNNClassifier(**{**BASE, "backend": b, "form": f,
                             "solver": "sgd", "momentum": 0.0,
                             "alpha": 0.1}).fit(X, Y_MULTI)
            for b, f in [("numpy", "auto"), ("numba", "primal"),
                         ("numba", "gram")] if b in BACKENDS]
    for other in runs[1:]:
        np.testing.assert_allclose(other.loss_curve_, runs[0].loss_curve_,
                                   rtol=1e-10)
    if "numba" in BACKENDS:
        with pytest.raises(ValueError, match="form='gram' trains"):
            DNNClassifier(**{**BASE, "backend": "numba",
                             "form": "gram"}).fit(X, Y_BIN)


def test_diverging_run_says_so():
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _fit(DNNRegressor, Y_REG * 1e6, solver="sgd", momentum=0.0,
             learning_rate_init=10.0)


class _Frame:
    # The little of a DataFrame the estimators look at.
    def __init__(self, values, columns):
        self.values, self.columns = values, columns
        self.iloc = None

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)


def test_feature_names():
    est = DNNClassifier(**BASE).fit(_Frame(X, ["a", "b", "c"]), Y_BIN)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c"])
    est.predict(_Frame(X, ["a", "b", "c"]))
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(_Frame(X, ["a", "c", "b"]))
    with pytest.warns(UserWarning, match="does not have valid feature"):
        est.predict(X)
    plain = DNNClassifier(**BASE).fit(X, Y_BIN)
    assert not hasattr(plain, "feature_names_in_")
    with pytest.warns(UserWarning, match="fitted without feature names"):
        plain.predict(_Frame(X, ["a", "b", "c"]))
    with pytest.raises(TypeError, match="string names"):
        DNNClassifier(**BASE).fit(_Frame(X, ["a", 1, "c"]), Y_BIN)


@pytest.mark.skipif("numba" not in BACKENDS, reason="numba missing")
def test_form_auto_picks_the_dual_form_where_it_pays(monkeypatch):
    import fastdnn._estimator_base as base

    forms = []
    real = base.Trainer

    def spy(*args):
        forms.append(args[7])
        return real(*args)

    monkeypatch.setattr(base, "Trainer", spy)
    wide = np.random.RandomState(2).randn(40, 300)  # n_x >> m
    y = (wide[:, 0] > 0).astype(int)
    kw = dict(BASE, backend="numba", solver="sgd", momentum=0.0)
    auto = DNNClassifier(**kw).fit(wide, y)
    primal = DNNClassifier(**kw, form="primal").fit(wide, y)
    DNNClassifier(**{**kw, "solver": "adam"}).fit(wide, y)
    DNNClassifier(**kw).fit(X, Y_BIN)  # m >> n_x
    DNNClassifier(**kw, early_stopping=True).fit(wide, y)
    assert forms == ["gram", "primal", "primal", "primal", "primal"]
    np.testing.assert_allclose(auto.loss_curve_, primal.loss_curve_,
                               rtol=1e-10)
