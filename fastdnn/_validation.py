"""Input checks shared by every backend.

Both backends call these functions before doing any work, so that bad input
raises the same ``TypeError``/``ValueError`` with the same message whichever
backend is in use, and so that nothing reaches a jitted kernel that could make
it fail with a typing error, read out of bounds or broadcast silently.

The checks of single arrays (numeric, 2-D, finite, one float dtype: the dtype
and masked-array policy) live in :mod:`fastdnn._validation_arrays`, those of
scalars (counts, widths, rates, dtypes) in :mod:`fastdnn._validation_scalars`,
those of names (activations, outputs, initializers) and of each output's
labels in :mod:`fastdnn._validation_tables`; all are re-exported here.
"""
import itertools

import numpy as np

from ._validation_scalars import (  # noqa: F401 (re-exported)
    FLOAT_DTYPES, INT64_MAX, SEED_MAX, check_dtype, check_int,
    check_layer_dims, check_learning_rate, check_positive_real, check_scale,
    check_weight_sizes)
from ._validation_arrays import (  # noqa: F401 (re-exported)
    _describe, as_array, as_matrices, as_matrix, check_binary, check_finite,
    check_not_masked, check_same_shape, result_dtype)
from ._validation_tables import (  # noqa: F401 (re-exported)
    check_activation_names, check_initialization, check_layer_activation,
    check_model_names, check_name, check_output, check_output_labels,
    check_output_probabilities, check_output_units, check_training_options)


def check_linear_shapes(A, W, b, a_name="A"):
    """``Z = W A + b``: W (n_l, n_{l-1}), A (n_{l-1}, m), b (n_l, 1)."""
    if W.shape[1] != A.shape[0]:
        raise ValueError(
            "W has %d columns but %s has %d rows: W must be (n_l, n_{l-1}) "
            "and %s (n_{l-1}, m); got W %s and %s %s"
            % (W.shape[1], a_name, A.shape[0], a_name, W.shape, a_name,
               A.shape))
    if b.shape != (W.shape[0], 1):
        raise ValueError(
            "b must have shape (n_l, 1) = %s to match W %s, got %s"
            % ((W.shape[0], 1), W.shape, b.shape))


def check_activation(activation, table=None):
    """``linear_activation_forward``'s ``activation``: see
    :func:`check_layer_activation` (``table`` is not used: the names are
    the reference's tables')."""
    return check_layer_activation(activation)


#: Absent parameter names listed in an error, at most.
_MAX_NAMED = 8


def _layer_index(key):
    """l for a key ``"W<l>"`` or ``"b<l>"`` (l >= 1 written plainly), else
    None."""
    if not (isinstance(key, str) and key[:1] in ("W", "b")
            and key[1:].isdigit()):
        return None
    l = int(key[1:])
    return l if l >= 1 and key[1:] == str(l) else None


def _refuse_parameter_names(parameters):
    # The ValueError for a dict whose keys are not W1, b1, ..., WL, bL. L
    # is the highest layer named (not half the count of entries), so that
    # a missing b_l is reported as missing rather than its W_(l+1) as
    # unexpected; the absent names are listed lazily, the first few only
    # (a key such as "W99999999" must not make a list of 2e8 names).
    layers = [_layer_index(k) for k in parameters]
    L = max([l for l in layers if l is not None] or [1])
    missing = list(itertools.islice(
        (name for l in range(1, L + 1) for name in ("W%d" % l, "b%d" % l)
         if name not in parameters), _MAX_NAMED + 1))
    if len(missing) > _MAX_NAMED:
        missing[_MAX_NAMED:] = ["..."]
    extra = sorted((k for k, l in zip(parameters, layers) if l is None),
                   key=repr)
    raise ValueError(
        "parameters must hold exactly W1, b1, ..., WL, bL; missing %s, "
        "unexpected %s" % (missing or "none", extra or "none"))


def check_parameters(parameters, dtype=None, finite=True):
    """Validate a parameters dict ``{"W1", "b1", ..., "WL", "bL"}``.

    Returns ``(L, Ws, bs)`` with the arrays converted to one float dtype.
    """
    if not isinstance(parameters, dict):
        raise TypeError("parameters must be a dict {'W1': ..., 'b1': ..., "
                        "...}, got %s" % type(parameters).__name__)
    L = len(parameters) // 2
    if L < 1 or len(parameters) != 2 * L or not all(
            "W%d" % l in parameters and "b%d" % l in parameters
            for l in range(1, L + 1)):
        _refuse_parameter_names(parameters)
    named = []
    for l in range(1, L + 1):
        named.append(("W%d" % l, parameters["W%d" % l], "(n_%d, n_%d)"
                      % (l, l - 1)))
        named.append(("b%d" % l, parameters["b%d" % l], "(n_%d, 1)" % l))
    raw = [as_array(v, n) for n, v, _ in named]
    if dtype is None:
        dtype = result_dtype(*raw)
    arrs = [as_matrix(a, n, dtype=dtype, finite=finite, shape_hint=h)
            for a, (n, _, h) in zip(raw, named)]
    Ws, bs = arrs[0::2], arrs[1::2]
    for l in range(1, L + 1):
        W, b = Ws[l - 1], bs[l - 1]
        if b.shape != (W.shape[0], 1):
            raise ValueError("b%d must have shape %s to match W%d %s, got %s"
                             % (l, (W.shape[0], 1), l, W.shape, b.shape))
        if l > 1 and W.shape[1] != Ws[l - 2].shape[0]:
            raise ValueError(
                "W%d has %d columns but W%d has %d rows; layer sizes must "
                "chain (W%d is (n_%d, n_%d))"
                % (l, W.shape[1], l - 1, Ws[l - 2].shape[0], l, l, l - 1))
    return L, Ws, bs


def check_labels(Y, AL_shape, dtype, name="Y"):
    """Labels of exactly AL's shape (1, m), as floats of ``dtype``.

    Real-valued labels are allowed (the cross-entropy is defined for them).
    """
    Y = as_matrix(Y, name, dtype=dtype, shape_hint="(1, m)")
    if Y.shape != AL_shape:
        if Y.size == int(np.prod(AL_shape)):
            fix = ("(a column (m, 1) is not broadcast against a row (1, m): "
                   "use np.reshape(%s, (1, -1)))" % name)
        else:
            fix = "(one label per output of AL, nothing is broadcast)"
        raise ValueError("%s has shape %s but AL has shape %s; they must "
                         "match exactly %s" % (name, Y.shape, AL_shape, fix))
    return Y


def check_X_for_layers(X, layer_dims):
    if X.shape[0] != layer_dims[0]:
        raise ValueError(
            "X has %d rows (features) but layers_dims[0] is %d; X must be "
            "(n_x, m) with one example per column" % (X.shape[0],
                                                      layer_dims[0]))


def check_X_for_parameters(X, W1):
    if X.shape[0] != W1.shape[1]:
        raise ValueError(
            "X has %d rows but W1 has %d columns; X must be (n_x, m) = "
            "(%d, m), one example per column" % (X.shape[0], W1.shape[1],
                                                 W1.shape[1]))


def _check_layer_count(Ws, bs):
    if len(Ws) < 1 or len(Ws) != len(bs):
        raise ValueError("Ws and bs must be two non-empty lists of the "
                         "same length, got %d and %d" % (len(Ws), len(bs)))


def check_layer_parameters(X, Ws, bs):
    """The solvers' inputs ``X`` (n_x, m) and layers ``Ws``, ``bs`` (lists
    of ``W_l`` (n_l, n_{l-1}) and ``b_l`` (n_l, 1)): ``(X, Ws, bs)`` as
    matrices of X's dtype (lists), or ValueError naming the first that
    does not fit its neighbours."""
    Ws, bs = list(Ws), list(bs)
    _check_layer_count(Ws, bs)
    X = as_matrix(X, "X", shape_hint="(n_x, m)")
    Ws = [as_matrix(W, "W%d" % l, dtype=X.dtype)
          for l, W in enumerate(Ws, start=1)]
    bs = [as_matrix(b, "b%d" % l, dtype=X.dtype)
          for l, b in enumerate(bs, start=1)]
    check_layer_shapes(X, Ws, bs)
    return X, Ws, bs


def check_layer_shapes(X, Ws, bs):
    """The shapes of :func:`check_layer_parameters` alone (arrays already
    checked, or the solvers' own copies): ValueError naming the first
    ``W_l`` or ``b_l`` that does not fit."""
    _check_layer_count(Ws, bs)
    for l, (W, b) in enumerate(zip(Ws, bs), start=1):
        if np.ndim(W) != 2:
            raise ValueError("W%d must be a 2-D array (n_%d, n_%d), got "
                             "shape %s" % (l, l, l - 1, np.shape(W)))
        if np.shape(b) != (W.shape[0], 1):
            raise ValueError("b%d must have shape %s, got %s"
                             % (l, (W.shape[0], 1), np.shape(b)))
        if l > 1 and W.shape[1] != Ws[l - 2].shape[0]:
            raise ValueError("W%d has %d columns but W%d has %d rows"
                             % (l, W.shape[1], l - 1, Ws[l - 2].shape[0]))
    check_X_for_parameters(X, Ws[0])


def check_training_labels(Y, m, dtype):
    """Training labels: (1, m) of 0/1; a 1-D vector of m labels is accepted
    too."""
    arr = as_array(Y, "Y")
    if arr.ndim == 1 and arr.shape[0] == m:
        arr = arr.reshape(1, m)
    Y = as_matrix(arr, "Y", dtype=dtype, shape_hint="(1, m)")
    if Y.shape != (1, m):
        raise ValueError("Y must have shape (1, m) = (1, %d) to match X's m "
                         "columns, got %s" % (m, Y.shape))
    check_binary(Y, "Y")
    return Y


def unpack_linear_cache(cache, name="cache"):
    try:
        A_prev, W, b = cache
    except (TypeError, ValueError):
        raise TypeError("%s must be the tuple (A_prev, W, b) made by "
                        "linear_forward" % name) from None
    return A_prev, W, b


def unpack_activation_cache(cache, name="cache"):
    try:
        linear_cache, Z = cache
    except (TypeError, ValueError):
        raise TypeError("%s must be the tuple ((A_prev, W, b), Z) made by "
                        "linear_activation_forward" % name) from None
    return unpack_linear_cache(linear_cache, name + "[0]") + (Z,)


def check_caches(caches):
    if isinstance(caches, (list, tuple)) and len(caches) >= 1:
        return list(caches)
    raise TypeError("caches must be the non-empty list (or tuple) of layer "
                    "caches made by L_model_forward, got %s"
                    % _describe(caches))


def check_model_input(X, parameters):
    """Validate ``(X, parameters)`` for a forward pass.

    Returns X and a new parameters dict, all in one float dtype.
    """
    L, Ws, bs = check_parameters(parameters)
    X = as_matrix(X, "X", dtype=Ws[0].dtype, shape_hint="(n_x, m)")
    check_X_for_parameters(X, Ws[0])
    parameters = {}
    for l in range(1, L + 1):
        parameters["W" + str(l)] = Ws[l - 1]
        parameters["b" + str(l)] = bs[l - 1]
    return X, parameters


def _course_labels(Y, AL_shape):
    """``Y.reshape(AL.shape)`` where the course's ``L_model_backward`` does
    it: m labels as a vector (m,) or a column (m, 1) against an AL of one
    row (1, m), the same values in the same order. Anything else is left
    for :func:`check_labels` to check (nothing is broadcast)."""
    arr = as_array(Y, "Y")
    m = AL_shape[1]
    if AL_shape[0] == 1 and arr.shape in ((m,), (m, 1)):
        return arr.reshape(AL_shape)
    return arr


def check_backward_input(AL, Y, caches, output="sigmoid"):
    """Validate ``L_model_backward``'s arguments.

    Returns ``(AL, Y, caches)`` with caches as a list of
    ``((A_prev, W, b), Z)`` in AL's dtype, every shape checked, and Y as
    :func:`check_cost_input` returns it.
    """
    output = check_output(output)
    caches = check_caches(caches)
    AL = as_matrix(AL, "AL", shape_hint="(n_L, m)")
    Y = _cost_labels(Y, AL, output, course_reshape=True)
    checked = []
    for l, cache in enumerate(caches, start=1):
        A_prev, W, b, Z = unpack_activation_cache(
            cache, "caches[%d]" % (l - 1))
        A_prev, W, b, Z = [
            as_matrix(x, "caches[%d] %s" % (l - 1, n), dtype=AL.dtype)
            for x, n in ((A_prev, "A_prev"), (W, "W"), (b, "b"), (Z, "Z"))]
        check_linear_shapes(A_prev, W, b, "A_prev")
        if A_prev.shape[1] != AL.shape[1]:
            raise ValueError("caches[%d]: A_prev has %d columns but AL has "
                             "m = %d" % (l - 1, A_prev.shape[1], AL.shape[1]))
        if Z.shape != (W.shape[0], AL.shape[1]):
            raise ValueError("caches[%d]: Z must have shape (n_l, m) = %s, "
                             "got %s" % (l - 1, (W.shape[0], AL.shape[1]),
                                         Z.shape))
        if checked and A_prev.shape[0] != checked[-1][1].shape[0]:
            raise ValueError("caches[%d] does not chain with caches[%d]: "
                             "A_prev has %d rows, the layer before has %d "
                             "units" % (l - 1, l - 2, A_prev.shape[0],
                                        checked[-1][1].shape[0]))
        checked.append(((A_prev, W, b), Z))
    if checked[-1][1].shape != AL.shape:
        raise ValueError("AL has shape %s but the last cache's Z has shape "
                         "%s" % (AL.shape, checked[-1][1].shape))
    return AL, Y, checked


def check_training(X, Y, layers_dims, learning_rate, num_iterations,
                   output="sigmoid"):
    """Validate a training call; returns the arguments converted.

    Y comes back as the (n_L, m) array the loss uses, in X's dtype: 0/1
    for sigmoid, one-hot for softmax, real targets for identity.
    """
    output = check_output(output)
    dims = check_layer_dims(layers_dims, "layers_dims")
    check_output_units(dims, output)
    X = as_matrix(X, "X", shape_hint="(n_x, m)")
    check_X_for_layers(X, dims)
    Y = check_output_labels(Y, (dims[-1], X.shape[1]), X.dtype, output)
    learning_rate = check_learning_rate(learning_rate)
    num_iterations = check_int(num_iterations, "num_iterations", 0)
    return X, Y, dims, learning_rate, num_iterations


def check_two_layer_dims(dims):
    """``two_layer_model``'s ``layers_dims``: exactly (n_x, n_h, n_y)."""
    if len(dims) != 3:
        raise ValueError("layers_dims must be (n_x, n_h, n_y) for "
                         "two_layer_model, got %r" % (list(dims),))


def check_update_input(parameters, grads, learning_rate):
    """Validate ``update_parameters``' arguments.

    Returns ``(parameters, grads, learning_rate)``: new dicts ``{"W1", "b1",
    ...}`` and ``{"dW1", "db1", ...}`` (only the gradients used) with every
    gradient in its parameter's dtype and shape.
    """
    L, Ws, bs = check_parameters(parameters)
    learning_rate = check_learning_rate(learning_rate)
    if not isinstance(grads, dict):
        raise TypeError("grads must be a dict {'dW1': ..., 'db1': ...}, got "
                        "%s" % type(grads).__name__)
    new, checked = {}, {}
    for l in range(1, L + 1):
        for key, P in (("W", Ws[l - 1]), ("b", bs[l - 1])):
            name = "d%s%d" % (key, l)
            if name not in grads:
                raise ValueError("grads has no %r; it must hold dW1, db1, "
                                 "..., dW%d, db%d" % (name, L, L))
            G = as_matrix(grads[name], name, dtype=P.dtype,
                          shape_hint=str(P.shape))
            check_same_shape(G, name, P, "%s%d" % (key, l))
            checked[name] = G
            new[key + str(l)] = P
    return new, checked, learning_rate


def check_cost_input(AL, Y, output="sigmoid"):
    """``compute_cost``'s arguments, Y in AL's dtype.

    sigmoid: AL (1, m) probabilities (one output unit: the cross-entropy of
    several rows is not what the course's formula computes) and labels of
    the same shape (real values allowed, as the course's cost takes them);
    softmax: AL (C, m), Y (1, m) class indices or (C, m) one-hot, returned
    one-hot; identity: AL and Y (n_y, m). The probabilities of sigmoid and
    softmax must lie in [0, 1].
    """
    output = check_output(output)
    AL = as_matrix(AL, "AL", shape_hint="(n_L, m)")
    if output == "sigmoid" and AL.shape[0] != 1:
        check_labels(Y, AL.shape, AL.dtype)  # the labels' error first
        raise ValueError("AL must have shape (1, m) (one sigmoid output "
                         "unit), got %s" % (AL.shape,))
    Y = _cost_labels(Y, AL, output)
    check_output_probabilities(AL, output)
    return AL, Y


def _cost_labels(Y, AL, output, course_reshape=False):
    # The sigmoid's labels as the course's cost and backward pass take them
    # (real values; the backward pass's reshape of m labels); the other
    # outputs' as their training does.
    if output == "sigmoid":
        if course_reshape:
            Y = _course_labels(Y, AL.shape)
        return check_labels(Y, AL.shape, AL.dtype)
    return check_output_labels(Y, AL.shape, AL.dtype, output)


# ------------------------------------------- per-function argument checks
# One function per public signature, so that both backends refuse bad input
# with the same words.

def check_activation_grad(dA, Z):
    """``(dA, Z)`` of an activation's backward pass: same shape (n_l, m)."""
    dA, Z = as_matrices([("dA", dA, "(n_l, m)"), ("cache", Z, "(n_l, m)")])
    check_same_shape(dA, "dA", Z, "cache (Z)")
    return dA, Z


def check_finite_after(result, *named):
    """The deferred finiteness check of the inputs of a matrix product.

    ``named`` is a sequence of ``(array, name)``. A NaN or inf anywhere in
    the input of a matrix product reaches the product (``0 * inf`` is NaN
    too), so a finite ``result`` proves them all finite without another
    pass over them. Otherwise (or when ``result`` is None) they are scanned
    in order and :func:`check_finite`'s error raised for the first bad one;
    finite inputs mean the result overflowed, which is returned as numpy
    would.
    """
    if result is not None and np.isfinite(result).all():
        return
    for arr, name in named:
        check_finite(arr, name)


def check_linear_forward(A, W, b, a_name="A", finite=True):
    """``(A, W, b)`` of ``Z = W A + b``, in one float dtype.

    Structure first (types, shapes), then values, in the order of
    :func:`check_linear_forward_values`. ``finite=False`` leaves the values to
    the caller, who checks them through Z with
    :func:`check_linear_forward_values` (Z carries any NaN or inf of the
    three; A is the large one, the cat images).
    """
    A, W, b = as_matrices([(a_name, A, "(n_{l-1}, m)"),
                           ("W", W, "(n_l, n_{l-1})"),
                           ("b", b, "(n_l, 1)")], finite=False)
    check_linear_shapes(A, W, b, a_name)
    if finite:
        check_linear_forward_values(None, A, W, b, a_name)
    return A, W, b


def check_linear_forward_values(Z, A, W, b, a_name="A"):
    """The values of ``Z = W A + b``'s inputs, W, then b, then A, through
    Z when it is given (see :func:`check_finite_after`)."""
    check_finite_after(Z, (W, "W"), (b, "b"), (A, a_name))


def check_linear_backward(dZ, cache, finite=True):
    """``linear_backward``'s ``(dZ, (A_prev, W, b))``: structure, then
    values (``finite=False`` leaves those to the caller, who checks them
    with :func:`check_linear_backward_values` after its kernel)."""
    A_prev, W, b = unpack_linear_cache(cache)
    dZ, A_prev, W, b = as_matrices([("dZ", dZ, "(n_l, m)"),
                                    ("A_prev", A_prev, "(n_{l-1}, m)"),
                                    ("W", W, "(n_l, n_{l-1})"),
                                    ("b", b, "(n_l, 1)")], finite=False)
    check_linear_shapes(A_prev, W, b, "A_prev")
    if dZ.shape != (W.shape[0], A_prev.shape[1]):
        raise ValueError("dZ must have shape (n_l, m) = %s to match the "
                         "cache, got %s" % ((W.shape[0], A_prev.shape[1]),
                                            dZ.shape))
    if finite:
        check_linear_backward_values(dZ, A_prev, W, b)
    return dZ, A_prev, W, b


def check_linear_backward_values(dZ, A_prev, W, b, kernel_ok=False):
    """The values of ``linear_backward``'s inputs in the order dZ, A_prev,
    W, b; ``kernel_ok`` as in :func:`check_activation_backward_values`."""
    check_finite(dZ, "dZ")
    if not kernel_ok:
        check_finite(A_prev, "A_prev")
        check_finite(W, "W")
    check_finite(b, "b")


def check_activation_backward(dA, cache, activation, table, finite=True):
    """``linear_activation_backward``'s ``(dA, ((A_prev, W, b), Z),
    activation)`` (``table`` is not used: the names are the reference's
    tables'). ``finite=False`` leaves the values to the caller, who checks
    them with :func:`check_activation_backward_values` after its kernel."""
    check_layer_activation(activation, backward=True)
    A_prev, W, b, Z = unpack_activation_cache(cache)
    dA, A_prev, W, b, Z = as_matrices([
        ("dA", dA, "(n_l, m)"), ("A_prev", A_prev, "(n_{l-1}, m)"),
        ("W", W, "(n_l, n_{l-1})"), ("b", b, "(n_l, 1)"),
        ("Z", Z, "(n_l, m)")], finite=False)
    check_linear_shapes(A_prev, W, b, "A_prev")
    if Z.shape != (W.shape[0], A_prev.shape[1]):
        raise ValueError("the cache's Z must have shape (n_l, m) = %s, got %s"
                         % ((W.shape[0], A_prev.shape[1]), Z.shape))
    check_same_shape(dA, "dA", Z, "the cache's Z")
    if finite:
        check_activation_backward_values(dA, A_prev, W, b, Z)
    return dA, A_prev, W, b, Z


def check_activation_backward_values(dA, A_prev, W, b, Z, kernel_ok=False):
    """The values of a layer's backward inputs after structure, in the order
    dA, W, b, Z, A_prev (A_prev last: see check_linear_forward).

    ``kernel_ok`` is the backward kernel's flag that W and dW are finite:
    it spares the scans of W and A_prev (a NaN or inf of A_prev reaches
    dW, whatever the mask did to dZ, ``0 * inf`` being NaN). When it is
    False they are scanned, in their turn; finite, they mean dW overflowed,
    which is returned as numpy would.
    """
    check_finite(dA, "dA")
    if not kernel_ok:
        check_finite(W, "W")
    check_finite(b, "b")
    check_finite(Z, "Z")
    if not kernel_ok:
        check_finite(A_prev, "A_prev")
