"""fastdnn.course "initialization": the Course 2 Week 1 notebook's
public-test values, printed costs and accuracies on both backends.

The values are in tests/course_values_c2.py. The notebook's three full runs
(15000 iterations each on its circles) take ~30 s on the numpy backend, so
they are one ``slow`` test; the quick tests check the same code paths on
the runs' first iterations.
"""
import contextlib
import io

import numpy as np
import pytest

import fastdnn
import fastdnn.course
import fastdnn.datasets
from course_checks import (check_default_namespace, check_parameters,
                           check_signatures, check_star_import)
from course_values_c2 import (
    INIT, INIT_ACCURACY, INIT_HE_COSTS, INIT_RANDOM_LAST_COST,
    INIT_RANDOM_LAST_COST_SPREAD, INIT_ZEROS_COST)

BACKENDS = sorted(fastdnn.BACKENDS)


def _zeros_of(dims):
    zeros = {}
    for l in range(1, len(dims)):
        zeros["W%d" % l] = np.zeros((dims[l], dims[l - 1]))
        zeros["b%d" % l] = np.zeros((dims[l], 1))
    return zeros


def _printed_costs(out):
    lines = out.splitlines()
    return [int(line.split(":")[0].rsplit(" ", 1)[1]) for line in lines], \
        [float(line.split(": ")[1]) for line in lines]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def nb(backend):
    return fastdnn.course.load("initialization", backend)


@pytest.fixture(scope="module")
def circles():
    return fastdnn.datasets.load_circles_dataset()


# ------------------------------------------------------------ namespace

def test_import_gives_the_numba_namespace():
    import fastdnn.course.initialization as init
    check_default_namespace("initialization", init, "Initialization")


def test_star_import_gives_the_notebooks_names():
    ns = check_star_import("initialization", [
        "load_dataset", "initialize_parameters_zeros",
        "initialize_parameters_random", "initialize_parameters_he", "model",
        "predict"])
    assert ns["load_dataset"] is fastdnn.datasets.load_circles_dataset


def test_the_notebooks_signatures(nb):
    signatures = {
        "initialize_parameters_zeros": "(layers_dims)",
        "initialize_parameters_random": "(layers_dims)",
        "initialize_parameters_he": "(layers_dims)",
        "model": "(X, Y, learning_rate=0.01, num_iterations=15000, "
                 "print_cost=True, initialization='he')",
        "predict": "(X, y, parameters)",
    }
    check_signatures(nb, signatures)


# ------------------------------------------------------------ initialisers

def test_initialize_parameters_zeros(nb):
    np.random.seed(12345)
    check_parameters(nb.initialize_parameters_zeros([3, 2, 1]),
                     _zeros_of([3, 2, 1]))
    # It draws nothing.
    np.testing.assert_array_equal(np.random.randn(3),
                                  np.random.RandomState(12345).randn(3))


@pytest.mark.parametrize("name, dims", [
    ("initialize_parameters_random", [3, 2, 1]),
    ("initialize_parameters_he", [3, 1, 2]),
    ("initialize_parameters_he", [2, 4, 1]),
])
def test_seeded_initialisers(nb, name, dims):
    want = dict(_zeros_of(dims), **{
        k: np.array(v) for k, v in INIT["%s(%s)" % (name, dims)].items()})
    np.random.seed(12345)
    check_parameters(getattr(nb, name)(dims), want)
    # numpy's generator is left as the notebook leaves it: seed 3, then
    # W1 and W2 drawn.
    rng = np.random.RandomState(3)
    rng.randn(dims[1], dims[0])
    rng.randn(dims[2], dims[1])
    np.testing.assert_array_equal(np.random.randn(3), rng.randn(3))


def test_initialisers_refuse_bad_dims_as_the_backend(nb, backend):
    B = fastdnn.get_backend(backend)
    with pytest.raises((TypeError, ValueError)) as want:
        B.initialize_parameters_deep([3, "2"])
    for name in ("initialize_parameters_zeros",
                 "initialize_parameters_random", "initialize_parameters_he"):
        with pytest.raises(want.type) as got:
            getattr(nb, name)([3, "2"])
        assert str(got.value) == str(want.value)


# ------------------------------------------------------------ model

def _run(nb, X, Y, **kw):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        parameters = nb.model(X, Y, **kw)
    return parameters, out.getvalue()


def test_model_he_first_printed_costs(nb, circles):
    train_X, train_Y, _, _ = circles
    parameters, out = _run(nb, train_X, train_Y, num_iterations=1001)
    iterations, costs = _printed_costs(out)
    assert iterations == [0, 1000]
    np.testing.assert_allclose(costs, INIT_HE_COSTS[:2], rtol=1e-12)
    assert sorted(parameters) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert [parameters["W%d" % l].shape for l in (1, 2, 3)] == [
        (10, 2), (5, 10), (1, 5)]


def test_model_zeros_stays_at_log_2(nb, circles):
    train_X, train_Y, _, _ = circles
    parameters, out = _run(nb, train_X, train_Y, num_iterations=1001,
                           initialization="zeros")
    iterations, costs = _printed_costs(out)
    assert iterations == [0, 1000]
    np.testing.assert_allclose(costs, INIT_ZEROS_COST, rtol=1e-15)
    # Every unit of a layer stays the same: W1, W2 are still zeros.
    assert not parameters["W1"].any() and not parameters["W2"].any()


def test_model_random_prints_a_finite_first_cost(nb, backend, circles):
    # The notebook prints inf: its outputs are exactly 0 or 1 on some
    # wrongly labelled examples, and its loss takes np.log(0). The
    # backend's cost clips the output to [eps, 1 - eps].
    B = fastdnn.get_backend(backend)
    train_X, train_Y, _, _ = circles
    _, out = _run(nb, train_X, train_Y, num_iterations=1,
                  initialization="random")
    (iteration,), (printed,) = _printed_costs(out)
    assert iteration == 0 and np.isfinite(printed)
    AL, _ = B.L_model_forward(
        train_X, nb.initialize_parameters_random([2, 10, 5, 1]))
    wrong = ((AL == 1) & (train_Y == 0)) | ((AL == 0) & (train_Y == 1))
    assert wrong.any()
    with np.errstate(divide="ignore", invalid="ignore"):
        course = np.nansum(-train_Y * np.log(AL)
                           - (1 - train_Y) * np.log(1 - AL)) / AL.shape[1]
    assert course == np.inf
    # Each such example costs -log(eps), about 36.04; the others next to
    # nothing.
    assert printed == float(B.compute_cost(AL, train_Y))
    np.testing.assert_allclose(
        printed, -np.log(np.finfo(float).eps) * wrong.mean(), rtol=1e-3)


def test_model_prints_every_thousand_only_when_asked(nb, circles):
    train_X, train_Y, _, _ = circles
    _, out = _run(nb, train_X, train_Y, num_iterations=2001)
    assert _printed_costs(out)[0] == [0, 1000, 2000]
    _, out = _run(nb, train_X, train_Y, num_iterations=2001,
                  print_cost=False)
    assert out == ""


@pytest.mark.parametrize("initialization, seeded", [
    ("he", True), ("random", True), ("zeros", False)])
def test_model_runs_on_the_backend_with_the_notebooks_draws(
        nb, backend, circles, initialization, seeded):
    B = fastdnn.get_backend(backend)
    train_X, train_Y, _, _ = circles
    np.random.seed(12345)
    got, _ = _run(nb, train_X, train_Y, num_iterations=201,
                  initialization=initialization)
    rng = np.random.RandomState(3 if seeded else 12345)
    start = {"he": nb.initialize_parameters_he,
             "random": nb.initialize_parameters_random,
             "zeros": nb.initialize_parameters_zeros}[initialization]
    if seeded:
        for shape in ((10, 2), (5, 10), (1, 5)):
            rng.randn(*shape)
    np.testing.assert_array_equal(np.random.randn(3), rng.randn(3))
    # The backend's L_layer_model from the notebook's initial parameters,
    # bit for bit.
    want, _ = B.L_layer_model(
        train_X, train_Y, (2, 10, 5, 1), 0.01, 201, seed=3,
        initialization=initialization,
        scale=10 if initialization == "random" else None)
    np.testing.assert_array_equal(
        start([2, 10, 5, 1])["W1"],
        B.initialize_parameters_deep(
            [2, 10, 5, 1], seed=3, initialization=initialization,
            scale=10 if initialization == "random" else None)["W1"])
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


@pytest.mark.parametrize("initialization", ["xavier", "He", None])
def test_model_refuses_other_initializations(nb, circles, initialization):
    train_X, train_Y, _, _ = circles
    error = ValueError if isinstance(initialization, str) else TypeError
    with pytest.raises(error, match="initialization.*'zeros', 'random', "
                                    "'he'"):
        nb.model(train_X, train_Y, num_iterations=1,
                 initialization=initialization)


def test_model_refuses_bad_data_alike_in_both_backends(circles):
    train_X, train_Y, _, _ = circles
    for X, Y in ((train_X[0], train_Y), (train_X, train_Y * 2),
                 (train_X, train_Y[:, :10])):
        errors = []
        for backend in BACKENDS:
            model = fastdnn.course.load("initialization", backend).model
            with pytest.raises((TypeError, ValueError)) as info:
                model(X, Y, num_iterations=1)
            errors.append((info.type, str(info.value)))
        assert errors[0] == errors[1]


# ------------------------------------------------------------ predict

def test_predict_prints_the_accuracy_as_the_notebook(nb, capsys):
    X = np.array([[-1.0, 2.0, 0.5, -0.5, 1.0, -2.0, 3.0]])
    Y = (X > 0).astype(int)
    # Three layers classifying by the sign of x.
    parameters = {"W1": np.array([[10.0]]), "b1": np.zeros((1, 1)),
                  "W2": np.array([[1.0]]), "b2": np.zeros((1, 1)),
                  "W3": np.array([[10.0]]), "b3": np.array([[-5.0]])}
    for y in (Y, Y.ravel()):
        p = nb.predict(X, y, parameters)
        assert p.dtype.kind == "i"
        np.testing.assert_array_equal(p, Y)
        assert capsys.readouterr().out == "Accuracy: 1.0\n"
    wrong = Y.copy()
    wrong[0, :2] = 1 - wrong[0, :2]
    nb.predict(X, wrong, parameters)
    assert capsys.readouterr().out == "Accuracy: %s\n" % (5 / 7)
    np.testing.assert_array_equal(nb.predict(X, None, parameters), Y)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------ full runs

@pytest.mark.slow
@pytest.mark.parametrize("initialization", ["zeros", "random", "he"])
def test_the_notebooks_runs(nb, circles, initialization):
    train_X, train_Y, test_X, test_Y = circles
    parameters, out = _run(nb, train_X, train_Y,
                           initialization=initialization)
    iterations, costs = _printed_costs(out)
    assert iterations == list(range(0, 15000, 1000))
    if initialization == "he":
        np.testing.assert_allclose(costs, INIT_HE_COSTS, rtol=1e-9)
    elif initialization == "zeros":
        np.testing.assert_allclose(costs, INIT_ZEROS_COST, rtol=1e-15)
    else:
        assert np.isfinite(costs[0])
        np.testing.assert_allclose(costs[-1], INIT_RANDOM_LAST_COST, rtol=0,
                                   atol=INIT_RANDOM_LAST_COST_SPREAD)
    printed = []
    for X, Y in ((train_X, train_Y), (test_X, test_Y)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            nb.predict(X, Y, parameters)
        printed.append(out.getvalue())
    assert printed == ["Accuracy: %s\n" % a
                       for a in INIT_ACCURACY[initialization]]
