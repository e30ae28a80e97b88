"""The training toolbox's options, checked once for both backends, and the
pieces of a run that both backends must compute identically: the learning
rate of each pass, the permutation of each pass, the mini-batch bounds and
the dropout masks.

A run is a number of passes over the training set (the training functions'
``num_iterations``). With ``mini_batch_size=None`` a pass is one full-batch
update, the course's gradient descent. With an integer ``k`` pass ``p``
shuffles the columns with :func:`pass_permutation` and makes one update per
batch of :func:`batch_bounds`; ``step``, the update counter that the
dropout masks and Adam's bias correction use, runs over the whole run.
"""
import dataclasses
import math
import numbers

import numpy as np

from ._validation_scalars import (SEED_MAX, _is_bool, check_int,
                                  check_positive_real)
from ._validation_tables import check_name

#: Every optimizer, in the order messages list them: the course's five,
#: then scikit-learn's MLP update rules (used by the estimators):
#: ``"sgd_sklearn"`` ``v = beta * v - lr * dP; P += v``,
#: ``"nesterov_sklearn"`` the same ``v`` then ``P += beta * v - lr * dP``,
#: ``"adam_sklearn"`` Adam with the bias corrections folded into the rate,
#: ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``, and epsilon added
#: to the uncorrected ``sqrt(s)``: ``P -= lr_t * v / (sqrt(s) + epsilon)``.
OPTIMIZER_NAMES = ("gd", "momentum", "nesterov", "rmsprop", "adam",
                   "sgd_sklearn", "nesterov_sklearn", "adam_sklearn")

#: The course's optimizers (its notebooks' update functions).
COURSE_OPTIMIZERS = OPTIMIZER_NAMES[:5]

#: Optimizers that keep a velocity ``v`` (the first moment).
WITH_VELOCITY = ("momentum", "nesterov", "adam", "sgd_sklearn",
                 "nesterov_sklearn", "adam_sklearn")

#: Optimizers that keep a second moment ``s``. The others' compiled
#: updates are given ``None`` for it and hold none of its code.
WITH_SECOND_MOMENT = ("rmsprop", "adam", "adam_sklearn")

#: Optimizers whose update is linear in the gradient, which keeps W1 in
#: span(W1_0, rows of X^T): the ones the dual form trains exactly.
EXACT_IN_GRAM = ("gd", "momentum", "nesterov")


@dataclasses.dataclass(frozen=True)
class Toolbox:
    """The checked toolbox options of one training run (see
    :func:`check_toolbox`)."""

    optimizer: str = "gd"
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    mini_batch_size: object = None
    lambd: float = 0.0
    keep_prob: float = 1.0
    decay: object = None
    decay_rate: float = 1.0
    seed: object = 1

    @property
    def is_default(self):
        """True for plain full-batch gradient descent without L2, dropout
        or decay: the course's loop, run by the existing solvers."""
        return (self.optimizer == "gd" and self.mini_batch_size is None
                and self.lambd == 0.0 and self.keep_prob == 1.0
                and self.decay is None)

    @property
    def exact_in_gram(self):
        """Whether the dual form reproduces this run exactly."""
        return self.optimizer in EXACT_IN_GRAM


def _real_in(value, name, low, high, low_open, high_open):
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a real number, got %r (%s)"
                        % (name, value, type(value).__name__))
    f = float(value)
    ok = (np.isfinite(f) and (f > low if low_open else f >= low)
          and (f < high if high_open else f <= high))
    if not ok:
        raise ValueError("%s must be in %s%g, %g%s, got %r"
                         % (name, "(" if low_open else "[", low, high,
                            ")" if high_open else "]", value))
    return f


def check_toolbox(*, optimizer="gd", beta=0.9, beta1=0.9, beta2=0.999,
                  epsilon=1e-8, mini_batch_size=None, lambd=0.0,
                  keep_prob=1.0, decay=None, decay_rate=1.0, seed=1, m=None):
    """Check the toolbox keywords of a training function.

    Parameters
    ----------
    optimizer : {"gd", "momentum", "nesterov", "rmsprop", "adam", \
"sgd_sklearn", "nesterov_sklearn", "adam_sklearn"}
    beta, beta1, beta2 : float in [0, 1)
        Momentum's (the sklearn rules' ``momentum`` too), Adam's first and
        second moment decay (``beta2`` is also RMSprop's).
    epsilon : float > 0
    mini_batch_size : None or int >= 1
        None: full batch (no shuffling). Larger than m: one shuffled batch.
    lambd : float >= 0
        L2 strength.
    keep_prob : float in (0, 1]
        Dropout's keep probability on the hidden layers.
    decay : None or callable
        ``decay(learning_rate0, epoch_num, decay_rate) -> learning_rate``.
    decay_rate : float >= 0
    seed : int, RandomState or Generator
        The run's seed; an int is needed for mini-batches and dropout.
    m : int
        The number of training examples.

    Returns
    -------
    Toolbox

    Raises
    ------
    TypeError, ValueError
        Naming the argument and what it accepts.
    """
    check_name(optimizer, "optimizer", OPTIMIZER_NAMES)
    beta = _real_in(beta, "beta", 0.0, 1.0, False, True)
    beta1 = _real_in(beta1, "beta1", 0.0, 1.0, False, True)
    beta2 = _real_in(beta2, "beta2", 0.0, 1.0, False, True)
    epsilon = check_positive_real(epsilon, "epsilon")
    if mini_batch_size is not None:
        mini_batch_size = check_int(mini_batch_size, "mini_batch_size", 1)
    lambd = _real_in(lambd, "lambd", 0.0, math.inf, False, True)
    keep_prob = _real_in(keep_prob, "keep_prob", 0.0, 1.0, True, False)
    if decay is not None and not callable(decay):
        raise TypeError("decay must be None or a callable decay(learning_"
                        "rate0, epoch_num, decay_rate), got %r (%s)"
                        % (decay, type(decay).__name__))
    decay_rate = _real_in(decay_rate, "decay_rate", 0.0, math.inf, False,
                          True)
    if mini_batch_size is not None or keep_prob < 1.0:
        if isinstance(seed, (np.random.RandomState, np.random.Generator)):
            raise TypeError(
                "seed must be an int when mini_batch_size or keep_prob is "
                "set (the permutations and dropout masks are drawn from "
                "seed + pass and a counter); got a %s"
                % type(seed).__name__)
        seed = check_int(seed, "seed", 0, SEED_MAX)
    return Toolbox(optimizer, beta, beta1, beta2, epsilon, mini_batch_size,
                   lambd, keep_prob, decay, decay_rate, seed)


def learning_rates(learning_rate0, num_passes, toolbox):
    """The learning rate of each pass, float64 of shape (num_passes,).

    Pass 0 uses ``learning_rate0``; with a ``decay`` pass p >= 1 uses
    ``decay(learning_rate0, p - 1, decay_rate)``, as the course's model,
    which updates the rate after each epoch. Every value the callable
    returns is checked (a finite real > 0).
    """
    rates = np.full(num_passes, float(learning_rate0))
    decay = toolbox.decay
    if decay is not None:
        for p in range(1, num_passes):
            value = decay(learning_rate0, p - 1, toolbox.decay_rate)
            rates[p] = check_positive_real(
                value, "decay(learning_rate0, %d, decay_rate)" % (p - 1))
    return rates


def pass_permutation(seed, p, m):
    """The column order of pass ``p`` (0-based): ``RandomState(seed + p +
    1).permutation(m)``, int64 of shape (m,) (the course's model seeds
    ``seed + 1`` before its first epoch and adds 1 per epoch)."""
    state = np.random.RandomState((int(seed) + int(p) + 1) % (SEED_MAX + 1))
    return state.permutation(m).astype(np.int64)


def batch_starts_stops(m, mini_batch_size):
    """The batches of a pass as two int64 arrays ``(starts, stops)``:
    complete batches of ``mini_batch_size`` columns, then the remainder
    (the course's ``random_mini_batches``); one batch of m for None. The
    compiled training loops take these (a pass of 60,000 examples in
    batches of 32: 6 us, against 0.4 ms through a list of pairs)."""
    if mini_batch_size is None or mini_batch_size >= m:
        return np.zeros(1, np.int64), np.full(1, m, np.int64)
    starts = np.arange(0, m, mini_batch_size, dtype=np.int64)
    return starts, np.minimum(starts + mini_batch_size, m)


def batch_bounds(m, mini_batch_size):
    """``[(start, stop), ...]`` of a pass (Python ints): the batches of
    :func:`batch_starts_stops`."""
    starts, stops = batch_starts_stops(m, mini_batch_size)
    return list(zip(starts.tolist(), stops.tolist()))


# splitmix64 (Steele, Lea and Flood 2014): a counter-based generator whose
# every output is a pure function of its counter, so numba computes the
# same bits without sharing any state with numpy. All arithmetic is on
# uint64 and wraps.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
#: 2**-53: the top 53 bits of a draw give a float64 in [0, 1).
UNIT = 1.0 / 9007199254740992.0


def mix64(z):
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    # numpy warns on wrapping scalar products, never on array ones; the
    # wrap is the algorithm.
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * MIX1
        z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


def dropout_key(seed, layer, step):
    """The stream key of layer ``layer``'s mask at update ``step``
    (a uint64 array of shape (1,))."""
    with np.errstate(over="ignore"):
        key = mix64(np.array([seed], dtype=np.uint64) ^ GOLDEN)
        key = mix64(key + np.uint64(layer))
        return mix64(key + np.uint64(step))


def dropout_uniform(seed, layer, step, n_rows, n_cols):
    """Uniform draws in [0, 1) of shape (n_rows, n_cols) for layer
    ``layer`` at update ``step``: element (i, j) is
    ``mix64(key + (i * n_cols + j + 1) * GOLDEN) >> 11`` times 2**-53."""
    key = dropout_key(seed, layer, step)
    counter = np.arange(1, n_rows * n_cols + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        bits = mix64(key + counter * GOLDEN) >> np.uint64(11)
    return (bits.astype(np.float64) * UNIT).reshape(n_rows, n_cols)


def dropout_mask(seed, layer, step, n_rows, n_cols, keep_prob):
    """The kept units (bool, (n_rows, n_cols)): uniform < keep_prob."""
    return dropout_uniform(seed, layer, step, n_rows, n_cols) < keep_prob
