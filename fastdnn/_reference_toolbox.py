"""The reference's training loop with the training toolbox: optimizers,
mini-batches, L2, dropout and a learning rate per pass, the course's loop
written plainly ("Regularization" and "Optimization Methods", Course 2).

Each pass ``p`` over the training set takes its learning rate from
:func:`fastdnn._toolbox_options.learning_rates` and its examples in order
(full batch) or in the order of :func:`~fastdnn._toolbox_options.
pass_permutation`, cut by :func:`~fastdnn._toolbox_options.batch_bounds`.
Each batch makes one update: the forward pass with dropout on the hidden
layers, the cost plus the L2 term, the backward pass from the fused ``dZ_L
= AL - Y`` with dropout's masks and the L2 gradient, and the optimizer's
step (:data:`fastdnn._reference_optimizers.OPTIMIZERS`). ``step`` counts
the updates of the whole run from 0: the dropout masks and Adam's bias
correction (``t = step + 1``) use it.

The recorded cost of a pass is the update's cost in full batch, else the
course's ``cost_total / m``: the sum over the batches of each batch's cost
times its size, over m.
"""
import numpy as np

from ._reference_core import (_linear_activation_forward, _linear_backward,
                              _linear_activation_backward, _linear_forward)
from ._reference_optimizers import OPTIMIZERS
from ._reference_outputs import OUTPUTS
from ._reference_training import _check_cost, _record
from ._toolbox_options import (batch_bounds, dropout_mask, learning_rates,
                               pass_permutation)


def _forward(X, parameters, acts, output, keep_prob, seed, step):
    """The forward pass with inverted dropout on the hidden layers.

    Returns ``(AL, caches, masks)``: the caches as the reference's
    ``L_model_forward`` (each layer's ``((A_prev, W, b), Z)``, A_prev
    after dropout) and the masks of the hidden layers (empty without
    dropout).
    """
    L = len(parameters) // 2
    caches, masks = [], []
    A = X
    for l in range(1, L):
        A, cache = _linear_activation_forward(
            A, parameters["W" + str(l)], parameters["b" + str(l)],
            acts[l - 1])
        caches.append(cache)
        if keep_prob < 1.0:
            D = dropout_mask(seed, l, step, A.shape[0], A.shape[1],
                             keep_prob)
            # The course's inverted dropout: shut the units, then scale
            # the kept ones so that A's expectation is unchanged.
            A = A * D
            A = A / keep_prob
            masks.append(D)
    Z, linear_cache = _linear_forward(A, parameters["W" + str(L)],
                                      parameters["b" + str(L)])
    AL = OUTPUTS[output].forward(Z)
    caches.append((linear_cache, Z))
    return AL, caches, masks


def _l2_cost(parameters, lambd, mb):
    """The course's ``(1/m) * (lambd/2) * sum_l sum(W_l**2)``, m the
    batch's size."""
    L = len(parameters) // 2
    total = 0.0
    for l in range(1, L + 1):
        total = total + np.sum(np.square(parameters["W" + str(l)]))
    return (1 / mb) * (lambd / 2) * total


def _backward(AL, Y, caches, acts, output, masks, keep_prob, lambd,
              parameters):
    """The gradients ``dW1, db1, ..., dWL, dbL`` of the batch's cost: the
    fused ``dZ_L = AL - Y``, each hidden layer's ``dA`` through its
    dropout mask, ``dW_l += lambd / mb * W_l`` for L2."""
    L = len(caches)
    mb = AL.shape[1]
    grads = {}
    dA, grads["dW" + str(L)], grads["db" + str(L)] = _linear_backward(
        OUTPUTS[output].dZ(AL, Y), caches[L - 1][0])
    for l in reversed(range(1, L)):
        if masks:
            # The forward pass's mask and scale: the units it shut get no
            # gradient.
            dA = dA * masks[l - 1]
            dA = dA / keep_prob
        dA, grads["dW" + str(l)], grads["db" + str(l)] = (
            _linear_activation_backward(dA, caches[l - 1], acts[l - 1]))
    if lambd > 0:
        for l in range(1, L + 1):
            grads["dW" + str(l)] = (grads["dW" + str(l)]
                                    + lambd / mb * parameters["W" + str(l)])
    return grads


def _batches(X, Y, toolbox, p):
    """The (X, Y) batches of pass ``p``."""
    if toolbox.mini_batch_size is None:
        return [(X, Y)]
    m = X.shape[1]
    perm = pass_permutation(toolbox.seed, p, m)
    return [(X[:, perm[start:stop]], Y[:, perm[start:stop]])
            for start, stop in batch_bounds(m, toolbox.mini_batch_size)]


def train_toolbox(X, Y, learning_rate, num_iterations, print_cost, callback,
                  parameters, acts, output, toolbox):
    """Train ``parameters`` for ``num_iterations`` passes with the options
    of ``toolbox`` (a :class:`fastdnn._toolbox_options.Toolbox`).

    Arguments are checked already (``Y`` in the output's layout, one-hot
    for softmax). Returns ``(parameters, costs)`` as the reference's
    ``_train``: the pass costs recorded, printed and handed to
    ``callback`` every 100 passes and at the last one.

    Raises
    ------
    FloatingPointError
        When a batch's cost or a pass's cost is not finite.
    """
    rates = learning_rates(learning_rate, num_iterations, toolbox)
    optimizer = OPTIMIZERS[toolbox.optimizer]
    state = optimizer.init_state(parameters)
    cost_of = OUTPUTS[output].cost
    full = toolbox.mini_batch_size is None
    m = X.shape[1]
    costs = []
    step = 0
    for p in range(num_iterations):
        # A Python float: a numpy float64 scalar would promote float32
        # parameters to float64.
        lr = float(rates[p])
        cost_total = 0.0
        for Xb, Yb in _batches(X, Y, toolbox, p):
            mb = Xb.shape[1]
            # As the reference's _train: a diverging run is reported once,
            # by _check_cost, not by numpy's overflow warnings first.
            with np.errstate(over="ignore", invalid="ignore"):
                AL, caches, masks = _forward(Xb, parameters, acts, output,
                                             toolbox.keep_prob, toolbox.seed,
                                             step)
                cost = cost_of(AL, Yb)
            # No update from a non-finite cost.
            _check_cost(cost, p, learning_rate)
            with np.errstate(over="ignore", invalid="ignore"):
                if toolbox.lambd > 0:
                    cost = cost + _l2_cost(parameters, toolbox.lambd, mb)
                grads = _backward(AL, Yb, caches, acts, output, masks,
                                  toolbox.keep_prob, toolbox.lambd,
                                  parameters)
                parameters, state = optimizer.update(
                    parameters, grads, state, step + 1, lr, toolbox)
                if full:
                    cost_total = cost
                else:
                    cost_total = cost_total + cost * mb
            step += 1
        pass_cost = cost_total if full else cost_total / m
        pass_cost = np.array(pass_cost, dtype=X.dtype)
        _check_cost(pass_cost, p, learning_rate)
        _record(p, num_iterations, pass_cost, costs, print_cost, callback)
    return parameters, costs
