"""An epoch-level, stateful training run on either backend: what the
estimators need for ``partial_fit``, ``warm_start``, early stopping and an
adaptive learning rate.

A :class:`Trainer` owns the parameters *and* the optimizer's state (the
velocity, Adam's moments and step counter) between calls of
:meth:`Trainer.run`, which makes a number of passes with the learning
rates it is given, each pass in the order it is given (or the toolbox's
:func:`~fastdnn._toolbox_options.pass_permutation`). The caller decides
between calls: stop, lower the rate, score a validation set.

Backends:

- ``"numpy"``: the reference's toolbox loop
  (:mod:`fastdnn._reference_toolbox`), its state kept here;
- ``"numba"``: the jit's :class:`~fastdnn._toolbox.ToolboxSolver` (or, with
  ``form="gram"``, :class:`~fastdnn._gram_toolbox.GramToolboxSolver`)
  kept alive, each call one or a few compiled calls.

Both compute the same numbers (the toolbox's semantics, see
:mod:`fastdnn._toolbox_options`), to rounding.
"""
import numpy as np

from ._reference_optimizers import OPTIMIZERS
from ._reference_outputs import OUTPUTS
from ._reference_toolbox import _backward, _forward, _l2_cost
from ._toolbox_options import Toolbox, batch_bounds, pass_permutation

#: The training forms a trainer accepts.
FORMS = ("primal", "gram")


class Trainer:
    """A training run kept open between calls.

    Parameters
    ----------
    backend : {"numpy", "numba"}
    X : ndarray (n_x, m), float32 or float64
        The training set, one example per column.
    Y : ndarray (n_y, m)
        Labels in the output's layout (one-hot for softmax), X's dtype.
    parameters : dict
        ``W1, b1, ..., WL, bL``; copied (in X's dtype).
    acts : sequence of L - 1 str
        Hidden activations by the reference's names.
    output : str
        ``"sigmoid"`` (one or several independent units), ``"softmax"`` or
        ``"identity"``.
    toolbox : Toolbox
        From :func:`fastdnn._toolbox_options.check_toolbox`.
    form : {"primal", "gram"}
        The numba backend's form (``"gram"``: the dual form; for the
        optimizers of :data:`fastdnn._toolbox_options.EXACT_IN_GRAM`).
    state : None or (steps, dict)
        An optimizer state to continue from, as :meth:`state` returns it
        (another trainer's, possibly on other data: ``partial_fit``);
        None starts from zero. Primal form only.
    cost_scale : float
        Multiplies each batch's data cost (not its L2 term) as it is
        recorded, the gradient unchanged: ``1 / n_y`` gives
        scikit-learn's squared error over several targets (the mean over
        the targets). Primal form only.
    """

    def __init__(self, backend, X, Y, parameters, acts, output, toolbox,
                 form="primal", state=None, cost_scale=1.0):
        if not isinstance(toolbox, Toolbox):
            raise TypeError("toolbox must be a Toolbox (from check_toolbox),"
                            " got %s" % type(toolbox).__name__)
        if backend not in ("numpy", "numba"):
            raise ValueError("backend must be 'numpy' or 'numba', got %r"
                             % (backend,))
        if form not in FORMS:
            raise ValueError("form must be 'primal' or 'gram', got %r"
                             % (form,))
        if form == "gram" and backend != "numba":
            raise ValueError("form='gram' needs backend='numba' (the numpy "
                             "backend trains the primal form only)")
        if form == "gram" and not toolbox.exact_in_gram:
            raise ValueError(
                "form='gram' trains gd, momentum and nesterov only (the "
                "dual form's kernels); optimizer %r needs form='primal'"
                % toolbox.optimizer)
        if form == "gram" and cost_scale != 1.0:
            raise ValueError("form='gram' records the output's own cost "
                             "only (cost_scale 1); use form='primal'")
        self.cost_scale = float(cost_scale)
        self.dtype = np.dtype(X.dtype)
        self.X = np.ascontiguousarray(X)
        self.Y = np.ascontiguousarray(Y, dtype=self.dtype)
        self.m = X.shape[1]
        self.L = len(parameters) // 2
        self.acts = tuple(acts)
        self.output = output
        self.toolbox = toolbox
        self.backend = backend
        self.form = form
        #: Passes made so far.
        self.passes = 0
        #: Updates made so far (one per batch).
        self.steps = 0
        params = {k: np.array(parameters[k], dtype=self.dtype)
                  for k in parameters}
        if backend == "numpy":
            self._params = params
            self._state = OPTIMIZERS[toolbox.optimizer].init_state(params)
            self._solver = None
        else:
            self._solver = _numba_solver(self, params, form)
            if form == "primal":
                from ._toolbox_kernels import H_COST_SCALE
                self._solver._hyper[H_COST_SCALE] = self.cost_scale
        if state is not None:
            if form == "gram":
                raise ValueError("state: the dual form starts from zero "
                                 "only; use form='primal'")
            self._set_state(*state)

    # ------------------------------------------------------------ run

    def run(self, learning_rates, orders=None):
        """Make ``len(learning_rates)`` passes.

        Parameters
        ----------
        learning_rates : sequence of float
            Each pass's learning rate.
        orders : None or int array (n, m)
            Each pass's example order (mini-batches only: a full-batch
            pass takes the examples as they are); None: the toolbox's
            :func:`~fastdnn._toolbox_options.pass_permutation`.

        Returns
        -------
        costs : float64 ndarray (n,)
            Each pass's cost (the toolbox's: the sum of batch cost * mb,
            over m). A non-finite cost stops the run: that pass holds it,
            the later ones NaN, and :attr:`passes` counts the passes
            completed before it.
        """
        rates = np.ascontiguousarray(learning_rates, dtype=np.float64)
        n = rates.shape[0]
        if orders is not None:
            orders = np.ascontiguousarray(orders, dtype=np.int64)
            if orders.shape != (n, self.m):
                raise ValueError("orders must have shape (n, m) = (%d, %d), "
                                 "got %s" % (n, self.m, orders.shape))
        costs = np.full(n, np.nan)
        if n == 0:
            return costs
        if self._solver is None:
            self._run_numpy(rates, orders, costs)
        else:
            self._run_numba(rates, orders, costs)
        return costs

    def _batches(self, p, order):
        tb = self.toolbox
        if tb.mini_batch_size is None:
            return [(self.X, self.Y)]
        if order is None:
            order = pass_permutation(tb.seed, p, self.m)
        return [(self.X[:, order[a:b]], self.Y[:, order[a:b]])
                for a, b in batch_bounds(self.m, tb.mini_batch_size)]

    def _run_numpy(self, rates, orders, costs):
        tb = self.toolbox
        optimizer = OPTIMIZERS[tb.optimizer]
        cost_of = OUTPUTS[self.output].cost
        full = tb.mini_batch_size is None
        for k in range(rates.shape[0]):
            lr = float(rates[k])
            total = 0.0
            order = None if orders is None else orders[k]
            for Xb, Yb in self._batches(self.passes, order):
                mb = Xb.shape[1]
                with np.errstate(over="ignore", invalid="ignore",
                                 divide="ignore"):
                    AL, caches, masks = _forward(
                        Xb, self._params, self.acts, self.output,
                        tb.keep_prob, tb.seed, self.steps)
                    cost = cost_of(AL, Yb)
                    if self.cost_scale != 1.0:
                        cost = cost * self.cost_scale
                if not np.isfinite(cost):
                    costs[k] = cost
                    return
                with np.errstate(over="ignore", invalid="ignore"):
                    if tb.lambd > 0:
                        cost = cost + _l2_cost(self._params, tb.lambd, mb)
                    grads = _backward(AL, Yb, caches, self.acts,
                                      self.output, masks, tb.keep_prob,
                                      tb.lambd, self._params)
                    self._params, self._state = optimizer.update(
                        self._params, grads, self._state, self.steps + 1, lr,
                        tb)
                total = cost if full else total + float(cost) * mb
                self.steps += 1
            costs[k] = float(total) if full else total / self.m
            if not np.isfinite(costs[k]):
                return
            self.passes += 1

    def _run_numba(self, rates, orders, costs):
        s = self._solver
        p0 = s.passes
        # The solver reads its rates and permutations by absolute pass.
        s._rates = np.concatenate((np.ones(p0), rates))
        s._given_orders = orders
        s._orders_p0 = p0
        try:
            s.run(p0, rates.shape[0], costs)
        except FloatingPointError:
            pass  # the gram solver raises; the cost is in costs
        self.passes = s.passes
        self.steps = int(s.steps)

    # ------------------------------------------------------------ state

    def _flat_state(self):
        # The numba solver's state vectors by part, as (W vector, b
        # vector) pairs: the parts the optimizer keeps (an optimizer
        # without a velocity has empty ones, one without a second moment
        # None).
        s = self._solver
        return {part: (VW, Vb) for part, (VW, Vb) in
                (("v", (s._VWf, s._Vbf)), ("s", (s._SWf, s._Sbf)))
                if VW is not None and VW.size}

    def state(self):
        """``(steps, {"v": {"dW1": ...}, "s": {...}})``: the updates made
        and the optimizer's state (the parts it keeps), as copies."""
        if self._solver is None:
            return self.steps, {part: {k: a.copy() for k, a in d.items()}
                                for part, d in self._state.items()}
        if self.form == "gram":
            raise ValueError("the dual form's state is not the primal "
                             "form's; use form='primal'")
        s = self._solver
        out = {}
        for part, (VW, Vb) in self._flat_state().items():
            d = {}
            for q in range(self.L):
                n_out, n_in = int(s._dims[q + 1]), int(s._dims[q])
                w0, b0 = int(s._woff[q]), int(s._boff[q])
                d["dW%d" % (q + 1)] = VW[w0:w0 + n_out * n_in].reshape(
                    n_out, n_in).copy()
                d["db%d" % (q + 1)] = Vb[b0:b0 + n_out].reshape(
                    n_out, 1).copy()
            out[part] = d
        return self.steps, out

    def _set_state(self, steps, state):
        self.steps = int(steps)
        if self._solver is None:
            self._state = {part: {k: np.array(state[part][k],
                                              dtype=self.dtype)
                                  for k in d}
                           for part, d in self._state.items()}
            return
        s = self._solver
        s.steps = self.steps
        for part, (VW, Vb) in self._flat_state().items():
            for q in range(self.L):
                w0, b0 = int(s._woff[q]), int(s._boff[q])
                W = np.asarray(state[part]["dW%d" % (q + 1)]).ravel()
                b = np.asarray(state[part]["db%d" % (q + 1)]).ravel()
                VW[w0:w0 + W.size] = W
                Vb[b0:b0 + b.size] = b

    # ------------------------------------------------------------ result

    def parameters(self):
        """The current parameters, ``{"W1": ..., "b1": ..., ...}`` (new
        arrays)."""
        if self._solver is None:
            return {k: a.copy() for k, a in self._params.items()}
        Ws, bs = self._solver.parameters()
        out = {}
        for l in range(1, self.L + 1):
            out["W%d" % l] = np.asarray(Ws[l - 1], dtype=self.dtype)
            out["b%d" % l] = np.asarray(bs[l - 1],
                                        dtype=self.dtype).reshape(-1, 1)
        return out


#: The numba solver classes that take the caller's pass orders, by form
#: (made on first use: numba is imported only then).
_GIVEN = {}


def _given_orders_class(form):
    if form not in _GIVEN:
        from ._gram_toolbox import GramToolboxSolver
        from ._toolbox import ToolboxSolver

        base = GramToolboxSolver if form == "gram" else ToolboxSolver
        perms_name = "_permutations" if form == "gram" else "_perms"

        def given(self, p0, n):
            # The caller's orders when given, else the toolbox's
            # permutations (the solver asks by absolute pass).
            if self._given_orders is None or \
                    self.toolbox.mini_batch_size is None:
                return getattr(base, perms_name)(self, p0, n)
            k = p0 - self._orders_p0
            return self._given_orders[k:k + n]

        _GIVEN[form] = type("_Given" + base.__name__, (base,),
                            {perms_name: given, "_given_orders": None,
                             "_orders_p0": 0})
    return _GIVEN[form]


def _numba_solver(trainer, params, form):
    from . import _kernels as K

    L = len(params) // 2
    Ws = [params["W%d" % l] for l in range(1, L + 1)]
    bs = [params["b%d" % l] for l in range(1, L + 1)]
    acts = tuple(K.ACT_BY_NAME[a] for a in trainer.acts)
    return _given_orders_class(form)(
        trainer.X, trainer.Y, Ws, bs, acts, K.OUT_BY_NAME[trainer.output],
        trainer.toolbox, np.ones(1))
