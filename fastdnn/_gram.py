"""The dual-form ("gram") solver for full-batch gradient descent.

For full-batch, plain gradient descent the first layer sees the inputs only
through ``Z1 = W1 X + b1``, and every update adds ``-(lr/m) dZ1 X^T`` to
``W1`` and ``-(lr/m) dZ1 1`` to ``b1``. So

    Z1 <- Z1 - (lr/m) dZ1 (G + 1 1^T),    G = X^T X   (m x m, computed once)

and ``W1``, ``b1`` never need to exist during training: the solver keeps
``S``, the sum of every iteration's ``dZ1``, and rebuilds

    W1 = W1_0 - (lr/m) S X^T,    b1 = b1_0 - (lr/m) S 1

when :meth:`GramSolver.parameters` is called. One iteration costs about
``n_1 m^2`` multiply-adds for the first layer instead of the primal form's
``2 n_1 n_x m``; with the cat images (``n_x = 12288``, ``m = 209``) that is
~120 times less work. Layers 2..L are small and are trained as usual, in the
same compiled loop; under a threading layer with cheap launches (OpenMP,
TBB) the Z1 update runs on two threads in fixed column chunks (each block
of Z1 computed by the same code whichever thread runs it, so the results
are those of one thread, bit for bit).

Limits, on purpose:

- full-batch, plain gradient descent only (mini-batches, momentum,
  Nesterov, L2, learning-rate schedules and dropout keep W1 in the span of
  W1_0 and X's columns too, but need more state: they are
  :class:`fastdnn._gram_toolbox.GramToolboxSolver`'s, exported here);
- extra memory is O(m^2): ``K = X^T X + 1 1^T`` is ``m x m`` in the training
  dtype (350 kB for m = 209, 800 MB for m = 10000 in float64), on top of the
  O(n_1 m) state. :func:`gram_pays` says when the trade is worth it.

Nothing here depends on what follows the first layer's linear part: the
hidden activations (relu, sigmoid, tanh, leaky relu, identity, one per
layer) and the output (sigmoid, softmax or identity, each with its cost)
only change how ``dZ1`` is computed from ``Z1``, and a single-layer
network (``[n_x, n_L]``: logistic, softmax or linear regression) is the
output layer in dual form. The numbers are those of
:func:`fastdnn.reference.L_layer_model` up to rounding: the same formulas
(the tables' activations and costs, and the training loop's output
gradient ``dZ_L = AL - Y``) evaluated in the training dtype, the costs
summed in float64. A diverging run ends as the primal solver's does (the
same error at the same iteration), see below.

Where the dual form cannot represent what the primal one can, it hands over
to it (:class:`fastdnn._primal.PrimalSolver`) instead of returning another
model: when ``X^T X`` overflows (``|X|`` above ~1e154 in float64), from the
start; when a pre-activation stops being finite during training (``dZ1 K``
overflowed, or ``W1 X`` really did, or a later layer's sums), from the
iteration where it happens, whose starting state (``W1`` rebuilt from
``S``) the primal solver takes up: which of inf and NaN an overflowing run
gets, and so which error it raises, depends on the order of its sums.

Every product over X (``X^T X``, ``W1 X``, ``S X^T``) is computed by
fastdnn's own kernels in a summation order fixed by the shapes: results do
not depend on the number of threads, and no process-wide BLAS setting is
read or changed.
"""
import numpy as np

from . import _gram_kernels as gk
from . import _kernels as kern
from . import _numba_config as cfg
from . import _validation as v
from . import reference as _ref
from ._primal import PrimalSolver
from ._validation_tables import check_output_labels

#: Output names by code, for the labels' checks.
_OUTPUT_NAMES = {code: name for name, code in kern.OUT_BY_NAME.items()}

# The compiled Z1 update, under the names the tests use.
_z1_update = gk.z1_update
_z1_update_parallel = gk.z1_update_parallel


def gram_pays(n_x, m, layer_dims=None):
    """Whether the dual form is expected to train faster than the primal one.

    Per iteration the primal form spends ``2 n_1 n_x m`` multiply-adds on the
    first layer (forward ``W1 X`` and ``dW1 = dZ1 X^T``; ``dA0`` is never
    needed), the dual form ``n_1 m^2`` (``dZ1 K``) plus a one-time
    ``n_x m^2 / 2`` for ``X^T X``: by flops the dual form pays while
    ``m < 2 n_x``. Measured per iteration (layers [n_x, 20, 7, 5, 1], 2-core
    Zen 3): m = 1000, n_x = 256 / 512 / 1024: primal 1.4 / 1.95 / 4.7 ms,
    gram 2.0 / 1.6 / 1.7 ms; m = 4000, n_x = 2048: 26 ms both. The
    break-even is where the flops put it, so the rule is ``m <= 2 n_x``
    (those gram times were measured with its Z1 update on one core; on two
    it is faster still, which only moves the break-even in its favour), and
    it refuses an m whose K would take more than 2 GiB in float64.

    Parameters
    ----------
    n_x : int
        Input features.
    m : int
        Training examples.
    layer_dims : sequence of int, optional
        ``[n_x, n_1, ..., n_L]``; unused by the rule (``n_1`` cancels out),
        accepted so that callers can pass what they have.

    Returns
    -------
    bool
    """
    n_x = v.check_int(n_x, "n_x", 1)
    m = v.check_int(m, "m", 1)
    if m * m * 8 > _MAX_K_BYTES:
        return False
    return m <= 2 * n_x


#: The largest K (in float64 bytes) that :func:`gram_pays` accepts.
_MAX_K_BYTES = 2 * 1024 ** 3


# ------------------------------------------------------------ the solver

def _padded(n, block):
    return -(-n // block) * block


def _check_codes(acts, output, L):
    """``(acts, output)`` as a tuple of L-1 activation codes and an output
    code; ValueError for a wrong count or an unknown code."""
    if acts is None:
        acts = (kern.ACT_RELU,) * (L - 1)
    acts = tuple(acts)
    if len(acts) != L - 1:
        raise ValueError("acts must hold one activation code per hidden "
                         "layer (%d), got %d" % (L - 1, len(acts)))
    for a in acts:
        if isinstance(a, bool) or a not in kern.ACT_ALL:
            raise ValueError("acts must hold activation codes %s, got %r"
                             % (kern.ACT_ALL, a))
    if isinstance(output, bool) or output not in kern.OUT_ALL:
        raise ValueError("output must be an output code %s, got %r"
                         % (kern.OUT_ALL, output))
    return tuple(int(a) for a in acts), int(output)


class GramSolver:
    """Full-batch gradient descent on ``[LINEAR -> ACTIVATION] x (L-1) ->
    LINEAR -> OUTPUT`` with the first layer in dual form.

    Extra memory is O(m^2): the ``m x m`` matrix ``K = X^T X + 1 1^T`` in
    the training dtype, plus O(n_1 m) state (``Z1``, ``dZ1``, ``S``) and the
    small layers' activations. ``X^T`` is kept (a view of a Fortran-ordered
    X such as the course's, else one C-ordered copy) to rebuild ``W1``.

    Parameters
    ----------
    X : ndarray of shape (n_x, m), float32 or float64
    Y : ndarray of shape (n_L, m)
        The output's labels (checked as the training functions check
        them): sigmoid 0/1, softmax one-hot (or a (1, m) row of class
        indices), identity real targets.
    Ws, bs : lists of ndarrays
        ``W_l`` of shape (n_l, n_{l-1}) and ``b_l`` of shape (n_l, 1);
        copied, never modified.
    learning_rate : float
    acts : sequence of L-1 int, optional
        Activation code of each hidden layer (``_kernels.ACT_*``); default
        ReLU.
    output : int, optional
        Output code (``_kernels.OUT_*``); default sigmoid.

    Examples
    --------
    >>> solver = GramSolver(X, Y, Ws, bs, 0.0075)    # doctest: +SKIP
    >>> costs = np.empty(2500)
    >>> solver.run(2500, costs)
    >>> Ws, bs = solver.parameters()
    """

    def __init__(self, X, Y, Ws, bs, learning_rate, acts=None,
                 output=kern.OUT_SIGMOID):
        X, Ws, bs = v.check_layer_parameters(X, Ws, bs)
        dtype = X.dtype
        acts, output = _check_codes(acts, output, len(Ws))
        n_L = Ws[-1].shape[0]
        if output == kern.OUT_SIGMOID and n_L != 1:
            raise ValueError("the output layer must have one unit (n_L = 1) "
                             "for a sigmoid output, got %d" % n_L)
        m = X.shape[1]
        Y = check_output_labels(Y, (n_L, m), dtype, _OUTPUT_NAMES[output])
        self.learning_rate = v.check_learning_rate(learning_rate)

        self.acts, self.output = acts, output
        self.dtype = dtype
        self.m = m
        self._iteration = 0
        self._primal = None
        # Every product over X reads X^T row by row: the course's
        # Fortran-ordered X gives it without a copy (the solver then shares
        # X with the caller, who must not change it while the solver is in
        # use, as with the primal solver).
        self._XT = np.ascontiguousarray(X.T)
        self._Y = np.ascontiguousarray(Y)
        self._W1_0 = Ws[0].copy()
        self._b1_0 = bs[0].copy()

        n1 = Ws[0].shape[0]
        mp = _padded(m, gk.BLOCK_COLS)
        K = np.zeros((mp, mp), dtype=dtype)
        big = m * m * X.shape[0] >= cfg.PARALLEL_MIN_WORK
        if not gk.gram_matrix(self._XT, K, big and cfg.parallel_ok()):
            # X^T X overflows where W1 X need not: train in the primal form
            # from the start, as solver="primal" would.
            self._primal = PrimalSolver(X, Y, Ws, bs, self.learning_rate,
                                        acts, output)
            return
        self._K = K
        # Z1 = W1 X + b1: the same Z1, bit for bit, as the primal
        # solver's first iteration, on one thread: it runs once, and the
        # full forward kernels' compilation (every activation, both
        # layouts, threads) would cost a cold start seconds more than it
        # saves.
        Z1_0 = np.empty((n1, m), dtype=dtype)
        kern.linear_forward_t(np.ascontiguousarray(Ws[0]), self._XT,
                              np.ascontiguousarray(bs[0]), Z1_0)
        self._Z1 = np.zeros((_padded(n1, gk.BLOCK_ROWS), mp), dtype=dtype)
        self._Z1[:n1, :m] = Z1_0
        self._dZ1 = np.zeros_like(self._Z1)
        # S in float64 whatever the dtype: exact enough to rebuild W1.
        self._S = np.zeros((n1, m), dtype=np.float64)
        self._layers_2_to_L(Ws, bs, m, dtype)

    def _layers_2_to_L(self, Ws, bs, m, dtype):
        # Layers 2..L packed flat; index q = 1..L-1 is layer q + 1.
        dims = [W.shape[0] for W in Ws]
        self._dims = np.array(dims, dtype=np.int64)
        self._acts = np.array(self.acts, dtype=np.int64)
        L = len(dims)
        woff = np.zeros(L, dtype=np.int64)
        boff = np.zeros(L, dtype=np.int64)
        for q in range(1, L - 1):
            woff[q + 1] = woff[q] + dims[q] * dims[q - 1]
            boff[q + 1] = boff[q] + dims[q]
        self._Wf = np.concatenate(
            [W.ravel() for W in Ws[1:]] or [np.zeros(0, dtype)]).astype(
                dtype)
        self._bf = np.concatenate(
            [b.ravel() for b in bs[1:]] or [np.zeros(0, dtype)]).astype(
                dtype)
        self._woff, self._boff = woff, boff
        roff = np.zeros(L, dtype=np.int64)
        for q in range(1, L):
            roff[q] = roff[q - 1] + dims[q - 1]
        self._roff = roff
        rows = int(roff[-1] + dims[-1])
        self._A = np.zeros((rows, m), dtype=dtype)
        self._Z = np.zeros((rows, m), dtype=dtype)
        self._D = np.zeros((rows, m), dtype=dtype)
        t = dtype.type
        self._scalars = (t(self.learning_rate), t(1.0 / m),
                         t(self.learning_rate / m), t(0), t(1),
                         t(np.finfo(dtype).eps))

    @property
    def iteration(self):
        """Iterations done so far."""
        if self._primal is not None:
            return self._primal.iteration
        return self._iteration

    def _parallel(self):
        # Two threads halve the Z1 update (~60 us of an iteration's ~75 at
        # the cat shape) for ~5 us of thread-pool start per iteration under
        # OpenMP or TBB; a workqueue launch costs about as much as it saves.
        n1p, mp = self._Z1.shape
        return (n1p * mp * mp >= cfg.PARALLEL_MIN_WORK
                and cfg.parallel_ok()
                and cfg.loaded_layer() in cfg.FAST_LAUNCH_LAYERS)

    def run(self, n, costs_out):
        """Advance ``n`` iterations; ``costs_out[i]`` gets the cost of the
        i-th (computed before that iteration's update).

        Raises the reference's FloatingPointError when the cost is not
        finite, naming the global iteration; the iterations before it are
        kept.
        """
        n = v.check_int(n, "n", 0)
        costs_out = np.asarray(costs_out)
        if costs_out.dtype != np.float64 or costs_out.ndim != 1 \
                or costs_out.shape[0] < n:
            raise ValueError("costs_out must be a float64 vector of at least"
                             " n = %d values, got %s" % (n, v._describe(
                                 costs_out)))
        if not costs_out.flags.writeable or \
                not costs_out.flags.c_contiguous:
            raise ValueError("costs_out must be writeable and contiguous")
        if n == 0:
            return
        if self._primal is not None:
            self._run_primal(n, costs_out)
            return
        status = gk.run(self._Z1, self._dZ1, self._S, self._K, self._dims,
                        self._acts, self.output, self._Wf, self._woff,
                        self._bf, self._boff, self._A, self._Z, self._D,
                        self._roff, self._Y, *self._scalars, n, costs_out,
                        self._parallel())
        if status == gk.OK:
            self._iteration += n
            return
        done, kind = divmod(int(status), gk.KINDS)
        self._iteration += done
        if kind == gk.BAD_COST:
            _ref._check_cost(costs_out[done], self._iteration,
                             self.learning_rate)
        # BAD_Z: this iteration and the rest in the primal form, which
        # raises the reference's error for it, or goes on as the reference
        # does.
        self._to_primal()
        self._run_primal(n - done, costs_out[done:])

    def _to_primal(self):
        Ws, bs = self.parameters()
        primal = PrimalSolver(self._XT.T, self._Y, Ws, bs,
                              self.learning_rate, self.acts, self.output)
        primal.iteration = self._iteration
        self._primal = primal
        # The dual-form state is not used again.
        self._K = self._Z1 = self._dZ1 = self._S = None

    def _run_primal(self, n, costs_out):
        # The primal solver leaves a non-finite cost for its caller to
        # report; this solver reports it itself, as its own loop does.
        start = self._primal.iteration
        self._primal.run(n, costs_out)
        bad = np.flatnonzero(~np.isfinite(costs_out[:n]))
        if bad.size:
            self._primal.iteration = start + int(bad[0])
            _ref._check_cost(costs_out[bad[0]], self._primal.iteration,
                             self.learning_rate)

    def parameters(self):
        """The current parameters as two new lists ``(Ws, bs)``.

        ``W1 = W1_0 - lr (S X^T / m)`` and ``b1 = b1_0 - lr (S 1 / m)`` are
        rebuilt here with the primal solver's backward blocks (``S X^T`` in
        float64, summed in an order fixed by the shapes).
        """
        if self._primal is not None:
            return self._primal.parameters()
        S = self._S
        XT = self._XT.astype(np.float64, copy=False)
        W1_0 = self._W1_0.astype(np.float64)
        dW = np.empty_like(W1_0)
        db = np.empty((S.shape[0], 1))
        kern.weight_gradients_t(S, XT, W1_0, dW, db)
        lr = np.float64(self.learning_rate)
        W1 = np.empty_like(W1_0)
        kern.update_into(W1_0, dW, lr, W1)
        b1 = np.empty_like(db)
        kern.update_into(self._b1_0.astype(np.float64), db, lr, b1)
        Ws = [W1.astype(self.dtype, copy=False)]
        bs = [b1.astype(self.dtype, copy=False)]
        dims = self._dims
        for q in range(1, dims.shape[0]):
            nout, nin = int(dims[q]), int(dims[q - 1])
            w0, b0 = int(self._woff[q]), int(self._boff[q])
            Ws.append(self._Wf[w0:w0 + nout * nin].reshape(nout, nin).copy())
            bs.append(self._bf[b0:b0 + nout].reshape(nout, 1).copy())
        return Ws, bs


# The dual form with the training toolbox (momentum, Nesterov, L2, decay,
# mini-batches, dropout): its own module, exported here with the rest of
# the dual form. Imported last: it reads _check_codes and _MAX_K_BYTES.
from ._gram_toolbox import (GramToolboxSolver,  # noqa: E402,F401
                            toolbox_gram_pays)
