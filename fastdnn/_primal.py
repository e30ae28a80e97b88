"""The primal training solver of the jit backend: plain gradient descent on
the network's weights, one fused kernel per layer and direction, every
buffer allocated once, the iterations run by one compiled loop
(:mod:`fastdnn._primal_kernels`).

Solver interface (shared with :mod:`fastdnn._gram`)::

    solver = PrimalSolver(X, Y, Ws, bs, learning_rate, acts, output)
    solver.run(n, costs_out)        # advance n iterations
    Ws, bs = solver.parameters()    # fresh copies of the current parameters

``X`` (n_x, m) and ``Y`` (n_L, m) (one-hot for a softmax output) and the
lists ``Ws`` (W_l of shape (n_l, n_{l-1})) and ``bs`` (b_l of shape
(n_l, 1)) all have one float dtype. ``acts`` holds the L-1 hidden layers'
activation codes and ``output`` the output code (:mod:`fastdnn._kernels`).
"""
import numpy as np

from . import _numba_config as cfg
from . import _kernels as K
from . import _primal_kernels as PK
from . import _validation as v
from ._kernels_blas import loop_flags, network_uses_blas
from ._primal_fused_kernels import dZ_buffer, parts_buffer
from ._threads import adaptive, governor_for, run_blocks

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)

#: The fused activation of the output layer's forward kernel, per output
#: code: softmax is column-wise, so its kernel leaves Z as is and
#: :func:`fastdnn._kernels.output_step` computes the softmax, its cost and
#: its gradient after it, in one kernel.
OUTPUT_FORWARD_ACT = {K.OUT_SIGMOID: K.ACT_SIGMOID,
                      K.OUT_SOFTMAX: K.ACT_IDENTITY,
                      K.OUT_IDENTITY: K.ACT_IDENTITY}


class PrimalSolver:
    """Gradient descent on ``[LINEAR -> ACTIVATION] x (L-1) -> LINEAR ->
    OUTPUT``.

    Each iteration does what the reference's training loop does, in the
    same order and with the same formulas (forward, cost, ``dZ_L = AL - Y``,
    backward, update), but into preallocated buffers and without the unused
    ``dA0``.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_L, m)
        Labels in X's dtype; one-hot for a softmax output.
    Ws, bs : lists of L ndarrays
        ``W_l`` (n_l, n_{l-1}) and ``b_l`` (n_l, 1); copied.
    learning_rate : float
    acts : sequence of L-1 int, optional
        Activation code of each hidden layer (``K.ACT_*``); default ReLU.
    output : int, optional
        Output code (``K.OUT_*``); default sigmoid.
    """

    def __init__(self, X, Y, Ws, bs, learning_rate, acts=None,
                 output=K.OUT_SIGMOID):
        # The layers are copied into flat buffers by shape: a W_l or b_l of
        # another shape would be broadcast into them, or fail in numpy.
        v.check_layer_shapes(X, Ws, bs)
        dtype = X.dtype
        self.dtype = dtype
        self.X = np.ascontiguousarray(X)
        n_x, m = self.X.shape
        # The first layer's chunk sums when it runs in one pass over X
        # (fastdnn._primal_fused_kernels), which reads X alone; True or None
        # as ``wide``. _fresh[0]: whether _parts holds the product of the
        # current weights (the loop's last iteration computed it; the
        # weights change in no other place).
        self._parts = parts_buffer(Ws[0].shape[0], n_x, m, dtype)
        self._fused = True if self._parts.size else None
        self._dZ1 = dZ_buffer(self._parts)
        self._fresh = np.zeros(1, np.int64)
        # Otherwise X^T, C-contiguous, for the first layer's forward pass:
        # the transposed kernel sums along its contiguous axis (faster than
        # row updates over X). Made once; X itself serves the backward pass.
        self.XT = (np.empty((0, n_x), dtype) if self._fused
                   else np.ascontiguousarray(X.T))
        self.Y = np.ascontiguousarray(Y, dtype=dtype)
        L = len(Ws)
        if acts is None:
            acts = (K.ACT_RELU,) * (L - 1)
        acts = tuple(int(a) for a in acts)
        if len(acts) != L - 1:
            raise ValueError("acts must hold one activation code per hidden "
                             "layer (%d), got %d" % (L - 1, len(acts)))
        self.acts = acts
        self.output = int(output)
        # The reference multiplies by a Python float, which numpy casts to
        # the array's dtype: the same float32 rounding here.
        self.learning_rate = float(learning_rate)
        self._lr = dtype.type(learning_rate)
        self._eps = dtype.type(np.finfo(dtype).eps)
        m = self.X.shape[1]
        dims = [self.X.shape[0]] + [W.shape[0] for W in Ws]
        self._dims = np.array(dims, dtype=np.int64)
        # Flat buffers, layer after layer (see fastdnn._primal_kernels):
        # the parameters, and the (n_l, m) blocks of the activations,
        # pre-activations and gradients.
        wsizes = [dims[q + 1] * dims[q] for q in range(L)]
        self._woff = np.concatenate(([0], np.cumsum(wsizes))).astype(
            np.int64)
        self._boff = np.concatenate(([0], np.cumsum(dims[1:]))).astype(
            np.int64)
        self._roff = self._boff
        self._Wf = np.empty(int(self._woff[-1]), dtype)
        self._bf = np.empty(int(self._boff[-1]), dtype)
        rows = int(self._roff[-1])
        self._Zf, self._Af, self._dAf, self._dZf = (
            np.empty(rows * m, dtype) for _ in range(4))
        self._dWf = np.empty_like(self._Wf)
        self._dbf = np.empty_like(self._bf)
        # Ws, bs: views of the flat parameters, updated in place.
        Wviews, bviews = [], []
        for q in range(L):
            w0, b0 = int(self._woff[q]), int(self._boff[q])
            shape = (dims[q + 1], dims[q])
            Wv = self._Wf[w0:w0 + wsizes[q]].reshape(shape)
            Wv[...] = Ws[q]
            bv = self._bf[b0:b0 + dims[q + 1]].reshape((dims[q + 1], 1))
            bv[...] = np.reshape(bs[q], (dims[q + 1], 1))
            Wviews.append(Wv)
            bviews.append(bv)
        self.Ws, self.bs = Wviews, bviews
        # Forward activation codes, per layer (see OUTPUT_FORWARD_ACT).
        self._acts = np.array(list(acts) + [OUTPUT_FORWARD_ACT[self.output]],
                              dtype=np.int64)
        self._blas = network_uses_blas(dims, self.X.shape[1])
        # True or None each: the loop compiled for them holds only the
        # kernels this network can reach (loop_flags).
        self._wide, self._hand, self._hand_threads = loop_flags(
            dims, (m,), 1 if self._fused else 0)
        self.iteration = 0
        self._governor = None

    def run(self, n, costs_out):
        """Advance ``n`` iterations by calls of the compiled loop
        :func:`fastdnn._primal_kernels.train`, in blocks whose thread
        count :mod:`fastdnn._threads` chooses (one call when the run is
        serial).

        ``costs_out[k]`` receives the cost of iteration k of this call, before
        that iteration's update. A non-finite cost stops the run at once
        (the remaining entries are NaN; the caller reports the iteration).
        """
        # Once per call: a thread other than the main one may be barred
        # from parallel kernels (cfg.parallel_ok); the serial ones give the
        # same numbers.
        # A network with layers on BLAS runs the rest on one thread
        # (fastdnn._kernels_blas.network_uses_blas).
        parallel = cfg.parallel_ok() and not self._blas
        nthreads = numba.get_num_threads()
        n = int(n)

        def iterations(k0, k1):
            return PK.train(self.X, self.XT, self.Y, self._dims, self._acts,
                            self.output, self._Wf, self._woff, self._bf,
                            self._boff, self._Zf, self._Af, self._dAf,
                            self._dZf, self._dWf, self._dbf, self._roff,
                            self._lr, self._eps, k1 - k0, costs_out[k0:k1],
                            parallel, cfg.PARALLEL_MIN_WORK, nthreads,
                            self._wide, self._hand, self._hand_threads,
                            self._parts, self._fused,
                            self._fresh, self._dZ1)

        if adaptive(parallel, nthreads, self._dims, self.X.shape[1]):
            self._governor = governor_for(self._governor, nthreads)
            done = run_blocks(iterations, n, nthreads, self._governor)
            if done < n:
                costs_out[done + 1:n] = np.nan
        else:
            done = iterations(0, n)
        self.iteration += int(done)

    def parameters(self):
        """``(Ws, bs)``: copies of the current parameters."""
        return [W.copy() for W in self.Ws], [b.copy() for b in self.bs]
