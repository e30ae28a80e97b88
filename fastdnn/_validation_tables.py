"""Checks of the names that pick a network's parts: hidden activations,
output layer, initializer, and of the labels each output takes.

The valid names are the keys of the reference's tables
(:data:`fastdnn._reference_activations.ACTIVATIONS`,
:data:`fastdnn._reference_outputs.OUTPUTS`,
:data:`fastdnn._reference_initializers.INITIALIZERS`), so that a new entry
is accepted everywhere at once. Both backends call these functions, so a bad
name raises the same error from either. :mod:`fastdnn._validation`
re-exports them.
"""
from ._reference_activations import ACTIVATIONS
from ._reference_initializers import INITIALIZERS
from ._reference_outputs import OUTPUTS
from ._validation_arrays import check_unit_interval
from ._validation_scalars import check_scale

#: The one activation that only an output layer has.
OUTPUT_ONLY_ACTIVATION = "softmax"


def _choices(table):
    return ", ".join(repr(k) for k in table)


def check_name(value, name, table, what=None, hint=""):
    """``value`` if it is a key of ``table``, else an error naming ``name``.

    Parameters
    ----------
    value : object
        The user's argument.
    name : str
        The argument's name, e.g. ``"output"`` or ``"activation[1]"``.
    table : dict or sequence
        The valid names, in the order the message lists them.
    what : str, optional
        The word after "unknown" (default ``name``).
    hint : str
        Appended to the message (a likely fix).
    """
    if not isinstance(value, str):
        raise TypeError("%s must be a name (str), one of %s; got %r (%s)"
                        % (name, _choices(table), value,
                           type(value).__name__))
    if value not in table:
        raise ValueError("unknown %s %r; choose one of %s%s"
                         % (what or name, value, _choices(table), hint))
    return value


def _activation_hint(value):
    if value == OUTPUT_ONLY_ACTIVATION:
        return (" ('softmax' is an output layer: pass output='softmax' and "
                "a hidden activation)")
    return ""


def check_activation_names(activation, n_hidden):
    """The hidden layers' activations, as a tuple of ``n_hidden`` names.

    Parameters
    ----------
    activation : str or list or tuple of str
        One name for every hidden layer, or one name per hidden layer
        (``L - 1`` of them).
    n_hidden : int
        ``L - 1``, the number of hidden layers.

    Returns
    -------
    tuple of str
    """
    if isinstance(activation, str):
        check_name(activation, "activation", ACTIVATIONS,
                   hint=_activation_hint(activation))
        return (activation,) * n_hidden
    if not isinstance(activation, (list, tuple)):
        raise TypeError(
            "activation must be a name (one of %s) or a list of names, one "
            "per hidden layer; got %r (%s)"
            % (_choices(ACTIVATIONS), activation, type(activation).__name__))
    if len(activation) != n_hidden:
        raise ValueError(
            "activation has %d name(s) but the network has L - 1 = %d hidden "
            "layer(s); give one name per hidden layer, or one name for all"
            % (len(activation), n_hidden))
    for i, a in enumerate(activation):
        check_name(a, "activation[%d]" % i, ACTIVATIONS,
                   hint=_activation_hint(a))
    return tuple(activation)


def check_layer_activation(activation, backward=False):
    """One layer's ``activation`` for ``linear_activation_forward`` (a
    hidden activation or ``"softmax"``) or, with ``backward=True``,
    ``linear_activation_backward`` (a hidden activation: softmax has no
    element-wise backward pass)."""
    names = list(ACTIVATIONS)
    if not backward:
        names.append(OUTPUT_ONLY_ACTIVATION)
    elif activation == OUTPUT_ONLY_ACTIVATION:
        raise ValueError(
            "activation 'softmax' has no separate backward pass: with the "
            "cross-entropy cost its gradient is the fused output gradient "
            "dZ = AL - Y (Y one-hot); use L_model_backward(AL, Y, caches, "
            "output='softmax'), or linear_backward(AL - Y, cache[0])")
    return check_name(activation, "activation", names)


def check_output(output):
    """The output layer's name (a key of ``OUTPUTS``)."""
    hint = ""
    if isinstance(output, str) and output in ACTIVATIONS:
        hint = (" (%r is a hidden activation: pass it as activation=)"
                % output)
    return check_name(output, "output", OUTPUTS, hint=hint)


def check_initialization(initialization):
    """The initializer's name (a key of ``INITIALIZERS``)."""
    return check_name(initialization, "initialization", INITIALIZERS)


def check_output_units(dims, output, name="layers_dims"):
    """The last layer width ``dims[-1]`` must suit ``output`` (1 for
    sigmoid, C >= 2 for softmax, any for identity)."""
    OUTPUTS[output].check_units(dims[-1], "%s (%r)" % (name, list(dims)))


def check_output_labels(Y, AL_shape, dtype, output, name="Y"):
    """Labels for ``output`` as an array of ``AL_shape`` and ``dtype``:
    sigmoid (1, m) of 0/1 (a 1-D vector of m too), softmax (1, m) class
    indices or (C, m) one-hot (returned one-hot), identity (n_y, m) real
    targets."""
    return OUTPUTS[output].labels(Y, AL_shape, dtype, name)


def check_output_probabilities(AL, output):
    """compute_cost's AL in [0, 1] where ``output`` makes probabilities
    (``OUTPUTS[output].probabilities``).

    Out of it (logits passed for AL, say), the clipped cross-entropy would
    be finite and wrong. Neither the labels (the course's two-layer test
    feeds its cost Y = randn, and publishes the result) nor the backward
    pass's AL (its test case feeds it AL = randn) are held to it.
    """
    if OUTPUTS[output].probabilities:
        check_unit_interval(
            AL, "AL", "the %s output's probabilities" % output,
            "pass the output layer's activations, AL = %s(Z), not Z"
            % output)


def check_training_options(dims, activation, initialization, scale):
    """A training call's network options, checked in this order.

    Parameters
    ----------
    dims : list of int
        The checked ``layers_dims``, ``[n_0, ..., n_L]``.
    activation, initialization, scale
        The user's arguments (see :func:`check_activation_names`,
        :func:`check_initialization` and
        :func:`fastdnn._validation_scalars.check_scale`).

    Returns
    -------
    acts : tuple of L-1 str
    initialization : str
    scale : float or None
    """
    acts = check_activation_names(activation, len(dims) - 2)
    initialization = check_initialization(initialization)
    scale = check_scale(scale)
    return acts, initialization, scale


def check_model_names(activation, output, L):
    """``(acts, output)`` of a forward pass, predict or backward pass
    through L layers: the output's name first, then the L-1 hidden
    activations."""
    output = check_output(output)
    return check_activation_names(activation, L - 1), output
