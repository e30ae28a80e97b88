"""fastdnn.course: the Week 4 notebooks' namespaces give the course's
published numbers, draws and printed lines on both backends.

Values the seed document already prints are in tests/seed_values.py and
checked on the backends' own functions by tests/test_seed_values.py; the
namespaces hand those functions out unchanged (checked here by identity).
This file checks the course's other published values, which
tests/course_values.py holds: the notebooks' initialisers, the public
tests' newer cases, and the application notebook's training and printing.
Each test case's inputs are drawn here from its seed and shapes.
"""
import inspect
import subprocess
import sys

import numpy as np
import pytest

import fastdnn
import fastdnn.course
from course_values import (
    CAT_TWO_LAYER_LAST_LINE, COURSE, L_LAYER_LABELS, L_LAYER_TEST,
    TWO_LAYER_TEST)
from seed_values import EXPECTED as SEED
from seed_values import TRAINING_TABLE

BACKENDS = sorted(fastdnn.BACKENDS)
# The Week 4 notebooks (tests/test_course_planar.py and
# tests/test_course_initialization.py check the others).
NOTEBOOKS = ["application", "step_by_step"]
# The course prints 8 decimals.
PRINTED = dict(rtol=0, atol=5e-9)


def _draws(seed, *shapes):
    """``randn`` arrays of the given shapes, drawn in turn after
    ``np.random.seed(seed)``, as the course's test cases draw them."""
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape) for shape in shapes]


def _global_draw_after(seed, *shapes):
    """What ``np.random.randn(4)`` gives after ``np.random.seed(seed)`` and
    draws of ``shapes``: where a course function leaves numpy's global
    generator."""
    rng = np.random.RandomState(seed)
    for shape in shapes:
        rng.randn(*shape)
    return rng.randn(4)


def _check_parameters(got, want):
    assert type(got) is dict
    assert sorted(got) == sorted(k for k in want if k != "costs")
    for key, value in want.items():
        if key != "costs":
            np.testing.assert_allclose(got[key], value, err_msg=key,
                                       **PRINTED)


# ------------------------------------------------------------ fixtures

@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def sbs(backend):
    return fastdnn.course.load("step_by_step", backend)


@pytest.fixture
def app(backend):
    return fastdnn.course.load("application", backend)


@pytest.fixture(params=NOTEBOOKS)
def notebook_name(request):
    return request.param


@pytest.fixture
def notebook(notebook_name, backend):
    return fastdnn.course.load(notebook_name, backend)


# ------------------------------------------------------------ loading

def test_import_gives_the_numba_namespaces():
    import fastdnn.course.application as app
    import fastdnn.course.step_by_step as sbs
    for name, module in (("step_by_step", sbs), ("application", app)):
        assert fastdnn.course.load(name) is module
        assert fastdnn.course.load(name, "numba") is module
        assert getattr(fastdnn.course, name) is module
        assert module.BACKEND == "numba"
    assert sbs.L_model_forward is fastdnn.jit.L_model_forward
    assert app.L_model_backward is fastdnn.jit.L_model_backward


def test_load_builds_each_namespace_once(notebook_name, notebook,
                                         backend):
    assert fastdnn.course.load(notebook_name, backend) is notebook
    module = getattr(fastdnn.course, notebook_name)
    assert notebook.__all__ == module.__all__
    assert notebook.NOTEBOOK == module.NOTEBOOK
    assert notebook.BACKEND == backend
    B = fastdnn.get_backend(backend)
    for name in notebook.__all__:
        fn = getattr(notebook, name)
        assert callable(fn), name
        if name not in ("initialize_parameters",
                        "initialize_parameters_deep", "two_layer_model",
                        "L_layer_model", "predict"):
            # The backend's function itself: test_seed_values.py checks
            # its published values.
            assert fn is getattr(B, name), name


def test_star_import_gives_the_notebooks_names():
    step = ["initialize_parameters", "initialize_parameters_deep",
            "linear_forward", "linear_activation_forward",
            "L_model_forward", "compute_cost", "linear_backward",
            "linear_activation_backward", "L_model_backward",
            "update_parameters", "sigmoid", "relu", "sigmoid_backward",
            "relu_backward"]
    app = step + ["load_data", "predict", "print_mislabeled_images",
                  "two_layer_model", "L_layer_model"]
    for module, names in (("step_by_step", step), ("application", app)):
        ns = {}
        exec("from fastdnn.course.%s import *" % module, ns)
        assert sorted(n for n in ns if n != "__builtins__") == sorted(names)


def test_adapters_have_the_notebooks_signatures(app):
    signatures = {
        "initialize_parameters": "(n_x, n_h, n_y)",
        "initialize_parameters_deep": "(layer_dims)",
        "two_layer_model": "(X, Y, layers_dims, learning_rate=0.0075, "
                           "num_iterations=3000, print_cost=False)",
        "L_layer_model": "(X, Y, layers_dims, learning_rate=0.0075, "
                         "num_iterations=3000, print_cost=False)",
        "predict": "(X, y, parameters)",
    }
    for name, want in signatures.items():
        fn = getattr(app, name)
        assert str(inspect.signature(fn)) == want
        assert fn.__name__ == name and fn.__doc__


@pytest.mark.parametrize("args, match", [
    (("step-by-step",), "unknown notebook 'step-by-step'; choose one of "
                        "'application', 'gradient_checking', "
                        "'initialization', 'optimization', 'planar', "
                        "'regularization', 'step_by_step'"),
    ((["application"],), "unknown notebook"),
    (("application", "cuda"), "unknown backend 'cuda'; choose one of "
                              "'numba', 'numpy'"),
    (("application", None), "unknown backend None"),
])
def test_unknown_notebook_or_backend(args, match):
    with pytest.raises(ValueError, match=match.replace("(", r"\(")):
        fastdnn.course.load(*args)


def test_import_fastdnn_does_not_import_the_course():
    code = ("import sys, fastdnn\n"
            "print(sorted(m for m in sys.modules if 'course' in m))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# ------------------------------------------------------------ initialisers

def test_initialize_parameters(notebook):
    p = notebook.initialize_parameters(3, 2, 1)
    for key in ("W1", "W2"):
        np.testing.assert_allclose(p[key], SEED["initialize_parameters"]
                                   [key], **PRINTED)
    p = notebook.initialize_parameters(4, 3, 2)
    _check_parameters(p, dict(COURSE["initialize_parameters(4, 3, 2)"],
                              b1=np.zeros((3, 1)), b2=np.zeros((2, 1))))


@pytest.mark.parametrize("dims", [[5, 4, 3], [4, 3, 2]])
def test_step_by_step_initialize_parameters_deep(sbs, dims):
    want = COURSE["initialize_parameters_deep(%s)" % dims]
    _check_parameters(sbs.initialize_parameters_deep(dims), dict(
        want, b1=np.zeros((dims[1], 1)), b2=np.zeros((dims[2], 1))))


def test_application_initialize_parameters_deep(app):
    # The application notebook's helper: seed 1, randn / sqrt(n_{l-1}).
    _check_parameters(app.initialize_parameters_deep([5, 4, 3]), dict(
        SEED["initialize_parameters_deep"], b1=np.zeros((4, 1)),
        b2=np.zeros((3, 1))))


def test_initializers_leave_numpys_generator_as_the_course_does(
        notebook_name, notebook):
    # The step-by-step notebook's initialize_parameters_deep seeds 3, the
    # application notebook's 1.
    seed = {"step_by_step": 3, "application": 1}[notebook_name]
    cases = [
        (lambda: notebook.initialize_parameters(3, 2, 1),
         _global_draw_after(1, (2, 3), (1, 2))),
        (lambda: notebook.initialize_parameters_deep([5, 4, 3]),
         _global_draw_after(seed, (4, 5), (3, 4))),
    ]
    for call, want in cases:
        np.random.seed(12345)
        call()
        np.testing.assert_array_equal(np.random.randn(4), want)


def test_initializers_refuse_bad_input_as_the_backend_does(notebook,
                                                           backend):
    B = fastdnn.get_backend(backend)
    for ours, theirs in (
            (lambda: notebook.initialize_parameters(3, -2, 1),
             lambda: B.initialize_parameters(3, -2, 1)),
            (lambda: notebook.initialize_parameters_deep([5, "4"]),
             lambda: B.initialize_parameters_deep([5, "4"]))):
        with pytest.raises((TypeError, ValueError)) as want:
            theirs()
        with pytest.raises(want.type) as got:
            ours()
        assert str(got.value) == str(want.value)


# ------------------------------------------------------------ step by step

def test_compute_cost_public_case(sbs):
    cost = sbs.compute_cost(np.array([[.8, .9, 0.4]]), np.array([[1, 1, 0]]))
    assert isinstance(cost, np.ndarray) and cost.shape == ()
    np.testing.assert_allclose(cost, COURSE["compute_cost"], **PRINTED)


def test_linear_backward_public_case(sbs):
    dZ, A, W, b = _draws(1, (3, 4), (5, 4), (3, 5), (3, 1))
    got = sbs.linear_backward(dZ, (A, W, b))
    assert type(got) is tuple and len(got) == 3
    for value, key in zip(got, ("dA_prev", "dW", "db")):
        np.testing.assert_allclose(value, COURSE["linear_backward"][key],
                                   err_msg=key, **PRINTED)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_backward_db(sbs, activation):
    dA, A, W, b, Z = _draws(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    _, _, db = sbs.linear_activation_backward(dA, ((A, W, b), Z),
                                              activation)
    np.testing.assert_allclose(
        db, COURSE["linear_activation_backward db"][activation], **PRINTED)


def test_update_parameters_all_of_b1(sbs):
    W1, b1, W2, b2 = _draws(2, (3, 4), (3, 1), (1, 3), (1, 1))
    dW1, db1, dW2, db2 = _draws(3, (3, 4), (3, 1), (1, 3), (1, 1))
    new = sbs.update_parameters(
        {"W1": W1, "b1": b1, "W2": W2, "b2": b2},
        {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}, 0.1)
    np.testing.assert_allclose(new["b1"], COURSE["update_parameters b1"],
                               **PRINTED)


# ------------------------------------------------------------ application

def _l_layer_case():
    X, = _draws(1, (10, 10))
    return X, np.array(L_LAYER_LABELS).reshape(1, 10)


@pytest.mark.parametrize("rate, iterations", sorted(L_LAYER_TEST))
def test_L_layer_model_public_test(app, rate, iterations, capsys):
    X, Y = _l_layer_case()
    parameters, costs = app.L_layer_model(X, Y, (10, 5, 6, 1), rate,
                                          iterations)
    want = L_LAYER_TEST[(rate, iterations)]
    _check_parameters(parameters, want)
    assert type(costs) is list
    assert all(type(c) is np.ndarray and c.shape == () for c in costs)
    np.testing.assert_allclose(costs, want["costs"], **PRINTED)


def _two_layer_case():
    return _draws(1, (10, 10), (1, 10))


def test_two_layer_model_public_test_labels_are_refused(app):
    # The course's two_layer_model_test draws its labels with randn; fastdnn
    # trains on 0/1 labels only, so the adapter refuses them as the backend
    # does (test_two_layer_model_public_test_values checks the numbers).
    X, Y = _two_layer_case()
    with pytest.raises(ValueError, match="Y must hold 0/1 labels"):
        app.two_layer_model(X, Y, (10, 4, 1), 0.0075, 2)


@pytest.mark.parametrize("rate, iterations", sorted(TWO_LAYER_TEST))
def test_two_layer_model_public_test_values(app, rate, iterations):
    # The notebook's two-layer loop on the namespace's own functions, which
    # take real-valued labels.
    X, Y = _two_layer_case()
    parameters = app.initialize_parameters(10, 4, 1)
    costs = []
    for i in range(iterations):
        A1, cache1 = app.linear_activation_forward(
            X, parameters["W1"], parameters["b1"], "relu")
        A2, cache2 = app.linear_activation_forward(
            A1, parameters["W2"], parameters["b2"], "sigmoid")
        if i % 100 == 0:
            costs.append(app.compute_cost(A2, Y))
        dA2 = -(Y / A2 - (1 - Y) / (1 - A2))
        dA1, dW2, db2 = app.linear_activation_backward(dA2, cache2,
                                                       "sigmoid")
        _, dW1, db1 = app.linear_activation_backward(dA1, cache1, "relu")
        parameters = app.update_parameters(
            parameters, {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2},
            rate)
    want = TWO_LAYER_TEST[(rate, iterations)]
    _check_parameters(parameters, want)
    np.testing.assert_allclose(costs, want["costs"], **PRINTED)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("model, dims", [("two_layer_model", (10, 4, 1)),
                                         ("L_layer_model", (10, 5, 6, 1))])
def test_training_prints_the_last_iteration_as_the_notebook(
        app, model, dims, dtype, capsys):
    X, Y = _l_layer_case()
    X = X.astype(dtype)
    train = getattr(app, model)
    train(X, Y, dims, 0.0075, 2, True)
    loud = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in loud] == [
        "Cost after iteration 0", "Cost after iteration 1"]
    # print_cost=False: the notebook still prints the last iteration.
    train(X, Y, dims, 0.0075, 2, False)
    assert capsys.readouterr().out.splitlines() == loud[-1:]
    train(X, Y, dims, 0.0075, 0, False)
    assert capsys.readouterr().out == ""


def test_training_leaves_numpys_generator_as_the_notebook(app):
    X, Y = _l_layer_case()
    for train, dims, want in (
            (app.two_layer_model, (10, 4, 1),
             _global_draw_after(1, (4, 10), (1, 4))),
            (app.L_layer_model, (10, 5, 6, 1),
             _global_draw_after(1, (5, 10), (6, 5), (1, 6)))):
        np.random.seed(12345)
        train(X, Y, dims, 0.0075, 1)
        np.testing.assert_array_equal(np.random.randn(4), want)


def test_training_runs_on_the_namespaces_backend(app, backend):
    # The same numbers, bit for bit, as the backend's own training with the
    # notebook's seed (the two backends differ in the last bits).
    B = fastdnn.get_backend(backend)
    X, Y = _l_layer_case()
    for model, dims in (("two_layer_model", (10, 4, 1)),
                        ("L_layer_model", (10, 5, 6, 1))):
        got, got_costs = getattr(app, model)(X, Y, dims, 0.05, 101)
        want, want_costs = getattr(B, model)(X, Y, dims, 0.05, 101, seed=1)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)
        np.testing.assert_array_equal(got_costs, want_costs)


def _separable_case():
    # One feature; label 1 where it is > 0. W1 = 10, W2 = 10, b2 = -5
    # classify every example right.
    X = np.array([[-1.0, 2.0, 0.5, -0.5, 1.0, -2.0, 3.0]])
    parameters = {"W1": np.array([[10.0]]), "b1": np.zeros((1, 1)),
                  "W2": np.array([[10.0]]), "b2": np.array([[-5.0]])}
    return X, (X > 0).astype(int), parameters


def test_predict_prints_accuracy_as_the_notebook(app, capsys):
    X, Y, parameters = _separable_case()
    for y in (Y, Y.ravel()):
        p = app.predict(X, y, parameters)
        np.testing.assert_array_equal(p, Y)
        assert p.dtype == np.float64
        # The notebook sums (p == y) / m: seven times 1/7, which is not 1.0
        # in floating point (it prints 0.9999999999999998 for its 209
        # training pictures).
        want = "Accuracy: %s\n" % np.sum(np.full(7, 1 / 7))
        assert want != "Accuracy: 1.0\n"
        assert capsys.readouterr().out == want
    wrong = Y.copy()
    wrong[0, 0] = 1
    app.predict(X, wrong, parameters)
    assert capsys.readouterr().out == "Accuracy: %s\n" % np.sum(
        (Y == wrong) / 7)
    np.testing.assert_array_equal(app.predict(X, None, parameters), Y)
    assert capsys.readouterr().out == ""


def test_predict_refuses_bad_labels_as_the_backend(app, backend):
    X, Y, parameters = _separable_case()
    B = fastdnn.get_backend(backend)
    for bad in (Y * 2, Y[:, :3], np.where(Y, np.nan, 0.0)):
        with pytest.raises(ValueError) as want:
            B.predict(X, bad, parameters)
        with pytest.raises(ValueError) as got:
            app.predict(X, bad, parameters)
        assert str(got.value) == str(want.value)


@pytest.mark.data
def test_cat_data_first_costs_and_printed_line(app, cat_data, capsys):
    train_x, train_y = cat_data[0], cat_data[1]
    _, costs = app.two_layer_model(train_x, train_y, (12288, 7, 1),
                                   num_iterations=2, print_cost=False)
    line, = capsys.readouterr().out.splitlines()
    head, value = line.split(": ")
    assert head == "Cost after iteration 1"
    np.testing.assert_allclose(float(value), CAT_TWO_LAYER_LAST_LINE,
                               rtol=1e-12)
    np.testing.assert_allclose(costs[0], TRAINING_TABLE[0][2], rtol=1e-12)
    _, costs = app.L_layer_model(train_x, train_y, [12288, 20, 7, 5, 1],
                                 num_iterations=1, print_cost=False)
    line, = capsys.readouterr().out.splitlines()
    assert line == "Cost after iteration 0: %s" % costs[0]
    np.testing.assert_allclose(costs[0], TRAINING_TABLE[2][2], rtol=1e-12)
