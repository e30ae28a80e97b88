"""The reference backend's training loops (re-exported by
:mod:`fastdnn.reference`), and their bookkeeping, which the numba backend
shares: what is recorded and printed, and when a run has diverged.

Every iteration is the course's: forward pass, cost, backward pass, update.
The backward pass starts from the fused output gradient ``dZ_L = AL - Y``
(one-hot Y for softmax), the exact gradient of each output's own loss, which
stays finite when the output saturates.
"""
import numpy as np

from . import _validation as v
from ._reference_core import (_dAL, _L_model_backward_fused, _L_model_forward,
                              _update_parameters)
from ._reference_initializers import INITIALIZERS, draw_random_state
from ._reference_outputs import OUTPUTS
from ._toolbox_options import check_toolbox
from ._validation_tables import check_training_options


def _record(i, num_iterations, cost, costs, print_cost, callback):
    # costs holds what the course's training loop appends, np.squeeze of
    # the (1, 1) cost: a 0-d array of the training dtype (its
    # L_layer_model_test checks that type and shape). The callback gets a
    # Python float.
    if i % 100 == 0:
        costs.append(np.array(cost).reshape(()))
    if i % 100 == 0 or i == num_iterations - 1:
        if print_cost:
            print("Cost after iteration {}: {}".format(i, np.squeeze(cost)))
        if callback is not None:
            callback(i, float(cost))


def _check_cost(cost, i, learning_rate):
    if not np.isfinite(cost):
        raise FloatingPointError(
            "training diverged: the cost is %s at iteration %d; try a smaller "
            "learning rate than %g" % (float(cost), i, learning_rate))


def _training_dAL(AL, Y, i, learning_rate):
    """The course's sigmoid dAL, a saturated output on a wrong label
    (infinite gradient) reported as a diverged run. The reference's loops
    no longer use it (they start from the fused ``AL - Y``)."""
    try:
        return _dAL(AL, Y)
    except ValueError:
        raise FloatingPointError(
            "training diverged: the output saturated on a wrong label at "
            "iteration %d (infinite gradient); try a smaller learning rate "
            "than %g" % (i, learning_rate)) from None


def _initial_parameters(dims, seed, scale, initialization, acts, dtype):
    rng = draw_random_state(seed)
    parameters = INITIALIZERS[initialization](rng, dims, scale, acts)
    return {k: P.astype(dtype) for k, P in parameters.items()}


def _train(X, Y, dims, learning_rate, num_iterations, print_cost, callback,
           parameters, acts, output):
    costs = []
    cost_of = OUTPUTS[output].cost
    for i in range(num_iterations):
        # A diverging run overflows (weights to inf, then inf - inf = NaN)
        # before its cost stops being finite: that is reported once, by
        # _check_cost's FloatingPointError, not by numpy's warnings first.
        with np.errstate(over="ignore", invalid="ignore"):
            AL, caches = _L_model_forward(X, parameters, acts, output)
            cost = cost_of(AL, Y)
        _check_cost(cost, i, learning_rate)
        with np.errstate(over="ignore", invalid="ignore"):
            grads = _L_model_backward_fused(AL, Y, caches, acts, output)
            parameters = _update_parameters(parameters, grads,
                                            learning_rate)
        _record(i, num_iterations, cost, costs, print_cost, callback)
    return parameters, costs


def _fit(X, Y, layers_dims, learning_rate, num_iterations, print_cost,
         callback, seed, activation, output, initialization, scale,
         two_layer, toolbox_options):
    X, Y, dims, learning_rate, num_iterations = v.check_training(
        X, Y, layers_dims, learning_rate, num_iterations, output)
    if two_layer:
        v.check_two_layer_dims(dims)
    acts, initialization, scale = check_training_options(
        dims, activation, initialization, scale)
    # After the existing checks, as the jit backend does: both raise the
    # same error first for the same bad call.
    toolbox = check_toolbox(seed=seed, m=X.shape[1], **toolbox_options)
    parameters = _initial_parameters(dims, seed, scale, initialization, acts,
                                     X.dtype)
    if toolbox.is_default:
        # Plain full-batch gradient descent: the course's loop, today's
        # numbers bit for bit.
        return _train(X, Y, dims, learning_rate, num_iterations, print_cost,
                      callback, parameters, acts, output)
    # Imported here: the toolbox loop uses this module's bookkeeping.
    from ._reference_toolbox import train_toolbox
    return train_toolbox(X, Y, learning_rate, num_iterations, print_cost,
                         callback, parameters, acts, output, toolbox)


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                    num_iterations=3000, print_cost=False, *, callback=None,
                    seed=1, activation="relu", output="sigmoid",
                    initialization="random", scale=None, optimizer="gd",
                    beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8,
                    mini_batch_size=None, lambd=0.0, keep_prob=1.0,
                    decay=None, decay_rate=1.0):
    """Train LINEAR -> ACTIVATION -> LINEAR -> OUTPUT by gradient descent
    (by default the course's LINEAR -> RELU -> LINEAR -> SIGMOID).

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray
        Labels for ``output``: sigmoid (1, m) of 0/1 (or a 1-D vector of m);
        softmax (1, m) class indices 0..n_y-1 or an (n_y, m) one-hot matrix;
        identity (n_y, m) real targets.
    layers_dims : (n_x, n_h, n_y)
    learning_rate : float
    num_iterations : int
    print_cost : bool
        Print "Cost after iteration i: c" every 100 iterations and at the
        last one.
    callback : callable, optional
        ``callback(i, cost)``, called where the cost would be printed.
    seed : int, RandomState or Generator
        Seed of the initial parameters (default 1, the course's) and, with
        mini-batches or dropout, of the permutations and masks (an int).
    activation : str or sequence of one str
        The hidden layer's activation: ``"relu"`` (default), ``"sigmoid"``,
        ``"tanh"``, ``"leaky_relu"`` or ``"identity"``.
    output : {"sigmoid", "softmax", "identity"}
        The output layer, which fixes the cost: binary cross-entropy,
        categorical cross-entropy or half the mean squared error.
    initialization : str
        A name of :func:`fastdnn.reference.initialize_parameters_deep`.
        The default ``"random"`` (``randn * 0.01``) is the course's
        ``initialize_parameters``.
    scale : float, optional
        The initializer's weight scale (see ``initialize_parameters_deep``).
    optimizer : {"gd", "momentum", "nesterov", "rmsprop", "adam"}
        The update rule (see :data:`fastdnn.reference.OPTIMIZERS`); default
        ``"gd"``, plain gradient descent.
    beta : float in [0, 1)
        Momentum's (and Nesterov's) velocity decay.
    beta1, beta2 : float in [0, 1)
        Adam's first and second moment decays; ``beta2`` is also RMSprop's.
    epsilon : float > 0
        RMSprop's and Adam's denominator guard.
    mini_batch_size : None or int >= 1
        None (default): every iteration is one full-batch update, columns
        in order. An int: each iteration is a pass over a fresh
        permutation of the examples (``RandomState(seed + pass + 1)``, the
        course's), one update per batch, complete batches then the
        remainder; ``seed`` must then be an int.
    lambd : float >= 0
        L2 strength: the cost gains ``lambd / (2 mb) * sum ||W_l||^2`` and
        ``dW_l`` gains ``lambd / mb * W_l`` (mb the batch's size; biases
        are not decayed).
    keep_prob : float in (0, 1]
        Inverted dropout on the hidden layers: each unit is kept with this
        probability (masks drawn from ``seed``, the layer and the update
        count, identical in both backends) and the kept ones scaled by
        ``1 / keep_prob``; ``seed`` must be an int when < 1.
    decay : None or callable
        ``decay(learning_rate0, epoch_num, decay_rate)`` gives the learning
        rate of pass ``epoch_num + 1`` (e.g. :func:`update_lr` or
        :func:`schedule_lr_decay`); pass 0 uses ``learning_rate``.
    decay_rate : float >= 0
        Handed to ``decay``.

    Returns
    -------
    parameters : dict
    costs : list of 0-d ndarray
        The cost at every iteration ``i`` with ``i % 100 == 0``, as the
        course records it (``np.squeeze(cost)``, a 0-d array of the training
        dtype); ``float(c)`` or ``np.asarray(costs)`` give plain numbers.
        With mini-batches an iteration's cost is the course's ``cost_total
        / m``: the batches' costs weighted by their sizes.

    Raises
    ------
    FloatingPointError
        When the cost stops being finite (the run diverged).
    """
    return _fit(X, Y, layers_dims, learning_rate, num_iterations,
                print_cost, callback, seed, activation, output,
                initialization, scale, two_layer=True,
                toolbox_options=dict(
                    optimizer=optimizer, beta=beta, beta1=beta1, beta2=beta2,
                    epsilon=epsilon, mini_batch_size=mini_batch_size,
                    lambd=lambd, keep_prob=keep_prob, decay=decay,
                    decay_rate=decay_rate))


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                  num_iterations=3000, print_cost=False, *, callback=None,
                  seed=1, activation="relu", output="sigmoid",
                  initialization="xavier", scale=None, optimizer="gd",
                  beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8,
                  mini_batch_size=None, lambd=0.0, keep_prob=1.0,
                  decay=None, decay_rate=1.0):
    """Train [LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT (by default
    the course's [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID).

    Initialised with :func:`fastdnn.reference.initialize_parameters_deep`
    (``seed``, default 1; ``initialization``, default ``"xavier"``: ``randn
    / sqrt(n_{l-1})``). Parameters and returns as :func:`two_layer_model`,
    with ``layers_dims = [n_x, n_1, ..., n_L]`` and ``activation`` one name
    for every hidden layer or one per hidden layer (L-1 names).
    """
    return _fit(X, Y, layers_dims, learning_rate, num_iterations,
                print_cost, callback, seed, activation, output,
                initialization, scale, two_layer=False,
                toolbox_options=dict(
                    optimizer=optimizer, beta=beta, beta1=beta1, beta2=beta2,
                    epsilon=epsilon, mini_batch_size=mini_batch_size,
                    lambd=lambd, keep_prob=keep_prob, decay=decay,
                    decay_rate=decay_rate))
