"""One optimizer step over the MNIST-shape network's parameters
(784-256-128-10: 235,146 weights and 394 biases), for every optimizer of
the reference's table (``fastdnn._reference_optimizers.OPTIMIZERS``): the
numpy reference's update of the parameter dicts against the numba training
loops' fused pass (``fastdnn._toolbox_step_kernels.update_params``: each
parameter, its gradient and the optimizer's state read and written once,
on flat vectors, in place), float32 and float64. Groups are named
``optimizer|dims|dtype``; each case first checks that both sides compute
the same parameters and state. A second test times momentum and Adam
with zero gradients and normal or subnormal first moments."""
import numba
import numpy as np
import pytest

from fastdnn import _numba_config as cfg
from fastdnn import _toolbox_step_kernels as SK
from fastdnn._reference_optimizers import OPTIMIZERS
from fastdnn._toolbox_options import Toolbox

DIMS = (784, 256, 128, 10)
#: The step's hyperparameters (the workloads' defaults) and its counter.
TOOLBOX = Toolbox(beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8)
LEARNING_RATE = 0.01
STEP = 3

CASES = [(name, dtype, backend)
         for name in OPTIMIZERS
         for dtype in ("float32", "float64")
         for backend in ("numpy", "numba")]


def _problem(dtype):
    # Parameters, gradients and a non-zero state (v and s: as after a few
    # steps), as dicts under the course's keys.
    rng = np.random.default_rng(0)
    params, grads, v, s = {}, {}, {}, {}
    for l in range(1, len(DIMS)):
        for key, shape in (("W", (DIMS[l], DIMS[l - 1])),
                           ("b", (DIMS[l], 1))):
            params[key + str(l)] = (0.05 * rng.standard_normal(shape)
                                    ).astype(dtype)
            g = "d%s%d" % (key, l)
            grads[g] = (1e-3 * rng.standard_normal(shape)).astype(dtype)
            v[g] = (1e-3 * rng.standard_normal(shape)).astype(dtype)
            s[g] = (1e-6 * rng.random(shape)).astype(dtype)
    return params, grads, v, s


def _state_keys(name, params):
    return tuple(OPTIMIZERS[name].init_state(params))


def _flat(d, keys):
    return np.concatenate([np.ravel(d[k]) for k in keys])


def _numpy_step(name, params, grads, v, s):
    state = {"v": v, "s": s}
    state = {k: state[k] for k in _state_keys(name, params)}
    return lambda: OPTIMIZERS[name].update(params, grads, state, STEP,
                                           LEARNING_RATE, TOOLBOX)


def _numba_step(name, params, grads, v, s):
    # The training loop's layout: every weight, then every bias, each kind
    # one flat vector updated by one call (the biases' is tiny; the
    # weights' is the pass that counts).
    dtype = params["W1"].dtype
    L = len(DIMS) - 1
    order = [("W%d" % l, "dW%d" % l) for l in range(1, L + 1)] + [
        ("b%d" % l, "db%d" % l) for l in range(1, L + 1)]
    P = _flat(params, [p for p, _ in order])
    G = _flat(grads, [g for _, g in order])
    V = _flat(v, [g for _, g in order])
    S = _flat(s, [g for _, g in order])
    hp = np.empty(SK.N_CONSTANTS, dtype)
    SK.fill_constants(hp, LEARNING_RATE, 0.0, TOOLBOX.beta, TOOLBOX.beta1,
                      TOOLBOX.beta2, TOOLBOX.epsilon, STEP)
    partial = np.empty(SK.n_chunks(P.size), np.float64)
    opt = SK.OPT_BY_NAME[name]
    parallel = cfg.parallel_ok()
    numba.get_num_threads()

    def step():
        SK.update_params(P, G, V, S, opt, hp, partial, parallel)
    return step, (P, V, S), order


@pytest.mark.parametrize("name,dtype,backend", CASES,
                         ids=["%s-%s-%s" % c for c in CASES])
def test_optimizer_step(benchmark, name, dtype, backend):
    params, grads, v, s = _problem(dtype)
    # Both sides from the same inputs: the same new parameters and state.
    new, state = _numpy_step(name, params, grads, v, s)()
    step, (P, V, S), order = _numba_step(name, params, grads, v, s)
    step()
    keys = _state_keys(name, params)
    np.testing.assert_array_equal(P, _flat(new, [p for p, _ in order]))
    for key, flat in (("v", V), ("s", S)):
        if key in keys:
            np.testing.assert_array_equal(
                flat, _flat(state[key], [g for _, g in order]))
    benchmark.group = "%s|%s|%s" % (name, "-".join(map(str, DIMS)), dtype)
    benchmark.extra_info["parameters"] = int(P.size)
    if backend == "numpy":
        benchmark(_numpy_step(name, params, grads, v, s))
    else:
        benchmark(_numba_step(name, params, grads, v, s)[0])


#: First moments of a unit whose gradient has been zero for a while: each
#: step multiplies them by beta1, and after about 800 steps from 1e-3 they
#: are float32 subnormals (fastdnn bench's batch-32 Adam epoch ends with
#: most of them so: the random labels leave most ReLU units dead).
MOMENTS = {"normal": 1e-3, "subnormal": 1e-39}
SUBNORMAL_CASES = [(name, moment) for name in ("momentum", "adam")
                   for moment in MOMENTS]


@pytest.mark.parametrize("name,moment", SUBNORMAL_CASES,
                         ids=["%s-%s" % c for c in SUBNORMAL_CASES])
def test_update_of_subnormal_moments(benchmark, name, moment):
    # The fused float32 update with zero gradients, its first moments
    # normal or subnormal, timed from the same state every round. numpy's
    # results are the reference: subnormals are kept, not flushed to zero
    # (as numpy keeps them). Arithmetic on them is slow on x86 CPUs; Adam's
    # float32 update computes their decay from their bits instead (see
    # fastdnn._adam_step_kernels), momentum's takes the slow path.
    params, grads, v, s = _problem("float32")
    for key in grads:
        grads[key][...] = 0
        v[key][...] = MOMENTS[moment]
    new, state = _numpy_step(name, params, grads, v, s)()
    step, (P, V, S), order = _numba_step(name, params, grads, v, s)
    P0, V0, S0 = P.copy(), V.copy(), S.copy()
    step()
    np.testing.assert_array_equal(P, _flat(new, [p for p, _ in order]))
    V1 = _flat(state["v"], [g for _, g in order])
    np.testing.assert_array_equal(V, V1)
    tiny = np.finfo(np.float32).tiny
    assert (np.abs(V1) < tiny).all() == (moment == "subnormal")
    assert np.count_nonzero(V1) == V1.size

    def restore():
        P[...] = P0
        V[...] = V0
        S[...] = S0
    benchmark.group = "%s|%s|float32|zero gradient" % (
        name, "-".join(map(str, DIMS)))
    benchmark.extra_info["first moments"] = moment
    benchmark.pedantic(step, setup=restore, rounds=50, iterations=1)
