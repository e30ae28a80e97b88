"""The jit backend's training functions with the toolbox's keywords
(fastdnn.jit.L_layer_model): the spec's costs, every memory layout of X,
the defaults kept bit for bit, the wide layers' primal loop, the shared
error messages, and the dual form and ``solver="auto"`` (the numpy spec
itself is in test_toolbox_jit.py)."""
import numpy as np
import pytest

from fastdnn import _kernels as K
from fastdnn import _toolbox_options as O
from fastdnn import jit, reference
from fastdnn._toolbox import ToolboxSolver

from test_toolbox_jit import _data, halving, spec_train


def test_L_layer_model_records_the_spec_costs():
    X, Y = _data()
    Xs = np.asfortranarray(np.repeat(X, 2, axis=1))[:, ::2]  # strided
    assert not Xs.flags.c_contiguous
    kw = dict(optimizer="momentum", mini_batch_size=8, lambd=0.5,
              keep_prob=0.85, decay=halving, decay_rate=0.2, seed=4)
    params, costs = jit.L_layer_model(Xs, Y, [5, 4, 1], 0.1, 201,
                                      solver="primal", **kw)
    tb = O.check_toolbox(m=30, **kw)
    init = jit.initialize_parameters_deep([5, 4, 1], seed=4)
    Ws, bs, want = spec_train(X, Y, [init["W1"], init["W2"]],
                              [init["b1"], init["b2"]], ("relu",),
                              "sigmoid", 0.1, 201, tb)
    np.testing.assert_allclose([float(c) for c in costs], want[::100],
                               rtol=1e-9)
    np.testing.assert_allclose(params["W2"], Ws[1], rtol=1e-8)


@pytest.mark.parametrize("mini_batch_size", [None, 8])
def test_every_layout_of_X_trains_the_same_bits(mini_batch_size):
    X, Y = _data(m=37)
    layouts = {"C": np.ascontiguousarray(X), "F": np.asfortranarray(X),
               "strided": np.asfortranarray(np.repeat(X, 2, axis=1))[:, ::2]}
    kw = dict(optimizer="adam", mini_batch_size=mini_batch_size, seed=2,
              solver="primal")
    runs = {name: jit.L_layer_model(Xl, Y, [5, 4, 3, 1], 0.01, 30, **kw)
            for name, Xl in layouts.items()}
    for name in ("F", "strided"):
        for k in runs["C"][0]:
            np.testing.assert_array_equal(runs[name][0][k], runs["C"][0][k])
        assert runs[name][1] == runs["C"][1]


def test_mini_batches_read_a_fortran_ordered_X_without_a_copy():
    # The batches are gathered from X^T: the transpose of a Fortran-ordered
    # X is that X's own memory, and no C-ordered copy of X is made.
    X, Y = _data(m=37)
    XF = np.asfortranarray(X)
    tb = O.check_toolbox(m=37, optimizer="momentum", mini_batch_size=8)
    init = jit.initialize_parameters_deep([5, 4, 1], seed=1)
    solver = ToolboxSolver(XF, Y, [init["W1"], init["W2"]],
                           [init["b1"], init["b2"]], [K.ACT_RELU],
                           K.OUT_SIGMOID, tb, O.learning_rates(0.1, 3, tb))
    assert np.shares_memory(solver.XT, XF)
    assert solver.X.size == 0


def test_defaults_keep_the_plain_solver_bit_for_bit():
    X, Y = _data()
    a = jit.L_layer_model(X, Y, [5, 3, 1], 0.1, 150, solver="primal")
    b = jit.L_layer_model(X, Y, [5, 3, 1], 0.1, 150, solver="primal",
                          optimizer="gd", mini_batch_size=None, lambd=0.0,
                          keep_prob=1.0, decay=None)
    assert all(np.array_equal(a[0][k], b[0][k]) for k in a[0])
    # The toolbox path on a non-default but equivalent run (a decay that
    # keeps the rate) gives the same model to rounding.
    c = jit.L_layer_model(X, Y, [5, 3, 1], 0.1, 150, solver="primal",
                          decay=lambda lr, e, r: lr)
    np.testing.assert_allclose(c[0]["W1"], a[0]["W1"], rtol=1e-12)


@pytest.mark.parametrize("n_1", [16, 40])
def test_full_batch_toolbox_is_the_primal_loop_on_wide_layers(n_1):
    # Every layer on fastdnn's GEMM over a long batch: the toolbox's
    # full-batch path (a decay that keeps the rate) reads X or X^T for the
    # first layer's dW by the primal loop's rule (the dot-product tile on
    # X below DOT_MAX_ROWS rows), so the two give the same model bit for
    # bit.
    rng = np.random.RandomState(0)
    m = 1573
    X = rng.randn(12, m)
    Y = np.eye(10)[:, rng.randint(0, 10, m)]
    for dtype in ("float32", "float64"):
        kw = dict(activation="tanh", output="softmax", solver="primal",
                  dtype=dtype, seed=1)
        a = jit.L_layer_model(X, Y, [12, n_1, 10], 0.5, 4, **kw)
        c = jit.L_layer_model(X, Y, [12, n_1, 10], 0.5, 4,
                              decay=lambda lr, e, r: lr, **kw)
        for k in a[0]:
            np.testing.assert_array_equal(c[0][k], a[0][k])


@pytest.mark.parametrize("n_2", [3, 6, 16])
def test_full_batch_toolbox_is_the_primal_loop_over_many_inputs(n_2):
    # A hidden layer of a few units over more than GEMM_MAX_INPUTS_NARROW
    # hidden ones: both loops choose its forward kernel by the layer
    # kernels' rule (forward_on_gemm: fastdnn's GEMM from
    # GEMM_MIN_ROWS_C_ORDER outputs where the host has it, by hand
    # otherwise). The primal loop is held to the layer kernels bit for bit
    # (test_primal_loop); the toolbox's full-batch path is held to it here.
    from fastdnn import _kernels_blas as blas
    rng = np.random.RandomState(2)
    n_1, m = blas.GEMM_MAX_INPUTS_NARROW + 76, 11
    dims = [5, n_1, n_2, 1]
    assert not blas.use_blas(n_2, n_1, m)
    X = rng.randn(5, m)
    Y = (rng.rand(1, m) > 0.5).astype(float)
    for dtype in ("float32", "float64"):
        kw = dict(activation="relu", solver="primal", dtype=dtype, seed=3)
        a = jit.L_layer_model(X, Y, dims, 0.05, 4, **kw)
        c = jit.L_layer_model(X, Y, dims, 0.05, 4,
                              decay=lambda lr, e, r: lr, **kw)
        for k in a[0]:
            np.testing.assert_array_equal(c[0][k], a[0][k])


@pytest.mark.parametrize("kw,exc", [
    (dict(optimizer="sgd"), ValueError),
    (dict(beta=1.0), ValueError),
    (dict(beta1="0.9"), TypeError),
    (dict(epsilon=0.0), ValueError),
    (dict(mini_batch_size=0), ValueError),
    (dict(lambd=-1.0), ValueError),
    (dict(keep_prob=0.0), ValueError),
    (dict(decay=3), TypeError),
    (dict(mini_batch_size=4, seed=np.random.RandomState(0)), TypeError),
])
def test_bad_toolbox_arguments_raise_the_shared_messages(kw, exc):
    X, Y = _data()
    with pytest.raises(exc) as want:
        O.check_toolbox(m=30, **kw)
    for name, dims in (("L_layer_model", [5, 3, 1]),
                       ("two_layer_model", (5, 3, 1))):
        for backend in (jit, reference):
            with pytest.raises(exc) as got:
                getattr(backend, name)(X, Y, dims, 0.1, 3, **kw)
            assert str(got.value) == str(want.value)


def test_bad_decay_value_is_reported():
    X, Y = _data()
    with pytest.raises(ValueError, match="decay"):
        jit.L_layer_model(X, Y, [5, 3, 1], 0.1, 3,
                          decay=lambda lr, e, r: -1.0)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_gram_refuses_per_coordinate_optimizers(optimizer):
    X, Y = _data()
    with pytest.raises(ValueError, match="span"):
        jit.L_layer_model(X, Y, [5, 3, 1], 0.1, 3, solver="gram",
                          optimizer=optimizer)


def test_divergence_raises_floating_point_error():
    X, Y = _data()
    with pytest.raises(FloatingPointError, match="diverged"):
        jit.L_layer_model(X * 1e3, Y, [5, 8, 1], 1e6, 300, solver="primal",
                          optimizer="momentum", mini_batch_size=7,
                          initialization="he")


# ------------------------------------------------------------ gram and auto

@pytest.mark.parametrize("solver", ["gram", "auto"])
def test_gram_and_auto_train_the_primal_toolbox_model(solver):
    # Few examples and many features: the dual form pays (auto picks it)
    # and trains the same model as the primal toolbox solver.
    X, Y = _data(m=12, n_x=40, seed=3)
    kw = dict(optimizer="nesterov", mini_batch_size=5, lambd=0.3,
              keep_prob=0.8, decay=halving, seed=2)
    tb = O.check_toolbox(m=12, **kw)
    from fastdnn import _jit_training as jt
    cls = jt._toolbox_solver_class(solver, 40, 12, [40, 6, 1], tb)
    assert cls.__name__ == "GramToolboxSolver"
    a, ca = jit.L_layer_model(X, Y, [40, 6, 1], 0.05, 201, solver=solver,
                              **kw)
    b, cb = jit.L_layer_model(X, Y, [40, 6, 1], 0.05, 201,
                              solver="primal", **kw)
    np.testing.assert_allclose(np.array(ca, float), np.array(cb, float),
                               rtol=1e-9)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-8,
                                   atol=1e-10 * np.abs(b[k]).max())


def test_auto_takes_the_primal_toolbox_solver_for_adam():
    from fastdnn import _jit_training as jt
    tb = O.check_toolbox(optimizer="adam")
    assert jt._toolbox_solver_class("auto", 40, 12, [40, 6, 1], tb) \
        is ToolboxSolver
