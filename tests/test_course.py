"""fastdnn.course: the Week 4 notebooks' namespaces give the course's
published numbers, draws and printed lines on both backends.

Values the seed document already prints are in tests/seed_values.py and
checked on the backends' own functions by tests/test_seed_values.py; the
namespaces hand those functions out unchanged (checked here by identity).
This file holds the course's other published values: the notebooks'
initialisers, the public tests' newer cases, and the application
notebook's training and printing. Each test case's inputs are drawn here
from its seed and shapes.
"""
import inspect
import subprocess
import sys

import numpy as np
import pytest

import fastdnn
import fastdnn.course
from seed_values import EXPECTED as SEED
from seed_values import TRAINING_TABLE

BACKENDS = sorted(fastdnn.BACKENDS)
NOTEBOOKS = sorted(fastdnn.course.NOTEBOOKS)
# The course prints 8 decimals.
PRINTED = dict(rtol=0, atol=5e-9)

# ------------------------------------------------------------ published values

COURSE = {
    "initialize_parameters(4, 3, 2)": {
        "W1": [[0.01624345, -0.00611756, -0.00528172, -0.01072969],
               [0.00865408, -0.02301539, 0.01744812, -0.00761207],
               [0.00319039, -0.0024937, 0.01462108, -0.02060141]],
        "W2": [[-0.00322417, -0.00384054, 0.01133769],
               [-0.01099891, -0.00172428, -0.00877858]]},
    # The step-by-step notebook's (seed 3, randn * 0.01).
    "initialize_parameters_deep([5, 4, 3])": {
        "W1": [[0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
               [-0.00354759, -0.00082741, -0.00627001, -0.00043818,
                -0.00477218],
               [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
               [-0.00404677, -0.0054536, -0.01546477, 0.00982367,
                -0.01101068]],
        "W2": [[-0.01185047, -0.0020565, 0.01486148, 0.00236716],
               [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
               [-0.00768836, -0.00230031, 0.00745056, 0.01976111]]},
    "initialize_parameters_deep([4, 3, 2])": {
        "W1": [[0.01788628, 0.0043651, 0.00096497, -0.01863493],
               [-0.00277388, -0.00354759, -0.00082741, -0.00627001],
               [-0.00043818, -0.00477218, -0.01313865, 0.00884622]],
        "W2": [[0.00881318, 0.01709573, 0.00050034],
               [-0.00404677, -0.0054536, -0.01546477]]},
    # AL = [[.8, .9, .4]], Y = [[1, 1, 0]].
    "compute_cost": 0.27977656,
    # dZ (3, 4), A (5, 4), W (3, 5), b (3, 1) drawn from seed 1.
    "linear_backward": {
        "dA_prev": [[-1.15171336, 0.06718465, -0.3204696, 2.09812712],
                    [0.60345879, -3.72508701, 5.81700741, -3.84326836],
                    [-0.4319552, -1.30987417, 1.72354705, 0.05070578],
                    [-0.38981415, 0.60811244, -1.25938424, 1.47191593],
                    [-2.52214926, 2.67882552, -0.67947465, 1.48119548]],
        "dW": [[0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716],
               [0.85508818, 0.37530413, -0.59912655, 0.71278189,
                -0.58931808],
               [0.97913304, -0.24376494, -0.08839671, 0.55151192,
                -0.10290907]],
        "db": [[-0.14713786], [-0.11313155], [-0.13209101]]},
    "linear_activation_backward db": {"sigmoid": [[-0.05729622]],
                                      "relu": [[-0.20837892]]},
    "update_parameters b1": [[-0.04659241], [-1.28888275], [0.53405496]],
}

# two_layer_model_test: X (10, 10) then Y (1, 10) drawn from seed 1, layers
# (10, 4, 1); (learning rate, iterations) -> parameters and costs.
TWO_LAYER_TEST = {
    (0.0075, 2): {
        "W1": [[0.01624965, -0.00610741, -0.00528734, -0.01072836, 0.008664,
                -0.02301103, 0.01745639, -0.00760949, 0.0031934,
                -0.00248971],
               [0.01462848, -0.02057904, -0.00326745, -0.00383625,
                0.01138176, -0.01097596, -0.00171974, -0.00877601,
                0.00043022, 0.00584423],
               [-0.01098272, 0.01148209, 0.00902102, 0.00500958, 0.00900571,
                -0.00683188, -0.00123491, -0.00937164, -0.00267157,
                0.00532808],
               [-0.00693465, -0.00400047, -0.00684685, -0.00844447,
                -0.00670397, -0.00014731, -0.01113977, 0.00238846,
                0.0165895, 0.00738212]],
        "b1": [[1.10437111e-05], [1.78437869e-05], [3.74879549e-05],
               [-4.42988824e-05]],
        "W2": [[-0.00200283, -0.00888593, -0.00751122, 0.01688162]],
        "b2": [[-0.00689018]],
        "costs": [0.69315968]},
    (0.1, 3): {
        "W1": [[0.01640028, -0.00585699, -0.00542633, -0.01069332, 0.0089055,
                -0.02290418, 0.01765388, -0.00754616, 0.00326712,
                -0.00239159],
               [0.01476737, -0.02014461, -0.0040947, -0.0037457, 0.01221714,
                -0.01054049, -0.00164111, -0.00872507, 0.00058592,
                0.00615077],
               [-0.01051621, 0.01216499, 0.009119, 0.0047126, 0.00894761,
                -0.00672568, -0.00134921, -0.0096428, -0.00253223,
                0.00580758],
               [-0.00728552, -0.00461461, -0.00638113, -0.00831084,
                -0.00654136, -0.00053186, -0.01052771, 0.00320719,
                0.01643914, 0.00667123]],
        "b1": [[0.00027478], [0.00034477], [0.00076016], [-0.00084497]],
        "W2": [[-0.00358725, -0.00911995, -0.00831979, 0.01615845]],
        "b2": [[-0.13451354]],
        "costs": [0.69315968]},
}

# L_layer_model_test: X (10, 10) from seed 1, the labels below, layers
# (10, 5, 6, 1); (learning rate, iterations) -> parameters and costs.
L_LAYER_LABELS = [1, 1, 1, 1, 0, 0, 0, 1, 1, 0]
L_LAYER_TEST = {
    (0.0075, 2): {
        "W1": [[0.51384638, -0.19333098, -0.16705238, -0.33923196, 0.273477,
                -0.72775498, 0.55170785, -0.24077478, 0.10082452,
                -0.07882423],
               [0.46227786, -0.65153639, -0.10192959, -0.12150984,
                0.35855025, -0.34787253, -0.05455001, -0.27767163,
                0.01337835, 0.1843845],
               [-0.34790478, 0.36200264, 0.28511245, 0.15868454, 0.284931,
                -0.21645471, -0.03877896, -0.29584578, -0.08480802,
                0.16760667],
               [-0.21835973, -0.12531366, -0.21720823, -0.26764975,
                -0.21214946, -0.00438229, -0.35316347, 0.07432144,
                0.52474685, 0.23453653],
               [-0.06060968, -0.28061463, -0.23624839, 0.53526844,
                0.01597194, -0.20136496, 0.06021639, 0.66414167, 0.03804666,
                0.19528599]],
        "b1": [[-2.16491028e-04], [1.50999130e-04], [8.71516045e-06],
               [5.57557615e-05], [-2.90746349e-05]],
        "W2": [[0.13428358, -0.15747685, -0.51095667, -0.15624083,
                -0.09342034],
               [0.26226685, 0.3751336, 0.41644174, 0.12779375, 0.39573817],
               [-0.33726917, 0.56041154, 0.22939257, -0.1333337, 0.21851314],
               [-0.03377599, 0.50617255, 0.67960046, 0.97726521,
                -0.62458844],
               [-0.64581803, -0.22559264, 0.0715349, 0.39173682, 0.14112904],
               [-0.9043503, -0.13693179, 0.37026002, 0.10284282,
                0.34076545]],
        "b2": [[1.80215514e-07], [-1.07935097e-04], [1.63081605e-04],
               [-3.51202008e-05], [-7.40012619e-05], [-4.43814901e-05]],
        "W3": [[-0.09079199, -0.08117381, 0.07667568, 0.16665535, 0.08029575,
                0.04805811]],
        "b3": [[0.0013201]],
        "costs": [0.70723944]},
    (0.02, 3): {
        "W1": [[0.51439065, -0.19296367, -0.16714033, -0.33902173,
                0.27291558, -0.72759069, 0.55155832, -0.24095201,
                0.10063293, -0.07872596],
               [0.46203186, -0.65172685, -0.10184775, -0.12169458,
                0.35861847, -0.34804029, -0.05461748, -0.27787524,
                0.01346693, 0.18463095],
               [-0.34748255, 0.36202977, 0.28512463, 0.1580327, 0.28509518,
                -0.21717447, -0.03853304, -0.29563725, -0.08509025,
                0.16728901],
               [-0.21727997, -0.12486465, -0.21692552, -0.26875722,
                -0.21180188, -0.00550575, -0.35268367, 0.07489501,
                0.52436384, 0.23418418],
               [-0.06045008, -0.28038304, -0.23617868, 0.53546925,
                0.01569291, -0.20115358, 0.05975429, 0.66409149, 0.03819309,
                0.1956102]],
        "b1": [[-8.61228305e-04], [6.08187689e-04], [3.53075377e-05],
               [2.21291877e-04], [-1.13591429e-04]],
        "W2": [[0.13441428, -0.15731437, -0.51097778, -0.15627102,
                -0.09342034],
               [0.2620349, 0.37492336, 0.4165605, 0.12801536, 0.39541677],
               [-0.33694339, 0.56075022, 0.22940292, -0.1334017, 0.21863717],
               [-0.03371679, 0.50644769, 0.67935577, 0.97680859,
                -0.62475679],
               [-0.64579072, -0.22555897, 0.07142896, 0.3914475, 0.14104814],
               [-0.90433399, -0.13691167, 0.37019673, 0.10266999,
                0.34071712]],
        "b2": [[1.18811550e-06], [-4.25510194e-04], [6.56178455e-04],
               [-1.42335482e-04], [-2.93618626e-04], [-1.75573157e-04]],
        "W3": [[-0.09087434, -0.07882982, 0.07821609, 0.16442826, 0.0783229,
                0.04648216]],
        "b3": [[0.00525865]],
        "costs": [0.70723944]},
}

# The application notebook, two_layer_model on the cat data for 2 iterations
# without print_cost: the line its loop prints anyway.
CAT_TWO_LAYER_LAST_LINE = 0.6926114346158595


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
                        "'application', 'step_by_step'"),
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
    with pytest.raises(ValueError, match="y must hold 0/1 labels"):
        app.predict(X, Y * 2, parameters)


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
