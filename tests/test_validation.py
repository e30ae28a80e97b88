"""Bad input raises a clear TypeError/ValueError, the same from every
backend, before any kernel runs; valid-but-unusual input stays accepted."""
import decimal
import fractions

import numpy as np
import pytest

import fastdnn


@pytest.fixture(params=sorted(fastdnn.BACKENDS))
def B(request):
    return fastdnn.get_backend(request.param)


def _A(n=3, m=4):
    return np.arange(n * m, dtype=float).reshape(n, m) / 10 - 0.5


def _params(dims=(3, 2, 1)):
    return fastdnn.reference.initialize_parameters_deep(list(dims))


def _cache():
    A, W, b = _A(3, 4), np.ones((2, 3)), np.zeros((2, 1))
    return (A, W, b)


def _caches():
    X = _A(3, 4)
    return fastdnn.reference.L_model_forward(X, _params())


NAN = np.array([[np.nan, 1.0]])


def _masked(a):
    a = np.asarray(a, dtype=float)
    return np.ma.masked_array(a, mask=np.arange(a.size).reshape(a.shape) == 0)


def _train(*rest, Y=None):
    """Arguments of a small valid training call, ``rest`` replacing the
    trailing ones (layers_dims, learning_rate, num_iterations)."""
    args = [_A(3, 4), np.array([[1, 0, 1, 0]]) if Y is None else Y,
            [3, 2, 1], 0.1, 2]
    args[2:2 + len(rest)] = rest
    return tuple(args)


# (id, function, args, exception, message pattern)
BAD = [
    # TypeError: not numeric arrays
    ("sigmoid-str", "sigmoid", lambda: ("abc",), TypeError, "Z must be"),
    ("relu-none", "relu", lambda: (None,), TypeError, "Z must be"),
    ("relu-object", "relu", lambda: (np.array([[object()]]),), TypeError,
     "real numeric"),
    ("sigmoid-complex", "sigmoid", lambda: (np.ones((2, 2)) * 1j,),
     TypeError, "real numeric"),
    ("linear_forward-str-W", "linear_forward",
     lambda: (_A(), "W", np.zeros((2, 1))), TypeError, "W must be"),
    ("init-float-width", "initialize_parameters_deep",
     lambda: ([3, 2.5, 1],), TypeError, r"layer_dims\[1\] must be an "
                                        "integer"),
    ("init-str-dims", "initialize_parameters_deep", lambda: ("3,2,1",),
     TypeError, "sequence of layer widths"),
    ("update-str-lr", "update_parameters",
     lambda: (_params(), {"d" + k: v for k, v in _params().items()}, "0.1"),
     TypeError, "learning_rate must be a real number"),
    ("update-grads-list", "update_parameters",
     lambda: (_params(), [1, 2], 0.1), TypeError, "grads must be a dict"),
    ("forward-params-list", "L_model_forward", lambda: (_A(), [1, 2]),
     TypeError, "parameters must be a dict"),
    ("backward-cache-not-tuple", "linear_backward",
     lambda: (np.ones((2, 4)), "cache"), TypeError, "cache must be the tuple"),
    ("backward-caches-empty", "L_model_backward",
     lambda: (np.full((1, 4), .5), np.ones((1, 4)), []), TypeError,
     "caches must be"),
    # ValueError: shapes
    ("linear_forward-W-cols", "linear_forward",
     lambda: (_A(3, 4), np.ones((2, 5)), np.zeros((2, 1))), ValueError,
     "W has 5 columns but A has 3 rows"),
    ("linear_forward-b-shape", "linear_forward",
     lambda: (_A(3, 4), np.ones((2, 3)), np.zeros((1, 2))), ValueError,
     r"b must have shape \(n_l, 1\) = \(2, 1\)"),
    ("linear_forward-b-1d", "linear_forward",
     lambda: (_A(3, 4), np.ones((2, 3)), np.zeros(2)), ValueError,
     "b must be a 2-D array"),
    ("laf-activation", "linear_activation_forward",
     lambda: (_A(3, 4), np.ones((2, 3)), np.zeros((2, 1)), "swish"),
     ValueError, "unknown activation 'swish'; choose one of 'sigmoid', "
     "'relu'"),
    ("lab-activation", "linear_activation_backward",
     lambda: (np.ones((2, 4)), (_cache(), np.ones((2, 4))), "softmax"),
     ValueError, "activation 'softmax' has no separate backward pass"),
    ("sigmoid-1d", "sigmoid", lambda: (np.ones(3),), ValueError,
     "2-D array"),
    ("relu-empty", "relu", lambda: (np.ones((2, 0)),), ValueError,
     "must not be empty"),
    ("sigmoid_backward-shape", "sigmoid_backward",
     lambda: (np.ones((2, 3)), np.ones((3, 2))), ValueError,
     "dA has shape"),
    ("relu_backward-nan", "relu_backward",
     lambda: (NAN, np.ones((1, 2))), ValueError, "dA contains 1 NaN"),
    ("cost-column-vs-row", "compute_cost",
     lambda: (np.full((1, 3), .5), np.ones((3, 1))), ValueError,
     r"Y has shape \(3, 1\) but AL has shape \(1, 3\)"),
    ("cost-1d-Y", "compute_cost",
     lambda: (np.full((1, 3), .5), np.ones(3)), ValueError, "2-D array"),
    ("cost-nan", "compute_cost",
     lambda: (np.array([[np.nan, .5]]), np.ones((1, 2))), ValueError,
     "AL contains 1 NaN"),
    ("linear_backward-dZ", "linear_backward",
     lambda: (np.ones((3, 4)), _cache()), ValueError,
     r"dZ must have shape \(n_l, m\) = \(2, 4\)"),
    ("lab-dA-vs-Z", "linear_activation_backward",
     lambda: (np.ones((2, 3)), (_cache(), np.ones((2, 4))), "relu"),
     ValueError, "dA has shape"),
    ("backward-AL-vs-Y", "L_model_backward",
     lambda: (_caches()[0], np.ones((5, 1)), _caches()[1]), ValueError,
     r"Y has shape \(5, 1\) but AL has shape \(1, 4\).*nothing is "
     "broadcast"),
    ("backward-Y-1d-wrong-length", "L_model_backward",
     lambda: (_caches()[0], np.ones(3), _caches()[1]), ValueError,
     "Y must be a 2-D array"),
    ("backward-Y-square", "L_model_backward",  # same size, not a vector
     lambda: (_caches()[0], np.ones((2, 2)), _caches()[1]), ValueError,
     r"Y has shape \(2, 2\) but AL has shape \(1, 4\)"),
    ("backward-AL-vs-caches", "L_model_backward",
     lambda: (np.full((1, 5), .5), np.ones((1, 5)), _caches()[1]),
     ValueError, "m = 5"),
    ("backward-inf", "L_model_backward",
     lambda: (np.array([[np.inf, .5, .5, .5]]), np.ones((1, 4)),
              _caches()[1]), ValueError, "AL contains 0 NaN and 1 inf"),
    ("forward-X-rows", "L_model_forward", lambda: (_A(4, 4), _params()),
     ValueError, "X has 4 rows but W1 has 3 columns"),
    ("forward-missing-b", "L_model_forward",
     lambda: (_A(), {k: v for k, v in _params().items() if k != "b2"} |
              {"W3": np.ones((1, 1))}), ValueError, "missing"),
    ("forward-missing-last-b", "L_model_forward",
     lambda: (_A(), {k: v for k, v in _params().items() if k != "b2"}),
     ValueError, r"missing \['b2'\], unexpected none"),
    ("forward-padded-key", "L_model_forward",
     lambda: (_A(), {("W01" if k == "W1" else k): v
                     for k, v in _params().items()}),
     ValueError, r"missing \['W1'\], unexpected \['W01'\]"),
    ("forward-huge-layer-key", "L_model_forward",  # no list of 2e11 names
     lambda: (_A(), _params() | {"W99999999999": np.ones((1, 1))}),
     ValueError, r"missing \['W3', 'b3', 'W4', .*'\.\.\.'\], unexpected "
     "none"),
    ("forward-extra-key", "L_model_forward",
     lambda: (_A(), _params() | {"gamma": 1.0}), ValueError, "unexpected"),
    ("forward-chain", "L_model_forward",
     lambda: (_A(), _params() | {"W2": np.ones((1, 3))}), ValueError,
     "W2 has 3 columns but W1 has 2 rows"),
    ("forward-nan-param", "L_model_forward",
     lambda: (_A(), _params() | {"b1": np.array([[np.nan], [0.]])}),
     ValueError, "b1 contains 1 NaN"),
    ("forward-nan-X", "L_model_forward",
     lambda: (_A() * np.nan, _params()), ValueError, "X contains 12 NaN"),
    ("init-one-layer", "initialize_parameters_deep", lambda: ([5],),
     ValueError, "at least two sizes"),
    ("init-zero-width", "initialize_parameters_deep", lambda: ([5, 0, 1],),
     ValueError, r"layer_dims\[1\] must be >= 1"),
    ("init2-zero", "initialize_parameters", lambda: (3, 0, 1), ValueError,
     ">= 1"),
    ("update-lr-negative", "update_parameters",
     lambda: (_params(), {"d" + k: v for k, v in _params().items()}, -0.1),
     ValueError, "finite and > 0"),
    ("update-lr-nan", "update_parameters",
     lambda: (_params(), {"d" + k: v for k, v in _params().items()},
              float("nan")), ValueError, "finite and > 0"),
    ("update-missing-grad", "update_parameters",
     lambda: (_params(), {"dW1": _params()["W1"]}, 0.1), ValueError,
     "grads has no 'db1'"),
    ("update-grad-shape", "update_parameters",
     lambda: (_params(), {"d" + k: v.T for k, v in _params().items()}, 0.1),
     ValueError, "dW1 has shape"),
    ("update-grad-nan", "update_parameters",
     lambda: (_params(), {"d" + k: v * np.nan for k, v in
                          _params().items()}, 0.1), ValueError,
     "dW1 contains"),
    ("predict-y-column", "predict",
     lambda: (_A(3, 4), np.ones((4, 1)), _params()), ValueError,
     r"y must have shape \(1, m\)"),
    ("predict-y-nan", "predict",
     lambda: (_A(3, 4), np.array([[1., np.nan, 0., 1.]]), _params()),
     ValueError, "y contains 1 NaN"),
    ("L-X-vs-dims", "L_layer_model",
     lambda: (_A(3, 4), np.ones((1, 4)), [4, 2, 1]), ValueError,
     r"X has 3 rows \(features\) but layers_dims\[0\] is 4"),
    ("L-Y-length", "L_layer_model",
     lambda: (_A(3, 4), np.ones((1, 5)), [3, 2, 1]), ValueError,
     r"Y must have shape \(1, m\) = \(1, 4\)"),
    ("L-Y-column", "L_layer_model",
     lambda: (_A(3, 4), np.ones((4, 1)), [3, 2, 1]), ValueError,
     r"Y must have shape \(1, m\)"),
    ("L-zero-examples", "L_layer_model",
     lambda: (np.ones((3, 0)), np.ones((1, 0)), [3, 2, 1]), ValueError,
     "must not be empty"),
    ("L-negative-iterations", "L_layer_model",
     lambda: (_A(3, 4), np.ones((1, 4)), [3, 2, 1], 0.1, -1), ValueError,
     "num_iterations must be >= 0"),
    ("L-float-iterations", "L_layer_model",
     lambda: (_A(3, 4), np.ones((1, 4)), [3, 2, 1], 0.1, 10.5), TypeError,
     "num_iterations must be an integer"),
    ("L-lr-inf", "L_layer_model",
     lambda: (_A(3, 4), np.ones((1, 4)), [3, 2, 1], float("inf")),
     ValueError, "finite and > 0"),
    ("L-lr-bool", "L_layer_model",
     lambda: (_A(3, 4), np.ones((1, 4)), [3, 2, 1], True), TypeError,
     "learning_rate must be a real number"),
    ("L-X-nan", "L_layer_model",
     lambda: (_A(3, 4) * np.nan, np.ones((1, 4)), [3, 2, 1]), ValueError,
     "X contains"),
    # masked arrays: the mask would be dropped silently
    ("sigmoid-masked", "sigmoid", lambda: (_masked(_A()),), TypeError,
     r"Z is a numpy masked array.*Z\.filled\(value\)"),
    ("forward-masked-X", "L_model_forward",
     lambda: (_masked(_A()), _params()), TypeError,
     "X is a numpy masked array"),
    ("forward-masked-W", "L_model_forward",
     lambda: (_A(), _params() | {"W1": _masked(_params()["W1"])}),
     TypeError, "W1 is a numpy masked array"),
    ("update-masked-grad", "update_parameters",
     lambda: (_params(), {"d" + k: _masked(v) for k, v in
                          _params().items()}, 0.1), TypeError,
     "dW1 is a numpy masked array"),
    ("backward-masked-Y", "L_model_backward",
     lambda: (_caches()[0], _masked(np.ones((1, 4))), _caches()[1]),
     TypeError, "Y is a numpy masked array"),
    ("predict-masked-y", "predict",
     lambda: (_A(3, 4), _masked(np.ones((1, 4))), _params()), TypeError,
     "y is a numpy masked array"),
    ("L-masked-X", "L_layer_model",
     lambda: (_masked(_A()),) + _train()[1:], TypeError,
     "X is a numpy masked array"),
    ("L-masked-Y", "L_layer_model",
     lambda: _train(Y=_masked(np.ones((1, 4)))), TypeError,
     "Y is a numpy masked array"),
    # labels: 0/1 where the model predicts them
    ("predict-y-2", "predict",
     lambda: (_A(3, 4), np.array([[1, 2, 0, 1]]), _params()), ValueError,
     r"y must hold 0/1 labels, got 1 other value\(s\) \(2\)"),
    ("predict-y-half", "predict",
     lambda: (_A(3, 4), np.array([.5, 1, 0, 1]), _params()), ValueError,
     r"y must hold 0/1 labels.*\(0\.5\)"),
    ("L-Y-2", "L_layer_model",
     lambda: _train(Y=np.array([[0, 1, 2, 1]])), ValueError,
     "Y must hold 0/1 labels"),
    ("two-Y-minus-1", "two_layer_model",
     lambda: _train((3, 2, 1), Y=np.array([-1, 1, -1, 1])), ValueError,
     r"Y must hold 0/1 labels, got 2 other value\(s\) \(-1\)"),
    # Python numbers numpy cannot hold
    ("L-lr-huge-int", "L_layer_model",
     lambda: _train([3, 2, 1], 10**400), ValueError,
     "learning_rate must be finite and > 0 and fit in float64, got a "
     "number too large"),
    ("L-lr-fraction-underflow", "L_layer_model",
     lambda: _train([3, 2, 1], fractions.Fraction(1, 10**400)), ValueError,
     "learning_rate .* rounds to 0 in float64"),
    ("L-lr-decimal-inf", "L_layer_model",
     lambda: _train([3, 2, 1], decimal.Decimal("1e400")), ValueError,
     "learning_rate must be finite and > 0"),
    ("L-lr-decimal-nan", "L_layer_model",
     lambda: _train([3, 2, 1], decimal.Decimal("nan")), ValueError,
     "learning_rate must be finite and > 0"),
    ("L-lr-complex", "L_layer_model",
     lambda: _train([3, 2, 1], 0.1 + 0j), TypeError,
     "learning_rate must be a real number"),
    ("update-lr-huge-fraction", "update_parameters",
     lambda: (_params(), {"d" + k: v for k, v in _params().items()},
              fractions.Fraction(10**400, 3)), ValueError,
     "too large for float64"),
    ("L-iterations-huge", "L_layer_model",
     lambda: _train([3, 2, 1], 0.1, 10**30), ValueError,
     "num_iterations must be <= 9223372036854775807"),
    ("L-iterations-bool", "L_layer_model",
     lambda: _train([3, 2, 1], 0.1, True), TypeError,
     "num_iterations must be an integer, got a bool"),
    ("L-width-2-63", "L_layer_model",
     lambda: _train([3, 2**63, 1]), ValueError,
     r"layers_dims\[1\] must be <= 9223372036854775807"),
    ("L-width-too-big", "L_layer_model",
     lambda: _train([3, 2**62, 1]), ValueError,
     r"layers_dims: W1 would have shape \(4611686018427387904, 3\).*more "
     "than numpy can allocate"),
    ("init-width-2-63", "initialize_parameters_deep",
     lambda: ([3, 2**63, 1],), ValueError, r"layer_dims\[1\] must be <="),
    ("init-width-too-big", "initialize_parameters_deep",
     lambda: ([2**40, 2**40, 1],), ValueError,
     "W1 would have shape .* more than numpy can allocate"),
    ("init-width-beyond-memory", "initialize_parameters_deep",
     lambda: ([2**20, 2**30, 1],), ValueError,
     r"layer_dims: the weights W1..W2 would take 8\.39e\+06 GiB in "
     "float64, more than this machine's"),
    ("L-width-beyond-memory", "L_layer_model",
     lambda: _train([3, 2**58, 1]), ValueError,
     "layers_dims: the weights W1..W2 would take .* more than this "
     "machine's .* memory"),
    ("init2-width-too-big", "initialize_parameters",
     lambda: (2**32, 2**32, 1), ValueError, "W1 would have shape"),
    ("init-seed-huge", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 2**40), ValueError,
     "seed must be <= 4294967295"),
    # initialize_parameters_deep's scale
    ("init-scale-nan", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 3, float("nan")), ValueError,
     "scale must be finite and > 0, got nan"),
    ("init-scale-zero", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 3, 0), ValueError, "scale must be finite and > 0"),
    ("init-scale-negative", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 3, -0.01), ValueError,
     "scale must be finite and > 0"),
    ("init-scale-list", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 3, [0.01, 0.02]), TypeError,
     "scale must be a real number"),
    ("init-scale-array", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 3, np.array([0.01])), TypeError,
     "scale must be a real number"),
    ("init-scale-bool", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 3, True), TypeError, "scale must be a real number"),
    ("init-scale-huge", "initialize_parameters_deep",
     lambda: ([3, 2, 1], 3, 10**400), ValueError, "too large for float64"),
    ("two-dims", "two_layer_model",
     lambda: (_A(3, 4), np.ones((1, 4)), (3, 2, 2, 1)), ValueError,
     r"\(n_x, n_h, n_y\)"),
]


@pytest.mark.parametrize("name,func,args,exc,pattern", BAD,
                         ids=[c[0] for c in BAD])
def test_bad_input_raises_clearly(B, name, func, args, exc, pattern):
    with pytest.raises(exc, match=pattern):
        getattr(B, func)(*args())


@pytest.mark.parametrize("name,func,args,exc,pattern", BAD,
                         ids=[c[0] for c in BAD])
def test_backends_raise_the_same_error(name, func, args, exc, pattern):
    messages = set()
    for backend in fastdnn.BACKENDS:
        with pytest.raises(exc) as info:
            getattr(fastdnn.get_backend(backend), func)(*args())
        messages.add((type(info.value), str(info.value)))
    assert len(messages) == 1, messages


# ------------------------------------------------ permissive where defined

def test_integer_and_boolean_labels_are_accepted(B):
    AL = np.array([[.8, .9, .4]])
    c_int = B.compute_cost(AL, np.array([[1, 1, 0]]))
    c_bool = B.compute_cost(AL, np.array([[True, True, False]]))
    c_float = B.compute_cost(AL, np.array([[1., 1., 0.]]))
    assert c_int == c_bool == c_float


def test_real_valued_labels_are_accepted(B):
    AL = np.array([[.8, .9, .4]])
    Y = np.array([[.7, .2, .5]])
    expected = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    np.testing.assert_allclose(B.compute_cost(AL, Y), expected, rtol=1e-14)


@pytest.mark.parametrize("output, AL, Y", [
    ("sigmoid", [[0.8, 1.5, -0.25]], [[1, 1, 0]]),
    ("softmax", [[0.2, -0.1], [0.8, 1.1]], [[1, 1]])])
def test_AL_outside_unit_interval_is_refused_by_the_cost(output, AL, Y):
    # Logits passed for AL: clipped, they would give a finite, wrong cost.
    # Both backends refuse them, in the same words.
    errors = []
    for backend in (fastdnn.get_backend(n) for n in sorted(fastdnn.BACKENDS)):
        with pytest.raises(ValueError) as info:
            backend.compute_cost(np.array(AL), np.array(Y), output=output)
        errors.append(str(info.value))
    assert errors[0] == errors[-1]
    assert errors[0].startswith(
        "AL must hold the %s output's probabilities in [0, 1], got 2 "
        "value(s) outside (" % output)
    assert "AL = %s(Z), not Z" % output in errors[0]


def test_the_cost_takes_probabilities_of_exactly_0_and_1(B):
    # The ends of [0, 1] are probabilities (a saturated output): clipped.
    cost = B.compute_cost(np.array([[0.0, 1.0]]), np.array([[0, 1]]))
    assert 0 < cost < 3 * np.finfo(np.float64).eps
    # identity's AL is no probability: any real value.
    assert B.compute_cost(np.array([[3.0, -2.0]]), np.array([[3.0, -2.0]]),
                          output="identity") == 0


def test_AL_outside_unit_interval_is_accepted_in_backward(B):
    # The course's own test case feeds AL = randn to L_model_backward.
    AL, caches = _caches()
    grads = B.L_model_backward(-AL, np.array([[1, 0, 1, 0]]), caches)
    assert all(np.isfinite(g).all() for g in grads.values())


@pytest.mark.parametrize("lr", [fractions.Fraction(1, 20),
                                decimal.Decimal("0.05"), np.float32(0.05),
                                1])
def test_exact_python_numbers_are_learning_rates(B, lr):
    # A Fraction or Decimal is a real number float64 holds: it trains
    # exactly as its float does.
    want = B.L_layer_model(*_train([3, 2, 1], float(lr), 3))
    got = B.L_layer_model(*_train([3, 2, 1], lr, 3))
    for k in want[0]:
        np.testing.assert_array_equal(got[0][k], want[0][k])
    np.testing.assert_array_equal(got[1], want[1])


def test_scale_takes_any_positive_real(B):
    want = B.initialize_parameters_deep([3, 2, 1], 3, 0.5)
    for scale in (fractions.Fraction(1, 2), decimal.Decimal("0.5"),
                  np.float64(0.5)):
        got = B.initialize_parameters_deep([3, 2, 1], 3, scale)
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])


@pytest.mark.parametrize("model", ["two_layer_model", "L_layer_model"])
def test_training_seed_must_fit_randomstate(B, model):
    with pytest.raises(ValueError, match="seed must be <= 4294967295"):
        getattr(B, model)(*_train((3, 2, 1)), seed=2**32)


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_backward_reshapes_a_vector_Y_as_the_course_does(B, shape):
    # The course's L_model_backward starts with Y = Y.reshape(AL.shape).
    AL, caches = _caches()
    Y = np.array([1, 0, 0, 1])
    want = B.L_model_backward(AL, Y.reshape(1, 4), caches)
    got = B.L_model_backward(AL, Y.reshape(shape), caches)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


def test_uint8_images_are_converted(B):
    X = (np.arange(12).reshape(3, 4) * 20).astype(np.uint8)
    AL, _ = B.L_model_forward(X, _params())
    AL_f, _ = B.L_model_forward(X.astype(float), _params())
    np.testing.assert_array_equal(AL, AL_f)
