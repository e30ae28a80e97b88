"""The numba backend computes what the numpy reference computes: every
operation of fastdnn.registry (so every activation, output and initializer
of the tables), over hypothesis-drawn shapes, value ranges and both float
dtypes; strided and Fortran-ordered input; caches crossing backends."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastdnn import jit, reference
from fastdnn.registry import (ACTIVATION_NAMES, OUTPUT_NAMES, REGISTRY,
                              TRAINING, Shape, make_inputs, make_labels,
                              output_units)
from fastdnn.registry import OPERATIONS as NETWORKS

# Relative tolerances, per dtype. The backends sum in different orders (BLAS
# blocks vs. the kernels' SIMD lanes) and numba's exp/log may differ from
# numpy's by an ulp; with at most 64-term sums through up to four layers the
# difference stays within a few hundred ulps of the largest value involved:
# 1e-12 is ~5000 ulps of float64, 1e-5 ~80 ulps of float32 (eps 1.2e-7).
# Errors are measured against the result's largest magnitude (see _close).
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}

# Training multiplies the differences by (1 + lr * curvature) per iteration
# and compounds them through the layers; a few iterations stay well inside
# 10x the one-pass tolerance.
TRAINING_FACTOR = 10

OPERATIONS = sorted(REGISTRY)

#: Each public function's operations: one per entry of the tables (or per
#: activation x output) that it takes. Hypothesis draws among them, so that
#: a new entry is drawn without multiplying the examples.
BY_FUNCTION = {}
for _op in OPERATIONS:
    BY_FUNCTION.setdefault(NETWORKS[_op].function, []).append(_op)

# Zero to three hidden layers: a single-layer network ([n_x, 1], logistic
# regression) is a network too.
dims_st = st.lists(st.integers(1, 64), min_size=0, max_size=3).map(
    lambda hidden: tuple(hidden) + (1,))
shape_st = st.builds(
    lambda n0, hidden, m: Shape((n0,) + hidden, m),
    st.integers(1, 64), dims_st, st.integers(1, 64))
dtype_st = st.sampled_from(["float64", "float32"])
scale_st = st.sampled_from([1e-3, 1.0, 8.0])


def _largest(x):
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, (tuple, list)):
        return max([_largest(v) for v in x] + [0.0])
    if isinstance(x, np.ndarray) and x.size:
        return float(np.max(np.abs(x)))
    if isinstance(x, float):
        return abs(x)
    return 0.0


def _close(got, want, rtol, where="result", scale=None):
    """Same structure, same dtypes, values within ``rtol`` times the largest
    magnitude in the whole result ``want``: a sum that cancels to ~0 (a bias
    gradient, say) keeps the absolute rounding error of its terms, which are
    of the size of the other outputs."""
    if scale is None:
        scale = _largest(want)
    assert type(got) is type(want), (where, type(got), type(want))
    if isinstance(want, dict):
        assert list(got) == list(want), where
        for k in want:
            _close(got[k], want[k], rtol, "%s[%r]" % (where, k), scale)
    elif isinstance(want, (tuple, list)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _close(g, w, rtol, "%s[%d]" % (where, i), scale)
    elif isinstance(want, np.ndarray):
        assert got.shape == want.shape and got.dtype == want.dtype, (
            where, got.shape, want.shape, got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale,
                                   err_msg=where)
    elif isinstance(want, float):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale,
                                   err_msg=where)
    else:
        assert got == want, where


def _compare(op, args, dtype):
    rtol = RTOL[np.dtype(dtype)]
    network = NETWORKS[op]
    if network.function in TRAINING:
        rtol *= TRAINING_FACTOR
    want = REGISTRY[op]["numpy"](*args)
    for backend, function in REGISTRY[op].items():
        if backend == "numpy":
            continue
        got = function(*args)
        if network.function == "predict" and network.output != "identity":
            assert got.dtype == want.dtype and got.shape == want.shape
            sure = _sure(args[0], args[2], network, rtol)
            np.testing.assert_array_equal(got[sure], want[sure])
        else:
            _close(got, want, rtol, "%s (%s)" % (op, backend))


def _sure(X, parameters, network, rtol):
    """The examples whose predicted class no rounding can change: a
    probability within rounding of 0.5 (sigmoid) or of the next class's
    (softmax) may fall either side."""
    AL, _ = reference.L_model_forward(X, parameters,
                                      activation=network.activation,
                                      output=network.output)
    if network.output == "sigmoid":
        return np.abs(AL - 0.5) > 100 * rtol
    top = np.sort(AL, axis=0)
    return (top[-1:] - top[-2:-1]) > 100 * rtol


@pytest.mark.parametrize("function", sorted(BY_FUNCTION))
@given(data=st.data(), shape=shape_st, dtype=dtype_st, scale=scale_st,
       seed=st.integers(0, 2**31 - 1))
def test_backends_agree(function, data, shape, dtype, scale, seed):
    op = data.draw(st.sampled_from(BY_FUNCTION[function]), label="op")
    args = make_inputs(op, shape, dtype, seed, scale)
    _compare(op, args, dtype)


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_backends_agree_with_one_example(op, dtype):
    # m = 1 and width-1 layers: every loop of every kernel at its edge.
    _compare(op, make_inputs(op, Shape((1, 1, 1), 1), dtype, 3), dtype)


@pytest.mark.parametrize("op", OPERATIONS)
def test_backends_agree_at_odd_sizes_past_the_blocks(op):
    # Sizes that are not multiples of the kernels' 4-row/2-row blocks or
    # their column blocks (96 columns, 64 rows of A_prev).
    shape = Shape((131, 67, 5, 1), 197)
    for dtype in ("float64", "float32"):
        _compare(op, make_inputs(op, shape, dtype, 7), dtype)


DEPTHS = [(30, 1), (30, 6, 1), (30, 7, 5, 1), (30, 9, 6, 4, 1)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("dims", DEPTHS,
                         ids=["%d-layer" % (len(d) - 1) for d in DEPTHS])
@pytest.mark.parametrize("op", ["L_layer_model", "two_layer_model"])
def test_training_agrees_at_every_depth(op, dims, dtype):
    # Every backend and solver (numba's auto, primal, gram) against the
    # reference over 301 iterations (four recorded costs), with m both
    # below n_x (where auto picks gram) and above it.
    if op == "two_layer_model" and len(dims) != 3:
        dims = dims[:2] + (1,)
    for m in (17, 45):
        _compare(op, make_inputs(op, Shape(dims, m, 301), dtype, m), dtype)


# ------------------------------------------------ memory layouts

def _relayout(x, how):
    """The same values in another memory layout (recursing into caches)."""
    if isinstance(x, np.ndarray) and x.ndim == 2:
        if how == "F":
            return np.asfortranarray(x)
        # A strided view: every other column of a twice-as-wide array.
        wide = np.empty((x.shape[0], 2 * x.shape[1]), dtype=x.dtype)
        wide[:, ::2] = x
        view = wide[:, ::2]
        assert not view.flags.c_contiguous or x.shape[1] == 1
        return view
    if isinstance(x, dict):
        return {k: _relayout(v, how) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_relayout(v, how) for v in x)
    return x


def _exactly_equal(got, want, where="result"):
    if isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            _exactly_equal(got[k], want[k], "%s[%r]" % (where, k))
    elif isinstance(want, (tuple, list)):
        for i, (g, w) in enumerate(zip(got, want)):
            _exactly_equal(g, w, "%s[%d]" % (where, i))
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype, where
        np.testing.assert_array_equal(got, want, err_msg=where)
    else:
        assert got == want, where


@pytest.mark.parametrize("how", ["F", "strided"])
@pytest.mark.parametrize("op", OPERATIONS)
def test_layout_does_not_change_results(op, how):
    # A strided view is copied to C order: bit for bit the same result. A
    # Fortran-ordered input of a forward pass (the course's X) goes to the
    # transposed kernel, whose sums run in another order: the same result
    # to rounding, and the same again on every call.
    for dtype in ("float64", "float32"):
        args = make_inputs(op, Shape((9, 6, 3, 1), 11), dtype, 5)
        want = REGISTRY[op]["numba"](*args)
        moved = _relayout(args, how)
        got = REGISTRY[op]["numba"](*moved)
        if how == "strided":
            _exactly_equal(got, want, op)
        else:
            _close(got, want, RTOL[np.dtype(dtype)], op)
            _exactly_equal(REGISTRY[op]["numba"](*moved), got, op)


# ------------------------------------------------ caches cross backends

@given(shape=shape_st, dtype=dtype_st, seed=st.integers(0, 2**31 - 1),
       activation=st.sampled_from(ACTIVATION_NAMES),
       output=st.sampled_from(OUTPUT_NAMES))
def test_a_cache_made_by_one_backend_feeds_the_others_backward(
        shape, dtype, seed, activation, output):
    rtol = RTOL[np.dtype(dtype)]
    names = dict(activation=activation, output=output)
    op = [o for o, n in NETWORKS.items()
          if n == ("predict", activation, output, None)]
    X, _, parameters = make_inputs(op[0], shape, dtype, seed)
    units = output_units(output, shape.dims[-1])
    Y = make_labels(np.random.RandomState(seed), output, units, shape.m)
    layers = [activation] * (len(shape.dims) - 2) + [output]
    for forward in (reference, jit):
        AL, caches = forward.L_model_forward(X, parameters, **names)
        if output == "sigmoid":
            AL = np.clip(AL, 0.01, 0.99)
        want = reference.L_model_backward(AL, Y, caches, **names)
        _close(jit.L_model_backward(AL, Y, caches, **names), want, rtol)
        for act, cache in zip(layers, caches):
            dA = np.ones_like(cache[1])
            if act in reference.ACTIVATIONS:
                # (A softmax layer has no backward pass of its own.)
                _close(jit.linear_activation_backward(dA, cache, act),
                       reference.linear_activation_backward(dA, cache,
                                                            act), rtol)
            _close(jit.linear_backward(dA, cache[0]),
                   reference.linear_backward(dA, cache[0]), rtol)


def test_jit_caches_have_the_reference_structure():
    X, _, parameters = make_inputs("predict", Shape((4, 3, 1), 5))
    AL, caches = jit.L_model_forward(X, parameters)
    AL_r, caches_r = reference.L_model_forward(X, parameters)
    assert isinstance(caches, list) and len(caches) == len(caches_r)
    for c, r in zip(caches, caches_r):
        (A_prev, W, b), Z = c
        assert all(isinstance(x, np.ndarray) for x in (A_prev, W, b, Z))
        _close(c, r, 1e-12)
    Z, cache = jit.linear_forward(*make_inputs("linear_forward",
                                               Shape((4, 3, 1), 5)))
    assert isinstance(cache, tuple) and len(cache) == 3
