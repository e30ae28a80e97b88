"""DNNClassifier: scikit-learn conventions, and the same numbers as the
functional API."""
import fractions
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fastdnn
from fastdnn._synthetic import load_synthetic
from fastdnn.estimator import DNNClassifier, NotFittedError

BACKENDS = sorted(fastdnn.BACKENDS)


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
    assert est.get_params() == {
        "hidden_layer_sizes": (20, 7, 5), "learning_rate": 0.0075,
        "n_iterations": 2500, "backend": "numba", "dtype": "float64",
        "solver": "auto", "random_state": 1}
    # __init__ stores, never validates nor computes
    odd = DNNClassifier(hidden_layer_sizes="x", learning_rate=-1,
                        backend="nope", dtype="int8", solver=None,
                        random_state="r")
    assert odd.hidden_layer_sizes == "x" and odd.backend == "nope"
    assert not [k for k in vars(odd) if k.endswith("_")]


def test_get_set_params():
    est = DNNClassifier()
    assert est.set_params(learning_rate=0.1, hidden_layer_sizes=(3,)) is est
    assert est.get_params(deep=False)["learning_rate"] == 0.1
    assert est.hidden_layer_sizes == (3,)
    with pytest.raises(ValueError, match="Invalid parameter 'lr'"):
        est.set_params(lr=1)
    clone = type(est)(**est.get_params())
    assert clone.get_params() == est.get_params()


def test_repr_shows_changed_params():
    assert repr(DNNClassifier(learning_rate=0.1)).replace("\n", "").replace(
        " ", "") == "DNNClassifier(learning_rate=0.1)"


@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_predict_proba_score(synthetic, backend):
    X, y, X_test, y_test, _, _ = synthetic
    est = DNNClassifier(n_iterations=400, learning_rate=0.05,
                        backend=backend)
    assert est.fit(X, y) is est
    np.testing.assert_array_equal(est.classes_, [0, 1])
    assert est.n_features_in_ == X.shape[1] == 768
    assert est.layer_dims_ == [768, 20, 7, 5, 1]
    assert sorted(est.parameters_) == sorted(
        ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"])
    assert len(est.costs_) == 4 and est.costs_[-1] < est.costs_[0]
    proba = est.predict_proba(X_test)
    assert proba.shape == (len(y_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    pred = est.predict(X_test)
    np.testing.assert_array_equal(pred, est.classes_[proba.argmax(axis=1)])
    assert est.score(X_test, y_test) == np.mean(pred == y_test) > 0.75


@pytest.mark.parametrize("labels", [
    ("non-cat", "cat"), (-1, 1), (False, True), (2.5, 7.0), (b"n", b"y")])
def test_labels_of_any_two_values(synthetic, labels):
    X, y, X_test, y_test, _, _ = synthetic
    backend = BACKENDS[0]
    names = np.array(labels)
    est = DNNClassifier(n_iterations=200, learning_rate=0.05,
                        backend=backend).fit(X, names[y])
    # classes_ sorted: the positive (sigmoid) class is the larger label
    np.testing.assert_array_equal(est.classes_, np.unique(names))
    y01 = (names[y] == est.classes_[1]).astype(int)
    ref = DNNClassifier(n_iterations=200, learning_rate=0.05,
                        backend=backend).fit(X, y01)
    np.testing.assert_array_equal(est.predict(X_test),
                                  est.classes_[ref.predict(X_test)])
    assert est.score(X_test, names[y_test]) > 0.7


def test_logistic_regression_and_list_input(synthetic):
    X, y, _, _, _, _ = synthetic
    est = DNNClassifier(hidden_layer_sizes=(), n_iterations=50,
                        backend=BACKENDS[0]).fit(X[:20].tolist(),
                                                 y[:20].tolist())
    assert est.layer_dims_ == [768, 1]
    assert est.predict(X[:3]).shape == (3,)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [1, 3])
def test_same_predictions_as_functional_api(synthetic, backend, seed):
    X, _, X_test, _, Xc, Yc = synthetic
    B = fastdnn.get_backend(backend)
    kwargs = {} if seed == 1 else {"seed": seed}
    parameters, costs = B.L_layer_model(Xc, Yc, [768, 20, 7, 5, 1], 0.0075,
                                        300, **kwargs)
    est = DNNClassifier(n_iterations=300, backend=backend,
                        random_state=seed).fit(X, Yc.ravel())
    assert est.costs_ == costs
    for k in parameters:
        np.testing.assert_array_equal(est.parameters_[k], parameters[k])
    expected = B.predict(X_test.T, None, parameters).ravel()
    np.testing.assert_array_equal(est.predict(X_test), expected)
    AL, _ = B.L_model_forward(X_test.T, parameters)
    np.testing.assert_array_equal(est.predict_proba(X_test)[:, 1], AL[0])


@pytest.mark.data
@pytest.mark.parametrize("backend", BACKENDS)
def test_same_predictions_as_functional_api_on_cats(cat_data, backend):
    train_x, train_y, test_x, test_y, _ = cat_data
    B = fastdnn.get_backend(backend)
    parameters, costs = B.L_layer_model(train_x, train_y,
                                        [12288, 20, 7, 5, 1], 0.0075, 30)
    est = DNNClassifier(n_iterations=30, backend=backend).fit(
        train_x.T, train_y.ravel())
    assert est.costs_ == costs
    for x in (train_x, test_x):
        np.testing.assert_array_equal(
            est.predict(x.T), B.predict(x, None, parameters).ravel())


def test_dtype_float32(synthetic):
    X, y, _, _, _, _ = synthetic
    for backend in BACKENDS:
        est = DNNClassifier(n_iterations=20, dtype="float32",
                            backend=backend).fit(X, y)
        assert est.parameters_["W1"].dtype == np.float32
        assert est.predict_proba(X).dtype == np.float64


def test_random_state_none_and_generators(synthetic):
    X, y, _, _, _, _ = synthetic
    kw = dict(n_iterations=5, backend=BACKENDS[0])
    a = DNNClassifier(random_state=np.random.RandomState(0), **kw).fit(X, y)
    b = DNNClassifier(random_state=np.random.RandomState(0), **kw).fit(X, y)
    np.testing.assert_array_equal(a.parameters_["W1"], b.parameters_["W1"])
    DNNClassifier(random_state=None, **kw).fit(X, y)
    DNNClassifier(random_state=np.random.default_rng(0), **kw).fit(X, y)


def test_errors(synthetic):
    X, y, _, _, _, _ = synthetic
    est = DNNClassifier(n_iterations=5, backend=BACKENDS[0])
    with pytest.raises(NotFittedError):
        est.predict(X)
    assert issubclass(NotFittedError, ValueError)
    with pytest.raises(ValueError, match="Only binary"):
        est.fit(X[:30], np.arange(30) % 3)
    with pytest.raises(ValueError, match="one class"):
        est.fit(X[:5], np.ones(5))
    with pytest.raises(ValueError, match="y to be passed"):
        est.fit(X, None)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(np.full((4, 2), np.nan), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="Reshape your data"):
        est.fit(X[0], y[:1])
    with pytest.raises(ValueError, match="samples"):
        est.fit(X, y[:-1])
    est.fit(X, y)
    with pytest.raises(ValueError, match="X has 767 features, but "
                                         "DNNClassifier is expecting 768"):
        est.predict(X[:, 1:])
    for bad, match in [({"backend": "nope"}, "backend must be"),
                       ({"hidden_layer_sizes": (0,)},
                        r"hidden_layer_sizes\[0\] must be >= 1"),
                       ({"dtype": "int8"}, "dtype"),
                       ({"solver": "x"}, "solver"),
                       ({"learning_rate": -1}, "learning_rate"),
                       ({"random_state": -1}, "random_state")]:
        with pytest.raises((ValueError, TypeError), match=match):
            DNNClassifier(n_iterations=1, **bad).fit(X[:4], [0, 1, 0, 1])
    with pytest.raises(ValueError, match="solver='gram' needs the numba"):
        DNNClassifier(n_iterations=1, backend="numpy", solver="gram").fit(
            X[:4], [0, 1, 0, 1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("params,exc,match", [
    ({"n_iterations": -1}, ValueError, "n_iterations must be >= 0"),
    ({"n_iterations": 10**30}, ValueError,
     "n_iterations must be <= 9223372036854775807"),
    ({"n_iterations": 2.5}, TypeError, "n_iterations must be an integer"),
    ({"n_iterations": True}, TypeError, "n_iterations must be an integer"),
    ({"learning_rate": 10**400}, ValueError,
     "learning_rate must be finite and > 0 and fit in float64"),
    ({"learning_rate": fractions.Fraction(1, 10**400)}, ValueError,
     "learning_rate .* rounds to 0"),
    ({"learning_rate": "0.1"}, TypeError,
     "learning_rate must be a real number"),
    ({"hidden_layer_sizes": (2**63,)}, ValueError,
     r"hidden_layer_sizes\[0\] must be <= 9223372036854775807"),
    ({"hidden_layer_sizes": (3, 2**62)}, ValueError,
     r"hidden_layer_sizes: W2 would have shape \(4611686018427387904, 3\)"),
    ({"hidden_layer_sizes": (2**40,)}, ValueError,
     "hidden_layer_sizes: the weights W1..W2 would take .* more than this "
     "machine's"),
    ({"hidden_layer_sizes": (3, True)}, TypeError,
     r"hidden_layer_sizes\[1\] must be an integer, got a bool"),
    ({"random_state": 2**32}, ValueError,
     "random_state must be <= 4294967295"),
])
def test_parameter_errors_name_the_estimators_parameters(
        synthetic, backend, params, exc, match):
    # Checked before the functional API, whose names (num_iterations,
    # layers_dims, seed) the user of the estimator never wrote.
    X, y, _, _, _, _ = synthetic
    est = DNNClassifier(n_iterations=1, backend=backend).set_params(**params)
    with pytest.raises(exc, match=match) as info:
        est.fit(X[:4], [0, 1, 0, 1])
    for other in ("num_iterations", "layers_dims", "seed must"):
        assert other not in str(info.value)


def test_exact_learning_rate(synthetic):
    X, y, _, _, _, _ = synthetic
    kw = dict(n_iterations=3, backend=BACKENDS[0])
    a = DNNClassifier(learning_rate=fractions.Fraction(1, 20), **kw)
    b = DNNClassifier(learning_rate=0.05, **kw)
    assert a.fit(X, y).costs_ == b.fit(X, y).costs_


def test_costs_are_floats(synthetic):
    X, y, _, _, _, _ = synthetic
    for backend in BACKENDS:
        est = DNNClassifier(n_iterations=101, backend=backend).fit(X, y)
        assert len(est.costs_) == 2
        assert all(type(c) is float for c in est.costs_)


def test_masked_arrays_are_refused(synthetic):
    X, y, _, _, _, _ = synthetic
    mask = np.zeros(X[:4].shape, dtype=bool)
    mask[0, 0] = True
    Xm = np.ma.masked_array(X[:4], mask=mask)
    ym = np.ma.masked_array([0, 1, 0, 1], mask=[1, 0, 0, 0])
    est = DNNClassifier(n_iterations=1, backend=BACKENDS[0])
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
    est = DNNClassifier(n_iterations=1, backend=BACKENDS[0])
    X = np.array([[1, 2], [3, 10**400], [0, 1], [1, 0]], dtype=object)
    with pytest.raises(ValueError, match="X holds a number too large for "
                                         "float64"):
        est.fit(X, [0, 1, 0, 1])


def test_score_checks_y_and_sample_weight(synthetic):
    X, y, X_test, y_test, _, _ = synthetic
    est = DNNClassifier(n_iterations=50, learning_rate=0.05,
                        backend=BACKENDS[0]).fit(X, y)
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
        est.score(X_test, np.stack([y_test, y_test], axis=1))
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
    est = DNNClassifier(n_iterations=5, backend=BACKENDS[0])
    with pytest.warns(UserWarning, match="column-vector y"):
        est.fit(X, y.reshape(-1, 1))


def test_pickle(synthetic):
    X, y, X_test, _, _, _ = synthetic
    est = DNNClassifier(n_iterations=20, backend=BACKENDS[0]).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X_test),
                                  est.predict_proba(X_test))


def test_save_model_of_estimator(synthetic, tmp_path):
    X, y, X_test, _, _, _ = synthetic
    est = DNNClassifier(n_iterations=20, backend=BACKENDS[0]).fit(X, y)
    fastdnn.save_model(tmp_path / "m.npz", est.parameters_,
                       classes=est.classes_)
    params, meta = fastdnn.load_model(tmp_path / "m.npz")
    assert meta["classes"] == [0, 1]
    AL, _ = fastdnn.get_backend(BACKENDS[0]).L_model_forward(X_test.T, params)
    np.testing.assert_array_equal(AL[0], est.predict_proba(X_test)[:, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_saved_estimator_predicts_through_its_recorded_network(
        synthetic, tmp_path, backend):
    from fastdnn import estimator

    X, y, X_test, _, _, _ = synthetic
    est = DNNClassifier(hidden_layer_sizes=(6, 3), n_iterations=200,
                        learning_rate=0.05, backend=backend).fit(X, y)
    fastdnn.save_model(tmp_path / "m.npz", est.parameters_,
                       activation=estimator.ACTIVATION,
                       output=estimator.OUTPUT, classes=est.classes_)
    params, meta = fastdnn.load_model(tmp_path / "m.npz")
    assert (meta["activation"], meta["output"]) == (["relu", "relu"],
                                                    "sigmoid")
    p = fastdnn.get_backend(backend).predict(
        X_test.T, None, params, activation=meta["activation"],
        output=meta["output"])
    np.testing.assert_array_equal(est.classes_[p[0].astype(int)],
                                  est.predict(X_test))


def _with_defaults(fn, **defaults):
    # fn with other defaults for its keyword-only arguments (and fn's own
    # signature for inspect, which training_kwargs reads)
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **{**defaults, **kwargs})
    return wrapper


@pytest.mark.parametrize("backend", BACKENDS)
def test_estimator_pins_the_courses_network(synthetic, monkeypatch,
                                            backend):
    # A backend whose defaults were another network still trains and runs
    # the binary relu/sigmoid classifier.
    import types

    X, y, X_test, _, _, _ = synthetic
    kw = dict(hidden_layer_sizes=(6, 3), n_iterations=100,
              learning_rate=0.05, backend=backend)
    expected = DNNClassifier(**kw).fit(X, y).predict_proba(X_test)
    real = fastdnn.get_backend(backend)
    other = types.SimpleNamespace(
        L_layer_model=_with_defaults(real.L_layer_model, activation="tanh",
                                     initialization="he"),
        L_model_forward=_with_defaults(real.L_model_forward,
                                       activation="tanh"))
    monkeypatch.setattr(fastdnn, "get_backend", lambda name: other)
    got = DNNClassifier(**kw).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(got, expected)


def test_works_without_scikit_learn():
    code = "\n".join([
        "import sys",
        "sys.modules['sklearn'] = None  # makes 'import sklearn' fail",
        "import numpy as np",
        "import fastdnn",
        "from fastdnn.estimator import DNNClassifier, NotFittedError",
        "assert DNNClassifier.__mro__[1] is object",
        "est = DNNClassifier(n_iterations=50, backend='numpy',"
        " learning_rate=0.5)",
        "assert repr(est) == \"DNNClassifier(backend='numpy', "
        "learning_rate=0.5, n_iterations=50)\", repr(est)",
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
        "assert est.set_params(n_iterations=3).get_params()['n_iterations']"
        " == 3",
        "print('ok')",
    ])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


# -------------------------------------------------------- scikit-learn checks

try:
    from sklearn.utils.estimator_checks import parametrize_with_checks
except ImportError:  # the optional extra "sklearn" is not installed
    parametrize_with_checks = None

if parametrize_with_checks is not None:
    # Few iterations and a larger step keep the ~55 checks per backend fast
    # while still passing check_classifiers_train's accuracy > 0.83. No
    # check is skipped by us; scikit-learn itself skips the ones that need
    # pandas or SCIPY_ARRAY_API when those are absent.
    @parametrize_with_checks([DNNClassifier(n_iterations=300,
                                            learning_rate=0.05, backend=b)
                              for b in BACKENDS])
    def test_sklearn_estimator_checks(estimator, check):
        check(estimator)
else:
    @pytest.mark.skip(reason="scikit-learn is not installed (pip install "
                             "'fastdnn[sklearn]')")
    def test_sklearn_estimator_checks():
        pass
