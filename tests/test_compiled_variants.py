"""The training loops' compiled variants: a loop is compiled without the
code its run cannot reach, and gives the bits of the loop that holds it.

- ``hand`` None: every layer's products, at every batch size of the run,
  go to the GEMM (``network_uses_hand_kernels``); the loop holds none of
  the hand-written layer kernels.
- ``hand_threads`` None: no layer on the hand-written kernels has the
  work of their parallel versions; the loop holds their serial ones only.
- ``S`` None: an optimizer without a second moment; the update holds none
  of RMSprop's and Adam's code.

Each variant is run against the loop forced to hold the code (``hand``
True, ``S`` an array of zeros) on the same network, bit for bit. The last
test reads what a run compiled, in a new process with an empty numba
cache (a dispatcher lists the signatures compiled in its own process).
"""
import textwrap

import numpy as np
import pytest

from fastdnn import _toolbox_options as O
from fastdnn._kernels_blas import network_uses_hand_kernels
from fastdnn._primal import PrimalSolver
from fastdnn._toolbox import ToolboxSolver
from fresh_process import run_json_script

#: Every layer at least 32 outputs and 64 * 64 * 32 multiply-adds a batch
#: of 32: on the GEMM on every host (use_blas), fastdnn's or BLAS's.
DIMS = (64, 64, 64, 32)


def _network(dtype, m, seed=0, dims=DIMS):
    rng = np.random.RandomState(seed)
    X = rng.randn(dims[0], m).astype(dtype)
    Y = (rng.rand(dims[-1], m) > 0.5).astype(dtype)
    Ws = [(rng.randn(dims[q + 1], dims[q]) / 8).astype(dtype)
          for q in range(len(dims) - 1)]
    bs = [np.zeros((n, 1), dtype) for n in dims[1:]]
    return X, Y, Ws, bs


def _toolbox(optimizer, batch, m):
    tb = O.check_toolbox(optimizer=optimizer, mini_batch_size=batch, m=m)
    rates = O.learning_rates(0.05, 3, tb)
    return tb, rates


def _run(solver, passes, toolbox):
    costs = np.empty(passes)
    if toolbox:
        solver.run(0, passes, costs)
    else:
        solver.run(passes, costs)
    Ws, bs = solver.parameters()
    return costs, Ws, bs


def _assert_same_bits(got, want):
    for a, b in zip(got[1] + got[2], want[1] + want[2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got[0], want[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["gd", "momentum",
                                       "nesterov_sklearn"])
@pytest.mark.parametrize("batch", [32, None])
def test_toolbox_variants_give_the_bits_of_the_loop_with_all_the_code(
        dtype, optimizer, batch):
    m = 96
    X, Y, Ws, bs = _network(dtype, m)
    tb, rates = _toolbox(optimizer, batch, m)
    lean = ToolboxSolver(X, Y, Ws, bs, (1, 1), 0, tb, rates)
    assert lean._hand is None and lean._SWf is None
    full = ToolboxSolver(X, Y, Ws, bs, (1, 1), 0, tb, rates)
    full._hand = True
    full._SWf = np.zeros_like(full._Wf)
    full._Sbf = np.zeros_like(full._bf)
    _assert_same_bits(_run(lean, 3, True), _run(full, 3, True))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_primal_variant_gives_the_bits_of_the_loop_with_all_the_code(dtype):
    X, Y, Ws, bs = _network(dtype, 96)
    lean = PrimalSolver(X, Y, Ws, bs, 0.05, acts=(1, 1))
    assert lean._hand is None
    full = PrimalSolver(X, Y, Ws, bs, 0.05, acts=(1, 1))
    full._hand = True
    _assert_same_bits(_run(lean, 3, False), _run(full, 3, False))


def test_a_small_last_batch_keeps_the_hand_written_kernels():
    # 264 examples in batches of 256: the last batch of 8 is below the
    # thresholds of BLAS and of fastdnn's GEMM for the 64 x 12 first layer
    # (12 inputs: fewer than GEMM_MIN_INPUTS_SMALL).
    dims = (12, 64, 32)
    assert network_uses_hand_kernels(dims, {256}) is False
    assert network_uses_hand_kernels(dims, {256, 8}) is True
    X, Y, Ws, bs = _network(np.float64, 264, dims=dims)
    tb, rates = _toolbox("momentum", 256, 264)
    assert ToolboxSolver(X, Y, Ws, bs, (1,), 0, tb, rates)._hand is True
    # From the second layer on, as the primal loop asks when it runs the
    # first layer (8 outputs: below the GEMM's rows) in one pass over X.
    assert network_uses_hand_kernels((4096, 8, 64, 32), {128}) is True
    assert network_uses_hand_kernels((4096, 8, 64, 32), {128}, 1) is False


def test_an_adam_solver_keeps_its_second_moment():
    X, Y, Ws, bs = _network(np.float64, 96)
    for optimizer in O.OPTIMIZER_NAMES:
        tb, rates = _toolbox(optimizer, 32, 96)
        solver = ToolboxSolver(X, Y, Ws, bs, (1, 1), 0, tb, rates)
        assert (solver._SWf is not None) == (
            optimizer in O.WITH_SECOND_MOMENT), optimizer


_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np

    import fastdnn
    from fastdnn import _toolbox_options as O
    from fastdnn._primal import PrimalSolver
    from fastdnn._toolbox import ToolboxSolver

    def compiled(names):
        out = {}
        for module, name in names:
            f = getattr(getattr(fastdnn, module), name)
            out[name] = len(f.signatures)
        return out

    rng = np.random.RandomState(0)
    dims = (64, 64, 64, 32)
    m = 96
    X = rng.randn(dims[0], m)
    Y = (rng.rand(dims[-1], m) > 0.5).astype(float)
    Ws = [rng.randn(dims[q + 1], dims[q]) / 8 for q in range(3)]
    bs = [np.zeros((n, 1)) for n in dims[1:]]
    names = json.loads(sys.argv[1])
    out = {}
    for optimizer in ("momentum", "adam"):
        tb = O.check_toolbox(optimizer=optimizer, mini_batch_size=32, m=m)
        ToolboxSolver(X, Y, Ws, bs, (1, 1), 0, tb,
                      O.learning_rates(0.05, 1, tb)).run(0, 1, np.empty(1))
        out[optimizer] = compiled(names)
    # The primal loop over small layers: the hand-written kernels, serial
    # only (none has the parallel versions' work).
    X = rng.randn(16, 50)
    PrimalSolver(X, Y[:1, :50], [rng.randn(8, 16), rng.randn(1, 8)],
                 [np.zeros((8, 1)), np.zeros((1, 1))], 0.05).run(
        1, np.empty(1))
    out["small"] = compiled(names)
    print(json.dumps(out))
""")

#: Compiled by neither toolbox run: the hand-written layer kernels.
HAND_WRITTEN = [("_kernels", "forward_serial"),
                ("_kernels", "forward_parallel"),
                ("_kernels", "backward_serial"),
                ("_kernels", "backward_parallel"),
                ("_primal_kernels", "_forward_rows")]
#: Compiled by the Adam run only (float64's Adam loop).
ADAM = [("_adam_step_kernels", "_adam_formula_loop")]
#: Compiled by the first run (the probe sees a compilation).
BOTH = [("_toolbox_kernels", "train_steps"), ("_kernels_blas", "forward_blas")]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    names = HAND_WRITTEN + ADAM + BOTH
    return run_json_script(_SCRIPT, names,
                           tmp_path_factory.mktemp("numba_cache"))


def test_a_run_compiles_only_the_code_it_reaches(compiled):
    for name in [name for _, name in BOTH]:
        assert compiled["momentum"][name] == 1, name
    # The loop with a second moment is a variant of its own.
    assert compiled["adam"]["train_steps"] == 2
    for name in [name for _, name in HAND_WRITTEN]:
        assert compiled["adam"][name] == 0, name
    for name in [name for _, name in ADAM]:
        assert compiled["momentum"][name] == 0, name
        assert compiled["adam"][name] >= 1, name
    assert compiled["small"]["forward_serial"] >= 1
    assert compiled["small"]["backward_serial"] >= 1
    assert compiled["small"]["forward_parallel"] == 0
    assert compiled["small"]["backward_parallel"] == 0


@pytest.mark.parametrize("dims, m, batch", [
    ((2, 2, 1), 3, None), ((64, 64, 64, 32), 96, 32),
    ((64, 64, 64, 32), 104, 32), ((512, 8, 1), 64, None),
    ((64, 64, 8), 512, None), ((64, 64, 8), 512, 128),
    ((2048, 20, 7, 1), 1000, None)])
def test_every_solver_takes_a_variant_that_warmup_compiles(dims, m, batch):
    from fastdnn._kernels_blas import LOOP_VARIANTS
    rng = np.random.RandomState(0)
    X = rng.randn(dims[0], m)
    Y = (rng.rand(dims[-1], m) > 0.5).astype(float)
    Ws = [rng.randn(dims[q + 1], dims[q]) for q in range(len(dims) - 1)]
    bs = [np.zeros((n, 1)) for n in dims[1:]]
    acts = (1,) * (len(dims) - 2)
    tb, rates = _toolbox("momentum", batch, m)
    for solver in (PrimalSolver(X, Y, Ws, bs, 0.05, acts=acts),
                   ToolboxSolver(X, Y, Ws, bs, acts, 0, tb, rates)):
        flags = (solver._wide, solver._hand, solver._hand_threads)
        assert flags in LOOP_VARIANTS, flags


def test_a_second_moment_optimizer_refuses_S_None():
    from fastdnn import _toolbox_step_kernels as SK
    P, G, V = np.ones(5), np.ones(5), np.zeros(5)
    hp = np.zeros(SK.N_CONSTANTS)
    SK.fill_constants(hp, 0.1, 0.0, 0.9, 0.9, 0.999, 1e-8, 1)
    partial = np.zeros(1)
    for name, code in SK.OPT_BY_NAME.items():
        if name in O.WITH_SECOND_MOMENT:
            with pytest.raises(ValueError, match="second moment S"):
                SK.update_params(P.copy(), G, V.copy(), None, code, hp,
                                 partial, False)
        else:
            Q = P.copy()
            SK.update_params(Q, G, V.copy(), None, code, hp, partial, False)
            assert not np.array_equal(Q, P), name
