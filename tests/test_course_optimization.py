"""fastdnn.course "optimization": the Course 2 Week 2 notebook's public-test
values, printed costs and accuracies on both backends.

The values are in tests/course_values_c2_toolbox.py. A notebook run (5000
epochs of 5 mini-batches) takes ~10 s per backend, so the quick tests
compare the lines printed at epochs 0 and 1000 of every run the notebook
shows, on both backends; the full runs of gd, momentum and Adam (every
printed line and the published accuracies) are ``slow`` tests on the
default backend.
"""
import contextlib
import io

import numpy as np
import pytest

import fastdnn
import fastdnn.course
import fastdnn.datasets
from course_checks import (PRINTED, check_default_namespace,
                           check_parameters, check_signatures,
                           check_star_import)
from course_values_c2_toolbox import OPT, OPT_RUNS

BACKENDS = sorted(fastdnn.BACKENDS)
LAYERS = [2, 5, 2, 1]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def nb(backend):
    return fastdnn.course.load("optimization", backend)


@pytest.fixture(scope="module")
def moons():
    return fastdnn.datasets.load_moons_dataset()


def _draws(shapes):
    """Arrays of ``shapes`` drawn in turn after np.random.seed(1)."""
    np.random.seed(1)
    return [np.random.randn(*shape) for shape in shapes]


def _case():
    """The public tests' parameters and gradients."""
    shapes = [(2, 3), (2, 1), (3, 2), (3, 1)]
    W1, b1, W2, b2, dW1, db1, dW2, db2 = _draws(shapes * 2)
    return ({"W1": W1, "b1": b1, "W2": W2, "b2": b2},
            {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2})


def _zeros_like(parameters):
    return {"d" + k: np.zeros_like(v) for k, v in parameters.items()}


def _run(fn, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args, **kwargs)
    return result, out.getvalue()


# ------------------------------------------------------------ namespace

NAMES = ["load_dataset", "update_parameters_with_gd", "random_mini_batches",
         "initialize_velocity", "update_parameters_with_momentum",
         "initialize_adam", "update_parameters_with_adam", "update_lr",
         "schedule_lr_decay", "initialize_parameters", "forward_propagation",
         "backward_propagation", "compute_cost", "predict", "predict_dec",
         "plot_decision_boundary", "model"]


def test_import_gives_the_numba_namespace():
    import fastdnn.course.optimization as opt
    check_default_namespace("optimization", opt, "Optimization Methods")


def test_star_import_gives_the_notebooks_names():
    ns = check_star_import("optimization", NAMES)
    assert ns["load_dataset"] is fastdnn.datasets.load_moons_dataset


def test_building_blocks_are_the_backends(nb, backend):
    B = fastdnn.get_backend(backend)
    for name in NAMES[1:9]:
        assert getattr(nb, name) is getattr(B, name), name


def test_the_notebooks_signatures(nb):
    check_signatures(nb, {
        "update_parameters_with_gd": "(parameters, grads, learning_rate)",
        "random_mini_batches": "(X, Y, mini_batch_size=64, seed=0)",
        "initialize_velocity": "(parameters)",
        "update_parameters_with_momentum":
            "(parameters, grads, v, beta, learning_rate)",
        "initialize_adam": "(parameters)",
        "update_parameters_with_adam":
            "(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, "
            "beta2=0.999, epsilon=1e-08)",
        "update_lr": "(learning_rate0, epoch_num, decay_rate)",
        "schedule_lr_decay":
            "(learning_rate0, epoch_num, decay_rate, time_interval=1000)",
        "initialize_parameters": "(layer_dims)",
        "compute_cost": "(a3, Y)",
        "model": "(X, Y, layers_dims, optimizer, learning_rate=0.0007, "
                 "mini_batch_size=64, beta=0.9, beta1=0.9, beta2=0.999, "
                 "epsilon=1e-08, num_epochs=5000, print_cost=True, "
                 "decay=None, decay_rate=1)",
    })


# ------------------------------------------------------------ public tests

def test_update_parameters_with_gd(nb):
    parameters, grads = _case()
    check_parameters(nb.update_parameters_with_gd(parameters, grads, 0.01),
                     OPT["update_parameters_with_gd"])


def test_random_mini_batches(nb):
    X, Y = _draws([(5, 7), (1, 7)])
    Y = Y < 0.5
    batches = nb.random_mini_batches(X, Y, 2)
    want = OPT["random_mini_batches"]
    assert len(batches) == len(want)
    for (got_X, got_Y), (want_X, want_Y) in zip(batches, want):
        np.testing.assert_allclose(got_X, want_X, **PRINTED)
        np.testing.assert_array_equal(got_Y, want_Y)


def test_random_mini_batches_older_case(nb):
    X, Y = _draws([(12288, 148), (1, 148)])
    batches = nb.random_mini_batches(X, Y < 0.5, 64)
    widths = OPT["random_mini_batches widths"]
    assert [b[0].shape for b in batches] == [(12288, w) for w in widths]
    assert [b[1].shape for b in batches] == [(1, w) for w in widths]
    np.testing.assert_allclose(batches[0][0][0][0:3],
                               OPT["random_mini_batches sanity"], **PRINTED)


@pytest.mark.parametrize("name, shapes", [
    ("initialize_velocity", [(3, 2), (3, 1), (3, 3), (3, 1)]),
    ("initialize_adam", [(2, 3), (2, 1), (3, 2), (3, 1)])])
def test_initialize_optimizer_state(nb, name, shapes):
    parameters = dict(zip(["W1", "b1", "W2", "b2"], _draws(shapes)))
    states = getattr(nb, name)(parameters)
    states = states if name == "initialize_adam" else (states,)
    for state in states:
        check_parameters(state, _zeros_like(parameters))


def test_update_parameters_with_momentum(nb):
    parameters, grads = _case()
    got, v = nb.update_parameters_with_momentum(
        parameters, grads, _zeros_like(parameters), 0.9, 0.01)
    check_parameters(got, OPT["update_parameters_with_momentum"])
    check_parameters(v, OPT["update_parameters_with_momentum v"])


ADAM_ARGS = (2, 0.02, 0.8, 0.888, 1e-2)  # t, learning_rate, beta1, beta2, eps


def test_update_parameters_with_adam(nb):
    parameters, grads = _case()
    got, v, s, v_corrected, s_corrected = nb.update_parameters_with_adam(
        parameters, grads, _zeros_like(parameters), _zeros_like(parameters),
        *ADAM_ARGS)
    want = OPT["adam first rows"]
    t, _, beta1, beta2, _ = ADAM_ARGS
    for key in grads:
        np.testing.assert_allclose(v[key][0], want["v"][key], **PRINTED)
        np.testing.assert_allclose(s[key][0], want["s"][key], **PRINTED)
        np.testing.assert_allclose(v_corrected[key], v[key] / (1 - beta1**t),
                                   rtol=1e-15)
        np.testing.assert_allclose(s_corrected[key], s[key] / (1 - beta2**t),
                                   rtol=1e-15)
    for key in parameters:
        assert got[key].shape == parameters[key].shape
        np.testing.assert_allclose(got[key][0], want["parameters"][key],
                                   **PRINTED)


def test_update_lr(nb):
    for args, want in OPT["update_lr"]:
        np.testing.assert_allclose(nb.update_lr(*args), want, rtol=1e-15)


def test_schedule_lr_decay(nb):
    for args, want in OPT["schedule_lr_decay"]:
        np.testing.assert_allclose(nb.schedule_lr_decay(*args), want,
                                   rtol=1e-8)


# ------------------------------------------------------------ utilities

def test_load_dataset_is_the_notebooks_moons(nb):
    train_X, train_Y = nb.load_dataset()
    assert train_X.shape == (2, 300) and train_Y.shape == (1, 300)
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    np.random.seed(3)
    X, y = sklearn_datasets.make_moons(n_samples=300, noise=.2)
    np.testing.assert_array_equal(train_X, X.T)
    np.testing.assert_array_equal(train_Y, y.reshape(1, 300))


def test_initialize_parameters_is_he_from_seed_3(nb):
    np.random.seed(12345)
    parameters = nb.initialize_parameters(LAYERS)
    rng = np.random.RandomState(3)
    for l in (1, 2, 3):
        n, n_prev = LAYERS[l], LAYERS[l - 1]
        np.testing.assert_array_equal(
            parameters["W%d" % l], rng.randn(n, n_prev) * np.sqrt(2 / n_prev))
        assert not parameters["b%d" % l].any()
    np.testing.assert_array_equal(np.random.rand(2), rng.rand(2))


def test_compute_cost_is_the_sum_over_the_examples(nb, backend, moons):
    X, Y = moons
    a3, _ = nb.forward_propagation(X, nb.initialize_parameters(LAYERS))
    cost = nb.compute_cost(a3, Y)
    assert isinstance(cost, np.float64)
    with np.errstate(divide="raise"):
        want = np.sum(-Y * np.log(a3) - (1 - Y) * np.log(1 - a3))
    np.testing.assert_allclose(cost, want, rtol=1e-13)
    assert cost == 300 * fastdnn.get_backend(backend).compute_cost(a3, Y)


# ------------------------------------------------------------ model

def _model(nb, moons, run, num_epochs):
    X, Y = moons
    kwargs = dict(OPT_RUNS[run]["kwargs"])
    if "decay" in kwargs:
        kwargs["decay"] = getattr(nb, kwargs["decay"])
    return _run(nb.model, X, Y, LAYERS, num_epochs=num_epochs, **kwargs)


def _published_lines(run, epochs):
    """The lines the notebook prints for ``run`` at ``epochs``."""
    published = OPT_RUNS[run]
    lines = []
    for k, epoch in enumerate(epochs):
        lines.append("Cost after epoch %i: %f"
                     % (epoch, published["costs"][k]))
        if "rates" in published:
            lines.append("learning rate after epoch %i: %f"
                         % (epoch, published["rates"][k]))
    return lines


@pytest.mark.parametrize("run", sorted(OPT_RUNS))
def test_model_first_printed_lines(nb, moons, run):
    _, out = _model(nb, moons, run, 1001)
    assert out.splitlines() == _published_lines(run, [0, 1000])


@pytest.mark.slow
@pytest.mark.parametrize("run", ["gd", "momentum", "adam"])
def test_the_notebooks_runs(moons, run):
    # The runs whose accuracy is published (~15 s each); the decayed runs'
    # first lines are checked above.
    nb = fastdnn.course.load("optimization")
    parameters, out = _model(nb, moons, run, 5000)
    assert out.splitlines() == _published_lines(run, range(0, 5000, 1000))
    p, printed = _run(nb.predict, *moons, parameters)
    assert printed == "Accuracy: %s\n" % np.mean(p == moons[1])
    if "accuracy" in OPT_RUNS[run]:
        assert printed == "Accuracy: %s\n" % OPT_RUNS[run]["accuracy"]
    if "accuracy_percent" in OPT_RUNS[run]:
        assert round(100 * np.mean(p == moons[1])) == \
            OPT_RUNS[run]["accuracy_percent"]


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_model_is_the_notebooks_loop(nb, moons, optimizer):
    # Two epochs by hand with the namespace's public functions.
    X, Y = moons
    got, out = _run(nb.model, X, Y, LAYERS, optimizer, learning_rate=0.01,
                    mini_batch_size=128, num_epochs=2, decay=nb.update_lr)
    parameters = nb.initialize_parameters(LAYERS)
    v = nb.initialize_velocity(parameters)
    _, s = nb.initialize_adam(parameters)
    t, learning_rate, costs = 0, 0.01, []
    for epoch in range(2):
        cost_total = 0
        for mb_X, mb_Y in nb.random_mini_batches(X, Y, 128, 11 + epoch):
            a3, cache = nb.forward_propagation(mb_X, parameters)
            cost_total += nb.compute_cost(a3, mb_Y)
            grads = nb.backward_propagation(mb_X, mb_Y, cache)
            if optimizer == "gd":
                parameters = nb.update_parameters_with_gd(parameters, grads,
                                                          learning_rate)
            elif optimizer == "momentum":
                parameters, v = nb.update_parameters_with_momentum(
                    parameters, grads, v, 0.9, learning_rate)
            else:
                t += 1
                parameters, v, s, _, _ = nb.update_parameters_with_adam(
                    parameters, grads, v, s, t, learning_rate)
        costs.append(cost_total / 300)
        learning_rate = nb.update_lr(0.01, epoch, 1)
    for key in parameters:
        np.testing.assert_array_equal(got[key], parameters[key],
                                      err_msg=key)
    assert out == ("Cost after epoch 0: %f\nlearning rate after epoch 0: "
                   "%f\n" % (costs[0], 0.01))


def test_model_prints_only_when_asked(nb, moons):
    X, Y = moons
    _, out = _run(nb.model, X, Y, LAYERS, "gd", num_epochs=2,
                  print_cost=False, decay=nb.update_lr)
    assert out == ""


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(optimizer="rmsprop"), ValueError, "unknown optimizer 'rmsprop'"),
    (dict(optimizer=None), TypeError, "optimizer"),
    (dict(layers_dims=[2, 5, 1]), ValueError, r"\[n_x, n_1, n_2, 1\]"),
    (dict(layers_dims=[3, 5, 2, 1]), ValueError, "X has 2 rows"),
    (dict(mini_batch_size=0), ValueError, "mini_batch_size"),
    (dict(mini_batch_size=None), TypeError, "mini_batch_size"),
    (dict(num_epochs=-1), ValueError, "num_epochs"),
    (dict(beta=1.0, optimizer="momentum"), ValueError, "beta"),
    (dict(epsilon=0), ValueError, "epsilon"),
    (dict(decay="update_lr"), TypeError, "decay"),
    (dict(Y_scale=2), ValueError, "Y"),
])
def test_model_refuses_bad_input_alike_in_both_backends(moons, kwargs,
                                                        error, match):
    X, Y = moons
    kwargs = dict(kwargs)
    Y = Y * kwargs.pop("Y_scale", 1)
    args = dict(layers_dims=LAYERS, optimizer="adam", num_epochs=1)
    args.update(kwargs)
    messages = []
    for backend in BACKENDS:
        model = fastdnn.course.load("optimization", backend).model
        with pytest.raises(error, match=match) as info:
            model(X, Y, **args)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_predict_and_decision_boundary(nb, moons, capsys):
    from matplotlib.figure import Figure
    X, Y = moons
    parameters = nb.initialize_parameters(LAYERS)
    p = nb.predict(X, Y, parameters)
    a3, _ = nb.forward_propagation(X, parameters)
    np.testing.assert_array_equal(p, (a3 > 0.5).astype(int))
    assert capsys.readouterr().out == "Accuracy: %s\n" % np.mean(p == Y)
    fig = nb.plot_decision_boundary(
        lambda x: nb.predict_dec(parameters, x.T), X, Y)
    assert isinstance(fig, Figure)
