"""The dual form beyond full-batch gradient descent: every update linear in
the gradient (gd, momentum, Nesterov), with L2, learning-rate schedules,
mini-batches and dropout on the hidden layers, for any activations and
output.

Why it stays exact. The first layer's gradient on a batch ``b`` of ``mb``
columns is ``dW1 = (1/mb) dZ1_b X_b^T + (lambd/mb) W1``. If ``W1 = a W1_0 +
C X^T`` and the velocity ``V1 = av W1_0 + D X^T`` (``a``, ``av`` scalars,
``C``, ``D`` of shape (n_1, m)), then ``dW1 = ga W1_0 + G X^T`` with
``ga = (lambd/mb) a`` and ``G = (lambd/mb) C`` plus ``(1/mb) dZ1_b`` in the
batch's columns, and every optimizer here combines ``(a, C)``, ``(av, D)``
and ``(ga, G)`` linearly: W1 never leaves ``span(W1_0, rows of X^T)``, and
the same update applied to the coefficients is the update of W1. b1 is
kept as it is (L2 does not decay it). Adam and RMSprop divide each
coordinate by its own scale, which leaves the span: they are refused.

What a step costs. With ``K = X^T X`` (m x m, once) and ``P0 = W1_0 X``
(once), the solver also keeps ``R = C K`` and ``S = D K``, which follow
``C`` and ``D`` through the same linear updates with ``T = G K = (1/mb)
dZ1_b K[b, :] + (lambd/mb) R``: a batch's ``Z1 = a P0[:, b] + R[:, b] +
b1`` is a gather, and the step's one product is ``dZ1_b K[b, :]``
(``n_1 mb m`` multiply-adds; ``n_1 m^2`` per pass) instead of the primal
form's ``2 n_1 n_x m`` per pass plus ``n_1 n_x`` per step for the W1
update. The L2 cost needs ``||W1||^2 = a^2 ||W1_0||^2 + 2 a <P0, C> +
<R, C>``, O(n_1 m), W1 never formed (summed in float64).

Measured at the cat shape (12288-20-7-5-1, m = 209, float64, mini-batches
of 64 with momentum, 1000 passes, a 2-core Zen 3 shared with other jobs):
0.25-0.65 s including K, against 24 s for the primal toolbox solver
(:class:`fastdnn._toolbox.ToolboxSolver`), the costs equal to 2e-14.

The numbers are the primal form's up to rounding (the products are
associated differently); the tests hold them to 1e-9 relative in float64
over whole runs.
"""
import numpy as np

from . import _gram_kernels as gk
from . import _gram_toolbox_kernels as tk
from . import _kernels as kern
from . import _numba_config as cfg
from . import _validation as v
from ._kernels_permutation import pass_permutations
from ._reference_training import _check_cost
from ._toolbox_options import Toolbox, batch_starts_stops
from ._validation_tables import check_output_labels

#: The most permutation entries (int64) handed to one compiled call.
_MAX_PERM_ENTRIES = 1 << 20

_OUTPUT_NAMES = {code: name for name, code in kern.OUT_BY_NAME.items()}


def _refusal(optimizer):
    if optimizer in ("sgd_sklearn", "nesterov_sklearn"):
        # Linear in the gradient, but the dual form's kernels implement
        # the course's velocity only.
        return ("optimizer=%r is not implemented in the dual form (its "
                "kernels run the course's gd, momentum and nesterov); use "
                "solver='primal'" % optimizer)
    return ("optimizer=%r is not exact in the dual form: its per-coordinate "
            "scaling takes W1 out of the span of W1_0 and the rows of X^T, "
            "so the gram solver would train another model; use "
            "solver='primal'" % optimizer)


def toolbox_gram_pays(n_x, m, dims, toolbox):
    """Whether the dual form is exact for ``toolbox`` and expected to train
    faster than the primal form, for ``solver="auto"``.

    Per pass (``s = ceil(m / mini_batch_size)`` steps) the primal form
    spends ``2 n_1 n_x m`` multiply-adds on the first layer plus about
    ``3 n_1 n_x s`` for the W1 update and its velocity; the dual form
    ``n_1 m^2`` plus about ``8 n_1 m s`` for its O(n_1 m) state updates,
    plus a one-time ``n_x m^2 / 2`` (``n_1`` cancels). It pays when
    ``m^2 + 8 m s <= 2 n_x m + 3 n_x s``, and K (m x m) must fit in 2 GiB
    of float64, as for :func:`fastdnn._gram.gram_pays`.

    Parameters
    ----------
    n_x, m : int
        Input features and training examples.
    dims : sequence of int
        ``[n_x, n_1, ..., n_L]`` (unused by the rule, as n_1 cancels).
    toolbox : Toolbox

    Returns
    -------
    bool
    """
    from ._gram import _MAX_K_BYTES
    n_x = v.check_int(n_x, "n_x", 1)
    m = v.check_int(m, "m", 1)
    if not isinstance(toolbox, Toolbox):
        raise TypeError("toolbox must be a Toolbox (from check_toolbox), "
                        "got %s" % type(toolbox).__name__)
    if not toolbox.exact_in_gram or m * m * 8 > _MAX_K_BYTES:
        return False
    steps = batch_starts_stops(m, toolbox.mini_batch_size)[0].size
    return m * m + 8 * m * steps <= 2 * n_x * m + 3 * n_x * steps


def _primal_solver(X, Y, Ws, bs, acts, output, toolbox, rates):
    try:
        from ._toolbox import ToolboxSolver
    except ImportError:
        raise FloatingPointError(
            "X^T X overflows (|X| too large for the dual form in %s); use "
            "solver='primal'" % X.dtype.name) from None
    return ToolboxSolver(X, Y, Ws, bs, acts, output, toolbox, rates)


def _flat(arrays, dtype):
    return np.concatenate([a.ravel() for a in arrays]
                          or [np.zeros(0, dtype)]).astype(dtype)


class GramToolboxSolver:
    """The training toolbox (gd, momentum, Nesterov; L2; mini-batches;
    dropout; a learning rate per pass) with the first layer in dual form.

    Parameters
    ----------
    X : ndarray of shape (n_x, m), float32 or float64
    Y : ndarray of shape (n_L, m)
        The output's labels (one-hot for softmax).
    Ws, bs : lists of ndarrays
        ``W_l`` (n_l, n_{l-1}), ``b_l`` (n_l, 1); copied.
    acts : sequence of L-1 int
        Hidden activation codes (``_kernels.ACT_*``).
    output : int
        Output code (``_kernels.OUT_*``).
    toolbox : Toolbox
        From :func:`fastdnn._toolbox_options.check_toolbox`; its optimizer
        must be gd, momentum or nesterov (ValueError otherwise, saying
        why).
    learning_rates : array of float
        The learning rate of every pass of the run
        (:func:`fastdnn._toolbox_options.learning_rates`).

    Examples
    --------
    >>> solver = GramToolboxSolver(X, Y, Ws, bs, (1, 1), 2, toolbox,
    ...                            rates)               # doctest: +SKIP
    >>> costs = np.empty(100)
    >>> solver.run(0, 100, costs)
    >>> Ws, bs = solver.parameters()
    """

    def __init__(self, X, Y, Ws, bs, acts, output, toolbox,
                 learning_rates):
        if not isinstance(toolbox, Toolbox):
            raise TypeError("toolbox must be a Toolbox (from check_toolbox),"
                            " got %s" % type(toolbox).__name__)
        if not toolbox.exact_in_gram:
            raise ValueError(_refusal(toolbox.optimizer))
        from ._gram import _check_codes
        X, Ws, bs = v.check_layer_parameters(X, Ws, bs)
        dtype = X.dtype
        acts, output = _check_codes(acts, output, len(Ws))
        m = X.shape[1]
        n_L = Ws[-1].shape[0]
        Y = check_output_labels(Y, (n_L, m), dtype, _OUTPUT_NAMES[output])
        rates = np.asarray(learning_rates, dtype=np.float64)
        if rates.ndim != 1 or not np.all(np.isfinite(rates)) \
                or not np.all(rates > 0):
            raise ValueError("learning_rates must be a vector of finite "
                             "positive rates, one per pass")
        self.toolbox, self.acts, self.output = toolbox, acts, output
        self.dtype, self.m = dtype, m
        self._rates = rates
        self.passes = 0
        self._XT = np.ascontiguousarray(X.T)
        self._Y = np.ascontiguousarray(Y)
        self._W1_0 = np.ascontiguousarray(Ws[0])
        big = m * m * X.shape[0] >= cfg.PARALLEL_MIN_WORK
        K, finite = tk.plain_gram(self._XT, big and cfg.parallel_ok(),
                                  gk.BLOCK_COLS)
        self._primal = None
        if not finite:
            # X^T X overflows where W1 X need not (|X| above ~1e154 in
            # float64): train in the primal form, as solver='primal' would.
            self._primal = _primal_solver(X, Y, Ws, bs, acts, output,
                                          toolbox, rates)
            return
        self._K = K
        self._init_state(Ws, bs, m, dtype)

    def _init_state(self, Ws, bs, m, dtype):
        n1 = Ws[0].shape[0]
        P0 = np.empty((n1, m), dtype=dtype)
        # Once per fit: on one thread (see GramSolver's Z1).
        kern.linear_forward_t(self._W1_0, self._XT,
                              np.zeros((n1, 1), dtype), P0)
        self._P0 = P0
        self._n00 = float(np.sum(self._W1_0.astype(np.float64) ** 2))
        # R, S, T, C, D, G: (n1, m) each (see the module docstring).
        self._R, self._S, self._T, self._C, self._D, self._G = (
            np.zeros((n1, m), dtype) for _ in range(6))
        self._b1 = bs[0].ravel().copy()
        self._vb1 = np.zeros_like(self._b1)
        self._co = np.array([1, 0], dtype=dtype)   # a, av
        dims = [W.shape[0] for W in Ws]
        L = len(dims)
        self._dims = np.array(dims, dtype=np.int64)
        self._acts = np.array(self.acts or (0,), dtype=np.int64)
        woff = np.zeros(L, dtype=np.int64)
        boff = np.zeros(L, dtype=np.int64)
        for q in range(1, L - 1):
            woff[q + 1] = woff[q] + dims[q] * dims[q - 1]
            boff[q + 1] = boff[q] + dims[q]
        self._woff, self._boff = woff, boff
        self._Wf = _flat(Ws[1:], dtype)
        self._bf = _flat(bs[1:], dtype)
        self._vWf = np.zeros_like(self._Wf)
        self._vbf = np.zeros_like(self._bf)
        roff = np.zeros(L, dtype=np.int64)
        for q in range(1, L):
            roff[q] = roff[q - 1] + dims[q - 1]
        self._roff = roff
        self._starts, self._stops = batch_starts_stops(
            m, self.toolbox.mini_batch_size)
        mbmax = int(np.max(self._stops - self._starts))
        rows = int(roff[-1] + dims[-1])
        self._Zb, self._Ab, self._Db, self._Mb = (
            np.zeros((rows, mbmax), dtype) for _ in range(4))
        self._Yb = np.zeros((dims[-1], mbmax), dtype)
        self._idx = np.zeros(mbmax, dtype=np.int64)
        # The batch's rows of K (tk.k_product); unused by a full batch.
        full = self.toolbox.mini_batch_size is None
        self._Kb = np.zeros((0 if full else mbmax, m), dtype)
        self._eps = dtype.type(np.finfo(dtype).eps)
        # Full batch: the columns in order, the same row for every pass.
        self._order = np.arange(m, dtype=np.int64).reshape(1, m)
        # Passes per compiled call: their permutations within 8 MiB.
        self._chunk = max(1, _MAX_PERM_ENTRIES // m)

    @property
    def steps(self):
        """Updates made so far (one per batch)."""
        return self.passes * int(self._starts.shape[0]) \
            if self._primal is None else self._primal.steps

    def _permutations(self, p0, n):
        """The permutations of passes ``p0 .. p0 + n - 1``, (n, m) int64:
        :func:`fastdnn._toolbox_options.pass_permutation`'s, compiled
        (:func:`fastdnn._kernels_permutation.pass_permutations`)."""
        if self.toolbox.mini_batch_size is None:
            return self._order
        return pass_permutations(self.toolbox.seed, p0, n, self.m)

    def run(self, p0, n, costs_out):
        """Run passes ``p0 .. p0 + n - 1`` (``p0`` must be the number of
        passes done so far), whole chunks of passes per compiled call
        (permutations within 8 MiB); ``costs_out[k]`` gets the
        cost of pass ``p0 + k`` (full batch: the iteration's cost;
        mini-batches: the sum of batch cost * mb, over m).

        Raises the reference's FloatingPointError when a pass cost is not
        finite, naming the pass; the passes before it are kept.
        """
        p0 = v.check_int(p0, "p0", 0)
        n = v.check_int(n, "n", 0)
        if p0 != self.passes:
            raise ValueError("p0 must be the next pass, %d, got %d"
                             % (self.passes, p0))
        if p0 + n > self._rates.shape[0]:
            raise ValueError("learning_rates has %d passes, run asks for "
                             "passes up to %d" % (self._rates.shape[0],
                                                  p0 + n - 1))
        costs_out = np.asarray(costs_out)
        if costs_out.dtype != np.float64 or costs_out.ndim != 1 \
                or costs_out.shape[0] < n or \
                not costs_out.flags.writeable:
            raise ValueError("costs_out must be a writeable float64 vector "
                             "of at least n = %d values" % n)
        if n == 0:
            return
        out = np.full(n, np.nan)
        if self._primal is not None:
            self._primal.run(p0, n, out)
            costs_out[:n] = out
            bad = np.flatnonzero(~np.isfinite(out))
            self.passes = self._primal.passes
            if bad.size:
                _check_cost(out[bad[0]], p0 + int(bad[0]), self._rates[0])
            return
        k = 0
        while k < n:
            c = min(self._chunk, n - k)
            status = self._run_chunk(p0 + k, c, out[k:k + c])
            if status != tk.OK:
                costs_out[:n] = out
                self.passes += int(status) + 1
                bad = k + int(status)
                _check_cost(out[bad], p0 + bad, self._rates[0])
            self.passes += c
            k += c
        costs_out[:n] = out

    def _run_chunk(self, p0, n, out):
        tb = self.toolbox
        return tk.run_passes(
            self._K, self._P0, self._R, self._S, self._T, self._C, self._D,
            self._G, self._b1, self._vb1, self._co, self._Wf, self._woff,
            self._bf, self._boff, self._vWf, self._vbf, self._dims,
            self._acts, self.output, self._Zb, self._Ab, self._Db, self._Mb,
            self._Yb, self._idx, self._Kb, self._roff, self._Y,
            self._permutations(p0, n), self._starts, self._stops,
            self._rates[p0:p0 + n], out, tb.mini_batch_size is None,
            0.0 if tb.optimizer == "gd" else tb.beta,
            tb.optimizer == "nesterov", tb.lambd, tb.keep_prob,
            int(tb.seed) if tb.keep_prob < 1.0 else 0,
            p0 * self._starts.shape[0], self._eps, self._n00)

    def parameters(self):
        """``(Ws, bs)``: new arrays of the current parameters, ``W1 = a
        W1_0 + C X^T`` rebuilt in float64, in an order fixed by the
        shapes."""
        if self._primal is not None:
            return self._primal.parameters()
        W1 = np.empty(self._W1_0.shape)
        tk.rebuild_w1(float(self._co[0]), self._W1_0, self._C, self._XT, W1)
        Ws = [W1.astype(self.dtype)]
        bs = [self._b1.reshape(-1, 1).astype(self.dtype)]
        dims = self._dims
        for q in range(1, dims.shape[0]):
            nout, nin = int(dims[q]), int(dims[q - 1])
            w0, b0 = int(self._woff[q]), int(self._boff[q])
            Ws.append(self._Wf[w0:w0 + nout * nin].reshape(nout, nin).copy())
            bs.append(self._bf[b0:b0 + nout].reshape(nout, 1).copy())
        return Ws, bs
