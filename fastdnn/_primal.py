"""The primal training solver of the jit backend: plain gradient descent on
the network's weights, one fused kernel per layer and direction, every
buffer allocated once.

Solver interface (shared with :mod:`fastdnn._gram`)::

    solver = PrimalSolver(X, Y, Ws, bs, learning_rate)
    solver.run(n, costs_out)        # advance n iterations
    Ws, bs = solver.parameters()    # fresh copies of the current parameters

``X`` (n_x, m) and ``Y`` (1, m) and the lists ``Ws`` (W_l of shape
(n_l, n_{l-1})) and ``bs`` (b_l of shape (n_l, 1)) all have one float dtype.
"""
import numpy as np

from . import _kernels as K
from . import reference as _ref


class PrimalSolver:
    """Gradient descent on ``[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID``.

    Each iteration does what the reference's training loop does, in the
    same order and with the same formulas (forward, cost, ``dAL``, backward,
    update), but into preallocated buffers and without the unused ``dA0``.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    Ws, bs : lists of L ndarrays
        ``W_l`` (n_l, n_{l-1}) and ``b_l`` (n_l, 1); copied.
    learning_rate : float
    """

    def __init__(self, X, Y, Ws, bs, learning_rate):
        dtype = X.dtype
        self.dtype = dtype
        self.X = np.ascontiguousarray(X)
        # X^T, C-contiguous, for the first layer's forward pass: the
        # transposed kernel sums along its contiguous axis (faster than row
        # updates over X). Made once; X itself serves the backward pass.
        self.XT = np.ascontiguousarray(X.T)
        self.Y = np.ascontiguousarray(Y, dtype=dtype)
        self.Ws = [np.array(W, dtype=dtype, order="C") for W in Ws]
        self.bs = [np.array(b, dtype=dtype, order="C") for b in bs]
        # The reference multiplies by a Python float, which numpy casts to
        # the array's dtype: the same float32 rounding here.
        self.learning_rate = float(learning_rate)
        self._lr = dtype.type(learning_rate)
        eps = _ref._cost_epsilon(dtype)
        self._lo = dtype.type(eps)
        self._hi = dtype.type(1) - dtype.type(eps)
        m = self.X.shape[1]
        widths = [W.shape[0] for W in self.Ws]
        self._Z = [np.empty((n, m), dtype) for n in widths]
        self._A = [np.empty((n, m), dtype) for n in widths]
        self._dA = [np.empty((n, m), dtype) for n in widths]
        self._dZ = [np.empty((n, m), dtype) for n in widths]
        self._dW = [np.empty_like(W) for W in self.Ws]
        self._db = [np.empty_like(b) for b in self.bs]
        self._acts = [K.ACT_RELU] * (len(widths) - 1) + [K.ACT_SIGMOID]
        self.iteration = 0

    def run(self, n, costs_out):
        """Advance ``n`` iterations.

        ``costs_out[k]`` receives the cost of iteration k of this call, before
        that iteration's update. A non-finite cost stops the run at once
        (the remaining entries are NaN; the caller reports the iteration); an
        output saturated on a wrong label raises the reference's
        FloatingPointError.
        """
        L = len(self.Ws)
        X, XT, Y = self.X, self.XT, self.Y
        Ws, bs, Zs, As = self.Ws, self.bs, self._Z, self._A
        dAs, dZs, dWs, dbs = self._dA, self._dZ, self._dW, self._db
        acts, lr = self._acts, self._lr
        for k in range(n):
            K.forward(Ws[0], XT, bs[0], acts[0], Zs[0], As[0], True)
            A = As[0]
            for l in range(1, L):
                K.forward(Ws[l], A, bs[l], acts[l], Zs[l], As[l])
                A = As[l]
            cost = K.cost(A, Y, self._lo, self._hi)
            costs_out[k] = cost
            if not np.isfinite(cost):
                costs_out[k + 1:n] = np.nan
                return
            if not K.sigmoid_output_dZ(A, Y, Zs[L - 1], dAs[L - 1]):
                # Raises the reference's error with the iteration.
                _ref._training_dAL(A, Y, self.iteration, self.learning_rate)
                raise FloatingPointError(  # pragma: no cover
                    "training diverged at iteration %d" % self.iteration)
            # dAs[L-1] holds dZ_L already: the last layer is linear here.
            act = K.ACT_NONE
            for l in range(L - 1, -1, -1):
                A_prev = As[l - 1] if l > 0 else X
                K.backward(dAs[l], Zs[l], A_prev, Ws[l], act, l > 0,
                           dZs[l], dWs[l], dbs[l],
                           dAs[l - 1] if l > 0 else dZs[l])
                act = K.ACT_RELU
            for l in range(L):
                K.update_into(Ws[l], dWs[l], lr, Ws[l])
                K.update_into(bs[l], dbs[l], lr, bs[l])
            self.iteration += 1

    def parameters(self):
        """``(Ws, bs)``: copies of the current parameters."""
        return [W.copy() for W in self.Ws], [b.copy() for b in self.bs]
