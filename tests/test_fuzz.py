"""Fuzzing the public API: random valid calls agree across backends, random
invalid calls raise the same exception (type and message) in every backend.
Each example draws an activation, an output and an initializer from the
tables (through fastdnn.registry), so a new entry there is fuzzed too.

The number of examples per test is fixed for CI (``FUZZ_EXAMPLES``, 40 by
default); a longer run by hand: ``FASTDNN_FUZZ_EXAMPLES=2000 python -m pytest
tests/test_fuzz.py``.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastdnn
from fastdnn.registry import (ACTIVATION_NAMES, ELEMENTWISE,
                              INITIALIZER_NAMES, OUTPUT_NAMES, make_labels,
                              output_units)

FUZZ_EXAMPLES = int(os.environ.get("FASTDNN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

BACKENDS = [fastdnn.get_backend(name) for name in sorted(fastdnn.BACKENDS)]


def _outcome(func, args, keywords):
    """What a call did: ('ok', result) or ('raised', type, message)."""
    try:
        return ("ok", func(*args, **keywords))
    except (TypeError, ValueError, FloatingPointError) as exc:
        return ("raised", type(exc), str(exc))


def _same_outcome(name, make_args, keywords=None):
    outcomes = [_outcome(getattr(B, name), make_args(), keywords or {})
                for B in BACKENDS]
    kinds = {o[0] for o in outcomes}
    assert len(kinds) == 1, (name, outcomes)
    if outcomes[0][0] == "raised":
        assert len({o[1:] for o in outcomes}) == 1, (name, outcomes)
    return outcomes


# ----------------------------------------------------------------- corruption

def _corrupt(value, how, rng):
    """One way a user can get an argument wrong."""
    arr = np.asarray(value, dtype=float)
    if how == "nan":
        arr = arr.copy()
        arr.flat[rng.randint(arr.size)] = np.nan
        return arr
    if how == "inf":
        arr = arr.copy()
        arr.flat[rng.randint(arr.size)] = -np.inf
        return arr
    if how == "1d":
        return arr.ravel()
    if how == "transposed":
        return arr.T if arr.shape[0] != arr.shape[1] else arr[:, :-1]
    if how == "extra_row":
        return np.vstack([arr, arr[:1]])
    if how == "empty":
        return arr[:, :0]
    if how == "3d":
        return arr[None]
    if how == "complex":
        return arr + 1j
    if how == "string":
        return "not an array"
    if how == "none":
        return None
    if how == "object":
        return np.array([[object()]], dtype=object)
    if how == "masked":
        mask = np.zeros(arr.shape, dtype=bool)
        mask.flat[rng.randint(arr.size)] = True
        return np.ma.masked_array(arr, mask=mask)
    raise AssertionError(how)


CORRUPTIONS = ["nan", "inf", "1d", "transposed", "extra_row", "empty", "3d",
               "complex", "string", "none", "object", "masked"]

#: Functions whose labels (argument 1) may be a vector of m labels: predict
#: and the training functions take one, L_model_backward reshapes it to
#: AL's shape as the course does.
VECTOR_LABELS = ("predict", "L_layer_model", "two_layer_model",
                 "L_model_backward")


#: The table names each function takes as keywords (the layer functions
#: take their activation as an argument).
NAMES = dict(activation=st.sampled_from(ACTIVATION_NAMES),
             output=st.sampled_from(OUTPUT_NAMES),
             initialization=st.sampled_from(INITIALIZER_NAMES))
KEYWORDS = {"compute_cost": ("output",),
            "L_model_forward": ("activation", "output"),
            "L_model_backward": ("activation", "output"),
            "predict": ("activation", "output"),
            "L_layer_model": ("activation", "output", "initialization")}


def _keywords(func, names):
    return {k: names[k] for k in KEYWORDS.get(func, ())}


def _valid_calls(rng, n0, n1, m, activation="relu", output="sigmoid",
                 initialization="xavier"):
    """A valid call of every array-taking public function, on a network of
    the given hidden activation and output (keywords: :func:`_keywords`)."""
    names = dict(activation=activation, output=output)
    n_out = output_units(output, 1)
    X = rng.randn(n0, m)
    Y = make_labels(rng, output, n_out, m)
    R = fastdnn.reference
    params = R.initialize_parameters_deep([n0, n1, n_out], seed=rng)
    W, b = params["W1"], params["b1"]
    Z = rng.randn(n1, m)
    AL, caches = R.L_model_forward(X, params, **names)
    grads = R.L_model_backward(AL, Y, caches, **names)
    calls = {name: ([Z] if not name.endswith("_backward")
                    else [rng.randn(n1, m), Z]) for name in ELEMENTWISE}
    calls.update({
        "linear_forward": [X, W, b],
        "linear_activation_forward": [X, W, b, activation],
        "compute_cost": [AL, Y],
        "linear_backward": [rng.randn(n1, m), (X, W, b)],
        "linear_activation_backward": [rng.randn(n1, m), ((X, W, b), Z),
                                       activation],
        "L_model_forward": [X, params],
        "L_model_backward": [AL, Y, caches],
        "update_parameters": [params, grads, 0.01],
        "predict": [X, Y, params, False],
        "L_layer_model": [X, Y, [n0, n1, n_out], 0.01, 3],
    })
    return calls


def _arg_paths(args):
    """Every array inside an argument list, as a path of indices/keys."""
    paths = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            paths.append((i,))
        elif isinstance(a, dict):
            # update_parameters ignores the dA entries of grads.
            paths.extend((i, k) for k in sorted(a) if not k.startswith("dA"))
        elif isinstance(a, (list, tuple)) and a and not isinstance(a[0],
                                                                   int):
            for j, c in enumerate(a):
                if isinstance(c, np.ndarray):
                    paths.append((i, j))
    return paths


def _replace(args, path, value):
    args = list(args)
    if len(path) == 1:
        args[path[0]] = value
    elif isinstance(args[path[0]], dict):
        args[path[0]] = dict(args[path[0]])
        args[path[0]][path[1]] = value
    else:
        inner = list(args[path[0]])
        inner[path[1]] = value
        args[path[0]] = tuple(inner)
    return args


SHAPES = dict(n0=st.integers(1, 9), n1=st.integers(1, 9),
              m=st.integers(1, 9), seed=st.integers(0, 2**31 - 1))


@FUZZ
@given(**SHAPES, **NAMES)
def test_valid_calls_agree(n0, n1, m, seed, activation, output,
                           initialization):
    names = dict(activation=activation, output=output,
                 initialization=initialization)
    calls = _valid_calls(np.random.RandomState(seed), n0, n1, m, **names)
    for name, args in calls.items():
        outcomes = _same_outcome(name, lambda: args, _keywords(name, names))
        assert outcomes[0][0] == "ok", (name, names, outcomes[0])
        if outcomes[0][0] == "ok" and len(outcomes) > 1:
            _assert_close(outcomes[0][1], outcomes[1][1], name)


def _assert_close(a, b, name):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), name
        for k in a:
            _assert_close(a[k], b[k], "%s[%s]" % (name, k))
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), name
        for x, y in zip(a, b):
            _assert_close(x, y, name)
    elif isinstance(a, str):
        assert a == b
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12,
                                   err_msg=name)


@FUZZ
@given(how=st.sampled_from(CORRUPTIONS), pick=st.integers(0, 10**6),
       func=st.sampled_from(sorted(_valid_calls(np.random.RandomState(0),
                                                2, 2, 2))),
       **SHAPES, **NAMES)
def test_invalid_calls_raise_the_same_error(how, pick, func, n0, n1, m,
                                            seed, activation, output,
                                            initialization):
    names = dict(activation=activation, output=output,
                 initialization=initialization)
    rng = np.random.RandomState(seed)
    args = _valid_calls(rng, n0, n1, m, **names)[func]
    paths = _arg_paths(args)
    path = paths[pick % len(paths)]
    current = args[path[0]]
    for key in path[1:]:
        current = current[key]
    bad = _corrupt(current, how, rng)
    outcomes = _same_outcome(func, lambda: _replace(args, path, bad),
                             _keywords(func, names))
    # NaN, inf, wrong dimensionality, emptiness and non-numeric values are
    # always refused; a reshaped argument may still be valid (for example
    # the transpose of a square array).
    vector_labels = how == "1d" and func in VECTOR_LABELS and path == (1,)
    no_labels = how == "none" and func == "predict" and path == (1,)
    if (how not in ("transposed", "extra_row") and not vector_labels
            and not no_labels):
        assert outcomes[0][0] == "raised", (func, path, how)
        assert outcomes[0][1] in (TypeError, ValueError), outcomes[0]


@pytest.mark.parametrize("how", ["string", "none", "object", "complex",
                                 "masked"])
def test_non_numeric_is_a_type_error(how):
    rng = np.random.RandomState(0)
    for B in BACKENDS:
        with pytest.raises(TypeError):
            B.relu(_corrupt(np.ones((2, 2)), how, rng))
