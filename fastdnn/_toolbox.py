"""The jit backend's toolbox solver: every optimizer, mini-batches, L2,
dropout and learning-rate decay, whole passes in compiled code
(:mod:`fastdnn._toolbox_kernels`).

Solver interface (shared with :mod:`fastdnn._gram_toolbox`)::

    solver = ToolboxSolver(X, Y, Ws, bs, acts, output, toolbox,
                           learning_rates)
    solver.run(p0, n, costs_out)    # passes p0 .. p0 + n - 1
    Ws, bs = solver.parameters()    # fresh copies of the parameters

Per call of :meth:`ToolboxSolver.run`, Python computes the passes'
permutations (:func:`fastdnn._toolbox_options.pass_permutation`) and hands
them, with the passes' learning rates, to the compiled loop, which runs
them in one call, or in blocks of steps on the thread count
:mod:`fastdnn._threads` chooses; every buffer is allocated once, in the
constructor.
"""
import numpy as np

from . import _numba_config as cfg
from . import _toolbox_kernels as TK
from . import _toolbox_step_kernels as SK
from . import _validation as v
from ._kernels_blas import loop_flags, network_uses_blas
from ._kernels_permutation import pass_permutations
from ._primal import OUTPUT_FORWARD_ACT
from ._threads import adaptive, governor_for, run_blocks
from ._toolbox_options import (WITH_SECOND_MOMENT, WITH_VELOCITY, Toolbox,
                               batch_starts_stops)

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)

#: The most permutation entries handed to one compiled call (int64: 8 MiB);
#: longer runs are split into several calls.
MAX_PERM_ENTRIES = 1 << 20


def _offsets(sizes):
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


class ToolboxSolver:
    """Train ``[LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT`` with the
    training toolbox (see :mod:`fastdnn._toolbox_options` for the
    semantics both backends share).

    Parameters
    ----------
    X : ndarray of shape (n_x, m), float32 or float64
    Y : ndarray of shape (n_L, m)
        Labels in X's dtype (one-hot for softmax).
    Ws, bs : lists of L ndarrays
        ``W_l`` (n_l, n_{l-1}), ``b_l`` (n_l, 1); copied.
    acts : sequence of L-1 int
        Hidden activation codes (``_kernels.ACT_*``).
    output : int
        Output code (``_kernels.OUT_*``).
    toolbox : Toolbox
        From :func:`fastdnn._toolbox_options.check_toolbox`.
    learning_rates : array of float
        The learning rate of every pass of the run
        (:func:`fastdnn._toolbox_options.learning_rates`).

    Attributes
    ----------
    passes, steps : int
        Passes and updates made so far (``steps`` is the dropout masks'
        and Adam's counter).

    Notes
    -----
    :class:`fastdnn._trainer.Trainer` also reads and sets ``_rates``, the
    optimizer state vectors ``_VWf, _Vbf, _SWf, _Sbf`` (flat, laid out by
    ``_dims``, ``_woff``, ``_boff``) and overrides ``_perms(p0, n)``, the
    column orders of passes ``p0 .. p0 + n - 1``: keep them so named.
    """

    def __init__(self, X, Y, Ws, bs, acts, output, toolbox,
                 learning_rates):
        if not isinstance(toolbox, Toolbox):
            raise TypeError("toolbox must be a Toolbox (from check_toolbox),"
                            " got %s" % type(toolbox).__name__)
        # As in PrimalSolver: the layers are copied into flat buffers.
        v.check_layer_shapes(X, Ws, bs)
        dtype = np.dtype(X.dtype)
        self.dtype = dtype
        self.toolbox = toolbox
        self._full = toolbox.mini_batch_size is None
        self.XT = np.ascontiguousarray(X.T)
        # Mini-batches are gathered from X^T alone: no C-ordered copy of X
        # then (an empty stand-in of its type), so that the course's
        # Fortran-ordered X (or the transpose of an (m, n_x) array) is
        # trained without copying it at all.
        self.X = np.ascontiguousarray(X) if self._full else self.XT[:0]
        self.Y = np.ascontiguousarray(Y, dtype=dtype)
        # Mini-batches gather each example's labels from a row of Y^T.
        self.YT = self.Y[:0] if self._full else np.ascontiguousarray(
            self.Y.T)
        L = len(Ws)
        acts = tuple(int(a) for a in acts)
        if len(acts) != L - 1:
            raise ValueError("acts must hold one activation code per hidden "
                             "layer (%d), got %d" % (L - 1, len(acts)))
        self.acts, self.output = acts, int(output)
        self._rates = np.ascontiguousarray(learning_rates, dtype=np.float64)
        n_x, m = X.shape
        self.m = m
        dims = [n_x] + [W.shape[0] for W in Ws]
        self._dims = np.array(dims, dtype=np.int64)
        wsizes = [dims[q + 1] * dims[q] for q in range(L)]
        self._woff = _offsets(wsizes)
        self._boff = _offsets(dims[1:])
        self._roff = self._boff
        self._Wf = np.empty(int(self._woff[-1]), dtype)
        self._bf = np.empty(int(self._boff[-1]), dtype)
        self.Ws, self.bs = [], []
        for q in range(L):
            w0, b0 = int(self._woff[q]), int(self._boff[q])
            Wv = self._Wf[w0:w0 + wsizes[q]].reshape(dims[q + 1], dims[q])
            Wv[...] = Ws[q]
            bv = self._bf[b0:b0 + dims[q + 1]].reshape(dims[q + 1], 1)
            bv[...] = np.reshape(bs[q], (dims[q + 1], 1))
            self.Ws.append(Wv)
            self.bs.append(bv)
        self._dWf = np.empty_like(self._Wf)
        self._dbf = np.empty_like(self._bf)
        # The optimizer's state: velocity (first moment) and second moment,
        # zero as the course's initialize_velocity / initialize_adam.
        opt = toolbox.optimizer
        self._opt = SK.OPT_BY_NAME[opt]
        uses_v = opt in WITH_VELOCITY
        self._VWf, self._Vbf = (np.zeros(a.size if uses_v else 0, dtype)
                                for a in (self._Wf, self._bf))
        # None without a second moment: the loop compiled for it has no
        # code of the optimizers that keep one.
        self._SWf, self._Sbf = ((np.zeros(a.size, dtype)
                                 for a in (self._Wf, self._bf))
                                if opt in WITH_SECOND_MOMENT else (None, None))
        self._starts, self._stops = batch_starts_stops(
            m, toolbox.mini_batch_size)
        mbmax = int(np.max(self._stops - self._starts))
        self._mbmax = mbmax
        rows = int(self._roff[-1])
        self._Zf, self._Af, self._dAf, self._dZf = (
            np.empty(rows * mbmax, dtype) for _ in range(4))
        self._Df = np.empty(rows * mbmax if toolbox.keep_prob < 1 else 0,
                            dtype)
        if self._full:
            self._XTb = np.empty(0, dtype)
            self._Yb = np.empty(0, dtype)
        else:
            self._XTb = np.empty(mbmax * n_x, dtype)
            self._Yb = np.empty(dims[-1] * mbmax, dtype)
        self._hpW = np.empty(SK.N_CONSTANTS, dtype)
        self._hpb = np.empty(SK.N_CONSTANTS, dtype)
        self._partial = np.empty(
            SK.n_chunks(max(self._Wf.size, self._bf.size)), np.float64)
        self._acts = np.array(list(acts) + [OUTPUT_FORWARD_ACT[self.output]],
                              dtype=np.int64)
        self._hyper = np.empty(7, np.float64)
        self._hyper[TK.H_BETA] = toolbox.beta
        self._hyper[TK.H_BETA1] = toolbox.beta1
        self._hyper[TK.H_BETA2] = toolbox.beta2
        self._hyper[TK.H_EPSILON] = toolbox.epsilon
        self._hyper[TK.H_LAMBD] = toolbox.lambd
        self._hyper[TK.H_KEEP_PROB] = toolbox.keep_prob
        self._hyper[TK.H_COST_SCALE] = 1.0
        self._seed = int(toolbox.seed) if (
            not self._full or toolbox.keep_prob < 1) else 0
        self._eps = dtype.type(np.finfo(dtype).eps)
        self._no_perm = np.zeros((1, 1), np.int64)
        # A network with layers on BLAS runs the rest on one thread.
        self._blas = network_uses_blas(dims, mbmax)
        # True or None each: the passes compiled for them hold only the
        # kernels this network can reach at every batch size (loop_flags).
        self._wide, self._hand, self._hand_threads = loop_flags(
            dims, set((self._stops - self._starts).tolist()))
        # Passes per compiled call, bounded by the permutations' memory.
        self._chunk = max(1, MAX_PERM_ENTRIES // m)
        # The running sum of a pass's batch costs (train_steps).
        self._total = np.zeros(1, np.float64)
        self._governor = None
        self.passes = 0
        self.steps = 0

    def _perms(self, p0, n):
        # pass_permutation's numbers, compiled (a test holds them equal).
        if self._full:
            return self._no_perm
        return pass_permutations(self._seed, p0, n, self.m)

    def run(self, p0, n, costs_out):
        """Run passes ``p0 .. p0 + n - 1`` (``p0``: the passes done so far).

        ``costs_out[k]`` receives the cost of pass ``p0 + k``. A non-finite
        cost stops the run at once (that pass's entry holds it, the later
        ones NaN; the caller reports it).
        """
        if p0 != self.passes:
            raise ValueError("p0 must be the next pass, %d, got %d"
                             % (self.passes, p0))
        if p0 + n > self._rates.shape[0]:
            raise ValueError("learning_rates has %d passes, run asks for "
                             "passes up to %d" % (self._rates.shape[0],
                                                  p0 + n - 1))
        parallel = cfg.parallel_ok() and not self._blas
        nthreads = numba.get_num_threads()
        nb = self._starts.shape[0]
        governed = adaptive(parallel, nthreads, self._dims, self._mbmax)
        if governed:
            self._governor = governor_for(self._governor, nthreads)
        k = 0
        while k < n:
            c = min(self._chunk, n - k)
            p = p0 + k
            out = costs_out[k:k + c]
            perms = self._perms(p, c)
            rates = self._rates[p:p + c]
            step0 = self.steps

            def steps(s0, s1):
                return TK.train_steps(
                    self.X, self.XT, self.Y, self.YT, self._full, perms,
                    self._starts, self._stops, rates, step0, self._dims,
                    self._acts, self.output, self._Wf, self._woff, self._bf,
                    self._boff, self._Zf, self._Af, self._dAf, self._dZf,
                    self._Df, self._dWf, self._dbf, self._roff, self._VWf,
                    self._Vbf, self._SWf, self._Sbf, self._hpW, self._hpb,
                    self._partial, self._XTb, self._Yb, self._opt,
                    self._hyper, self._seed, self._eps, s0, s1, self._total,
                    out, parallel, cfg.PARALLEL_MIN_WORK, nthreads,
                    self._wide, self._hand, self._hand_threads)

            if governed:
                done = run_blocks(steps, c * nb, nthreads, self._governor)
            else:
                done = steps(0, c * nb)
            passes = done // nb
            self.passes += passes
            self.steps += passes * nb
            if done < c * nb:
                # The compiled loop filled this call's later passes with
                # NaN; the calls not made, here.
                costs_out[k + c:n] = np.nan
                return
            k += c

    def parameters(self):
        """``(Ws, bs)``: copies of the current parameters."""
        return [W.copy() for W in self.Ws], [b.copy() for b in self.bs]


def warmup(dtypes=(np.float32, np.float64)):
    """Compile the toolbox's compiled passes for ``dtypes``: every variant
    of the loop (:data:`fastdnn._kernels_blas.LOOP_VARIANTS`, for the
    optimizers with a second moment and for those without), each by one
    tiny run, its flags set to the variant's (every batch layout and
    option shares a variant's signature)."""
    from ._kernels_blas import LOOP_VARIANTS
    from ._toolbox_options import check_toolbox
    for dtype in dtypes:
        dt = np.dtype(dtype)
        X = np.ones((2, 3), dt)
        Y = np.full((1, 3), 0.5, dt)
        Ws = [np.full((2, 2), 0.1, dt), np.full((1, 2), 0.1, dt)]
        bs = [np.zeros((2, 1), dt), np.zeros((1, 1), dt)]
        for optimizer in ("adam", "momentum"):
            toolbox = check_toolbox(optimizer=optimizer, mini_batch_size=2,
                                    lambd=0.1, keep_prob=0.9, m=3)
            for variant in LOOP_VARIANTS:
                solver = ToolboxSolver(X, Y, Ws, bs, (0,), 0, toolbox,
                                       np.full(1, 0.1))
                solver._wide, solver._hand, solver._hand_threads = variant
                solver.run(0, 1, np.empty(1))
