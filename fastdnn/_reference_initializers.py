"""Initial weights by name: the table both backends draw their parameters
from.

Each initializer is ``fn(rng, layer_dims, scale, activation) -> parameters``:

- ``rng``: a ``np.random.RandomState`` or ``np.random.Generator``, drawn
  from in the order W1, b1, W2, b2, ... (only the draws an initializer makes
  are taken, so a zero bias draws nothing);
- ``layer_dims``: validated ``[n_0, n_1, ..., n_L]``;
- ``scale``: None or a finite float > 0 (validated);
- ``activation``: the tuple of the L-1 hidden activation names (validated),
  which only ``"glorot_uniform"`` looks at.

The result is ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}`` in float64.
"""
import threading

import numpy as np

from ._validation_scalars import SEED_MAX, check_int

#: The weight scale of ``"random"`` when ``scale`` is None (the course's
#: ``randn * 0.01``).
RANDOM_SCALE = 0.01


def random_state(seed):
    """The random source of ``seed``: a RandomState or Generator as given,
    else ``np.random.RandomState(seed)`` (the numbers of the course's
    ``np.random.seed(seed)``, numpy's global state left alone)."""
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    return np.random.RandomState(check_int(seed, "seed", 0, SEED_MAX))


#: One RandomState per thread, reseeded by :func:`draw_random_state`.
_REUSED = threading.local()


def draw_random_state(seed):
    """:func:`random_state` for a caller that draws from it only before it
    returns (the initializers of this table): for an int ``seed``, this
    thread's one RandomState, reseeded. ``RandomState(seed)`` and
    ``.seed(seed)`` set the same state (the legacy seeding of MT19937,
    no cached normal draw), but building one first seeds a new bit
    generator through a SeedSequence, 100-200 us a fit, where reseeding
    takes 2 us. Not for a RandomState that outlives the call: the next
    call on the thread reseeds it."""
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    seed = check_int(seed, "seed", 0, SEED_MAX)
    rng = getattr(_REUSED, "rng", None)
    if rng is None:
        rng = _REUSED.rng = np.random.RandomState(seed)
    else:
        rng.seed(seed)
    return rng


def randn(rng, *shape):
    """Standard normal draws of ``shape`` from a RandomState or Generator
    (a RandomState gives ``np.random.seed``'s numbers: ``rng.randn``)."""
    if isinstance(rng, np.random.Generator):
        return rng.standard_normal(shape)
    return rng.randn(*shape)


def _layers(layer_dims):
    return range(1, len(layer_dims))


def xavier(rng, layer_dims, scale, activation):
    """``randn / sqrt(n_{l-1})`` (the seed document's, which trains); with
    ``scale`` given, ``randn * scale``. Biases 0."""
    parameters = {}
    for l in _layers(layer_dims):
        W = randn(rng, layer_dims[l], layer_dims[l - 1])
        if scale is None:
            W = W / np.sqrt(layer_dims[l - 1])
        else:
            W = W * scale
        parameters["W" + str(l)] = W
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def he(rng, layer_dims, scale, activation):
    """``randn * sqrt(2 / n_{l-1})`` (He et al., for ReLU layers). Biases 0.
    ``scale``, when given, multiplies the weights."""
    parameters = {}
    for l in _layers(layer_dims):
        W = randn(rng, layer_dims[l], layer_dims[l - 1])
        W = W * np.sqrt(2. / layer_dims[l - 1])
        if scale is not None:
            W = W * scale
        parameters["W" + str(l)] = W
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def random(rng, layer_dims, scale, activation):
    """``randn * scale``, ``scale`` 0.01 by default (the course's
    initialisation notebook also tries 10). Biases 0."""
    if scale is None:
        scale = RANDOM_SCALE
    parameters = {}
    for l in _layers(layer_dims):
        parameters["W" + str(l)] = randn(rng, layer_dims[l],
                                         layer_dims[l - 1]) * scale
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def zeros(rng, layer_dims, scale, activation):
    """Every weight and bias 0 (draws nothing; ``scale`` is ignored). The
    course's example of a network that cannot break symmetry."""
    parameters = {}
    for l in _layers(layer_dims):
        parameters["W" + str(l)] = np.zeros((layer_dims[l],
                                             layer_dims[l - 1]))
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def glorot_uniform(rng, layer_dims, scale, activation):
    """scikit-learn MLP's initialisation, to start from its weights.

    Per layer ``bound = sqrt(factor / (n_{l-1} + n_l))`` with ``factor``
    2 when the hidden activation is ``"sigmoid"`` (sklearn's
    ``"logistic"``), else 6; ``coef = uniform(-bound, bound, (n_{l-1},
    n_l))`` then ``intercept = uniform(-bound, bound, n_l)``, drawn in that
    order; ``W_l = coef.T`` and ``b_l = intercept`` as a column. ``scale``,
    when given, multiplies weights and biases.

    sklearn uses one activation for every layer's factor, the output
    layer's included. With one activation per hidden layer, a hidden layer
    takes its own, the output layer the last hidden layer's; a network
    without hidden layers uses 6 (sklearn's default activation is relu).
    """
    parameters = {}
    n_hidden = len(layer_dims) - 2
    for l in _layers(layer_dims):
        fan_in, fan_out = layer_dims[l - 1], layer_dims[l]
        act = activation[min(l, n_hidden) - 1] if n_hidden else "relu"
        factor = 2.0 if act == "sigmoid" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rng.uniform(-bound, bound, (fan_in, fan_out))
        intercept = rng.uniform(-bound, bound, fan_out)
        W = np.ascontiguousarray(coef.T)
        b = intercept.reshape(fan_out, 1)
        if scale is not None:
            W, b = W * scale, b * scale
        parameters["W" + str(l)] = W
        parameters["b" + str(l)] = b
    return parameters


#: Initializers by name (the first, ``"xavier"``, is the default).
INITIALIZERS = {
    "xavier": xavier,
    "he": he,
    "random": random,
    "zeros": zeros,
    "glorot_uniform": glorot_uniform,
}
