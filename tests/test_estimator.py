"""DNNClassifier and DNNRegressor: scikit-learn conventions and input
checks."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fastdnn
from fastdnn._synthetic import load_synthetic
from fastdnn.estimator import (ConvergenceWarning, DNNClassifier,
                               DNNRegressor, NotFittedError)

BACKENDS = sorted(fastdnn.BACKENDS)

#: A small network that fits the synthetic cats in a few epochs.
FAST = dict(hidden_layer_sizes=(8,), max_iter=60, learning_rate_init=0.01,
            random_state=0, tol=1e-9, n_iter_no_change=100)

pytestmark = pytest.mark.filterwarnings(
    "ignore::fastdnn.estimator.ConvergenceWarning")


@pytest.fixture(scope="module")
def synthetic():
    """``(X, y, X_test, y_test)`` in scikit-learn's (n_samples, n_features)
    layout, plus the course layout ``(Xc, Yc)``."""
    train_x, train_y, test_x, test_y, _ = load_synthetic()
    Xc = fastdnn.flatten_images(train_x)
    return (Xc.T, train_y.ravel(), fastdnn.flatten_images(test_x).T,
            test_y.ravel(), Xc, train_y)


def test_defaults_and_no_work_in_init():
    est = DNNClassifier()
    params = est.get_params()
    # scikit-learn's MLP defaults, plus fastdnn's own four.
    assert params == {
        "hidden_layer_sizes": (100,), "activation": "relu",
        "solver": "adam", "alpha": 0.0001, "batch_size": "auto",
        "learning_rate": "constant", "learning_rate_init": 0.001,
        "power_t": 0.5, "max_iter": 200, "shuffle": True,
        "random_state": None, "tol": 1e-4, "verbose": False,
        "warm_start": False, "momentum": 0.9, "nesterovs_momentum": True,
        "early_stopping": False, "validation_fraction": 0.1, "beta_1": 0.9,
        "beta_2": 0.999, "epsilon": 1e-8, "n_iter_no_change": 10,
        "keep_prob": 1.0, "backend": "numba", "dtype": "float64",
        "form": "auto"}
    assert DNNRegressor().get_params() == params
    # __init__ stores, never validates nor computes
    odd = DNNClassifier(hidden_layer_sizes="x", learning_rate=-1,
                        backend="nope", dtype="int8", solver=None,
                        random_state="r")
    assert odd.hidden_layer_sizes == "x" and odd.backend == "nope"
    assert not [k for k in vars(odd) if k.endswith("_")]


def test_get_set_params():
    est = DNNClassifier()
    assert est.set_params(learning_rate_init=0.1,
                          hidden_layer_sizes=(3,)) is est
    assert est.get_params(deep=False)["learning_rate_init"] == 0.1
    assert est.hidden_layer_sizes == (3,)
    with pytest.raises(ValueError, match="Invalid parameter 'lr'"):
        est.set_params(lr=1)
    clone = type(est)(**est.get_params())
    assert clone.get_params() == est.get_params()


def test_repr_shows_changed_params():
    assert repr(DNNClassifier(learning_rate_init=0.1)).replace(
        "\n", "").replace(" ", "") == "DNNClassifier(learning_rate_init=0.1)"


@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_predict_proba_score(synthetic, backend):
    X, y, X_test, y_test, _, _ = synthetic
    est = DNNClassifier(**FAST, backend=backend)
    assert est.fit(X, y) is est
    assert est.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(est.classes_, [0, 1])
    P = est.predict_proba(X_test)
    assert P.shape == (len(X_test), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1)
    np.testing.assert_array_equal(est.predict(X_test),
                                  est.classes_[(P[:, 1] > 0.5).astype(int)])
    assert est.score(X, y) > 0.9
    assert est.score(X_test, y_test) == np.mean(est.predict(X_test)
                                                == y_test)


@pytest.mark.parametrize("labels", [(-1, 1), ("cat", "dog"), (False, True),
                                    (2.0, 7.0)])
def test_labels_of_any_two_values(synthetic, labels):
    X, y, X_test, _, _, _ = synthetic
    named = np.where(y == 1, labels[1], labels[0])
    est = DNNClassifier(**FAST, backend=BACKENDS[0]).fit(X, named)
    ref = DNNClassifier(**FAST, backend=BACKENDS[0]).fit(X, y)
    assert list(est.classes_) == sorted(labels)
    np.testing.assert_array_equal(est.predict_proba(X_test),
                                  ref.predict_proba(X_test))


def test_logistic_regression_and_list_input(synthetic):
    X, y, _, _, _, _ = synthetic
    est = DNNClassifier(hidden_layer_sizes=(), max_iter=5, random_state=0,
                        backend=BACKENDS[0])
    with pytest.warns(ConvergenceWarning):
        est.fit(X[:20].tolist(), y[:20].tolist())
    assert [c.shape for c in est.coefs_] == [(X.shape[1], 1)]
    assert est.predict(X[:3].tolist()).shape == (3,)


def test_dtype_float32(synthetic):
    X, y, _, _, _, _ = synthetic
    for backend in BACKENDS:
        est = DNNClassifier(**FAST, dtype="float32", backend=backend)
        est.fit(X, y)
        assert all(c.dtype == np.float32 for c in est.coefs_)
        assert est.predict_proba(X).dtype == np.float64


def test_random_state_none_and_randomstate(synthetic):
    X, y, _, _, _, _ = synthetic
    kw = {**FAST, "backend": BACKENDS[0]}
    kw.pop("random_state")
    a = DNNClassifier(random_state=np.random.RandomState(0), **kw).fit(X, y)
    b = DNNClassifier(random_state=np.random.RandomState(0), **kw).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    c = DNNClassifier(random_state=None, **kw).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    with pytest.raises(TypeError, match="random_state must be"):
        DNNClassifier(random_state="r", **kw).fit(X, y)


def test_errors(synthetic):
    X, y, _, _, _, _ = synthetic
    est = DNNClassifier(**FAST, backend=BACKENDS[0])
    with pytest.raises(NotFittedError):
        est.predict(X)
    assert issubclass(NotFittedError, ValueError)
    with pytest.raises(ValueError, match=r"one class only \(1\.0\);"):
        est.fit(X[:5], np.ones(5))
    with pytest.raises(ValueError, match=r"one class only \('cat'\);"):
        est.fit(X[:5], np.array(["cat"] * 5))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        est.fit(X[:5], np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="y to be passed"):
        est.fit(X, None)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(np.full((4, 2), np.nan), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="Reshape your data"):
        est.fit(X[0], y[:1])
    with pytest.raises(ValueError, match="samples"):
        est.fit(X, y[:-1])
    est.fit(X, y)
    with pytest.raises(ValueError, match="X has %d features, but "
                       "DNNClassifier is expecting %d"
                       % (X.shape[1] - 1, X.shape[1])):
        est.predict(X[:, 1:])
    for bad, match in [({"backend": "nope"}, "backend must be"),
                       ({"hidden_layer_sizes": (0,)},
                        r"hidden_layer_sizes\[0\] must be >= 1"),
                       ({"dtype": "int8"}, "dtype"),
                       ({"solver": "x"}, "solver must be one of"),
                       ({"learning_rate": 0.1}, "learning_rate must be one"),
                       ({"form": "dual"}, "form must be one of"),
                       ({"random_state": -1}, "random_state")]:
        with pytest.raises((ValueError, TypeError), match=match):
            DNNClassifier(max_iter=1, **bad).fit(X[:4], [0, 1, 0, 1])
    with pytest.raises(ValueError, match="form='gram' needs backend='numba'"):
        DNNClassifier(max_iter=1, backend="numpy", form="gram").fit(
            X[:4], [0, 1, 0, 1])


@pytest.mark.parametrize("params,exc,match", [
    ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
    ({"max_iter": 2.5}, TypeError, "max_iter must be an integer"),
    ({"max_iter": True}, TypeError, "max_iter must be an integer"),
    ({"learning_rate_init": 10**400}, ValueError,
     "learning_rate_init must be a finite number"),
    ({"learning_rate_init": 0.0}, ValueError,
     r"learning_rate_init must be a finite number in \(0, inf\]"),
    ({"learning_rate_init": "0.1"}, TypeError,
     "learning_rate_init must be a real number"),
    ({"alpha": -1.0}, ValueError, r"alpha must be a finite number in \[0"),
    ({"momentum": 1.0}, ValueError, "momentum must be"),
    ({"beta_1": 1.0}, ValueError, "beta_1 must be"),
    ({"beta_2": -0.1}, ValueError, "beta_2 must be"),
    ({"epsilon": 0.0}, ValueError, "epsilon must be"),
    ({"validation_fraction": 1.0}, ValueError, "validation_fraction must"),
    ({"keep_prob": 0.0}, ValueError, "keep_prob must be"),
    ({"n_iter_no_change": 0}, ValueError, "n_iter_no_change must be >= 1"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": "all"}, TypeError, "batch_size"),
    ({"activation": "softplus"}, ValueError, "activation must be one of"),
    ({"shuffle": 1}, TypeError, "shuffle must be True or False"),
    ({"verbose": "yes"}, TypeError, "verbose must be"),
    ({"hidden_layer_sizes": (2**63,)}, ValueError,
     r"hidden_layer_sizes\[0\] must be <= 9223372036854775807"),
    ({"hidden_layer_sizes": (3, True)}, TypeError,
     r"hidden_layer_sizes\[1\] must be an integer, got a bool"),
    ({"random_state": 2**32}, ValueError,
     "random_state must be <= 4294967295"),
])
def test_parameter_errors_name_the_estimators_parameters(
        synthetic, params, exc, match):
    # Checked before the toolbox, whose names (lambd, beta1,
    # mini_batch_size) the user of the estimator never wrote.
    X, y, _, _, _, _ = synthetic
    for Est in (DNNClassifier, DNNRegressor):
        est = Est(max_iter=1, backend=BACKENDS[0]).set_params(**params)
        with pytest.raises(exc, match=match) as info:
            est.fit(X[:4], [0, 1, 0, 1])
        for other in ("lambd", "beta1", "mini_batch_size", "seed must"):
            assert other not in str(info.value)


def test_masked_arrays_are_refused(synthetic):
    X, y, _, _, _, _ = synthetic
    mask = np.zeros(X[:4].shape, dtype=bool)
    mask[0, 0] = True
    Xm = np.ma.masked_array(X[:4], mask=mask)
    ym = np.ma.masked_array([0, 1, 0, 1], mask=[1, 0, 0, 0])
    est = DNNClassifier(max_iter=1, backend=BACKENDS[0])
    with pytest.raises(TypeError, match=r"X is a numpy masked array.*"
                                        r"X\.filled\(value\).*rows"):
        est.fit(Xm, [0, 1, 0, 1])
    with pytest.raises(TypeError, match="y is a numpy masked array"):
        est.fit(X[:4], ym)
    est.fit(X[:4], [0, 1, 0, 1])
    for call in (lambda: est.predict(Xm), lambda: est.predict_proba(Xm),
                 lambda: est.score(Xm, [0, 1, 0, 1]),
                 lambda: est.score(X[:4], ym),
                 lambda: est.score(X[:4], [0, 1, 0, 1],
                                   np.ma.masked_array(np.ones(4)))):
        with pytest.raises(TypeError, match="is a numpy masked array"):
            call()


def test_huge_python_int_in_X(synthetic):
    est = DNNClassifier(max_iter=1, backend=BACKENDS[0])
    X = np.array([[1, 2], [3, 10**400], [0, 1], [1, 0]], dtype=object)
    with pytest.raises(ValueError, match="X holds a number too large for "
                                         "float64"):
        est.fit(X, [0, 1, 0, 1])


def test_score_checks_y_and_sample_weight(synthetic):
    X, y, X_test, y_test, _, _ = synthetic
    est = DNNClassifier(**FAST, backend=BACKENDS[0]).fit(X, y)
    n = len(y_test)
    full = est.score(X_test, y_test)
    assert est.score(X_test, y_test.reshape(-1, 1)) == full
    assert est.score(X_test, y_test, np.ones(n)) == full
    assert est.score(X_test, y_test, np.ones(n, dtype=int).tolist()) == full
    w = np.arange(n) % 3
    assert est.score(X_test, y_test, w) == np.average(
        est.predict(X_test) == y_test, weights=w)
    # one label, or the wrong number of labels, is not broadcast
    with pytest.raises(ValueError, match="X has %d samples but y has 1 "
                                         "labels" % n):
        est.score(X_test, [1])
    with pytest.raises(ValueError, match="but y has %d labels" % (n - 1)):
        est.score(X_test, y_test[:-1])
    with pytest.raises(ValueError, match="1d array"):
        est.score(X_test, np.ones((n, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        est.score(X_test, np.where(np.arange(n) == 0, np.nan, y_test))
    with pytest.raises(TypeError, match="score needs y"):
        est.score(X_test, None)
    for weights, exc, match in [
            (np.ones(1), ValueError, r"shape \(%d,\), got shape \(1,\)"
             % n),
            (1.0, ValueError, r"got shape \(\)"),
            (np.ones((n, 1)), ValueError, "1-D array"),
            (np.ones(n + 1), ValueError, "one weight per sample"),
            (-np.ones(n), ValueError, "sample_weight must be >= 0"),
            (np.full(n, np.nan), ValueError, "sample_weight contains"),
            (np.full(n, np.inf), ValueError, "sample_weight contains"),
            (np.zeros(n), ValueError, "sums to 0"),
            (["a"] * n, TypeError, "sample_weight must be a real numeric"),
            (np.ones(n) * 1j, TypeError, "sample_weight must be a real")]:
        with pytest.raises(exc, match=match):
            est.score(X_test, y_test, weights)


def test_column_y_warns(synthetic):
    X, y, _, _, _, _ = synthetic
    est = DNNClassifier(max_iter=1, backend=BACKENDS[0])
    with pytest.warns(UserWarning, match="column-vector y"):
        est.fit(X, y.reshape(-1, 1))


def test_pickle(synthetic):
    X, y, X_test, _, _, _ = synthetic
    est = DNNClassifier(**FAST, backend=BACKENDS[0]).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X_test),
                                  est.predict_proba(X_test))
    # A pickled estimator keeps its optimizer's state: partial_fit goes
    # on as the original's.
    est.partial_fit(X, y)
    again.partial_fit(X, y)
    np.testing.assert_array_equal(again.coefs_[0], est.coefs_[0])


def test_save_model_of_estimator(synthetic, tmp_path):
    X, y, X_test, _, _, _ = synthetic
    est = DNNClassifier(**FAST, backend=BACKENDS[0]).fit(X, y)
    fastdnn.save_model(tmp_path / "m.npz", est.parameters_,
                       classes=est.classes_)
    params, meta = fastdnn.load_model(tmp_path / "m.npz")
    assert meta["classes"] == [0, 1]
    AL, _ = fastdnn.get_backend(BACKENDS[0]).L_model_forward(X_test.T, params)
    np.testing.assert_allclose(AL[0], est.predict_proba(X_test)[:, 1],
                               rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_saved_estimator_predicts_through_its_recorded_network(
        synthetic, tmp_path, backend):
    X, y, X_test, _, _, _ = synthetic
    est = DNNClassifier(**{**FAST, "hidden_layer_sizes": (6, 3)},
                        activation="tanh", backend=backend).fit(X, y)
    fastdnn.save_model(tmp_path / "m.npz", est.parameters_,
                       activation="tanh", output="sigmoid",
                       classes=est.classes_)
    params, meta = fastdnn.load_model(tmp_path / "m.npz")
    assert (meta["activation"], meta["output"]) == (["tanh", "tanh"],
                                                    "sigmoid")
    p = fastdnn.get_backend(backend).predict(
        X_test.T, None, params, activation=meta["activation"],
        output=meta["output"])
    np.testing.assert_array_equal(est.classes_[p[0].astype(int)],
                                  est.predict(X_test))


def test_works_without_scikit_learn():
    code = "\n".join([
        "import sys",
        "sys.modules['sklearn'] = None  # makes 'import sklearn' fail",
        "import numpy as np",
        "import fastdnn",
        "from fastdnn.estimator import DNNClassifier, NotFittedError",
        "from fastdnn._estimator_base import BaseDNN",
        "assert DNNClassifier.__mro__[1:] == (BaseDNN, object)",
        "est = DNNClassifier(max_iter=300, backend='numpy',"
        " learning_rate_init=0.05, random_state=0)",
        "assert repr(est) == \"DNNClassifier(backend='numpy', "
        "learning_rate_init=0.05, max_iter=300, random_state=0)\", "
        "repr(est)",
        "try:",
        "    est.predict([[0.0, 1.0]])",
        "except NotFittedError:",
        "    pass",
        "X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]] * 5)",
        "y = np.array(['a', 'b', 'b', 'b'] * 5)",
        "assert est.fit(X, y) is est",
        "assert list(est.predict(X[:4])) == ['a', 'b', 'b', 'b']",
        "assert est.predict_proba(X).shape == (20, 2)",
        "assert est.score(X, y) == 1.0",
        "assert est.set_params(max_iter=3).get_params()['max_iter'] == 3",
        "import warnings",
        "from fastdnn.estimator import ConvergenceWarning, DNNRegressor",
        "with warnings.catch_warnings(record=True) as w:",
        "    warnings.simplefilter('always')",
        "    r = DNNRegressor(max_iter=3, backend='numpy').fit(X, X[:, 0])",
        "assert issubclass(w[-1].category, ConvergenceWarning)",
        "assert r.predict(X).shape == (20,)",
        "print('ok')",
    ])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
