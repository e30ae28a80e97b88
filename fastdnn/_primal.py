"""The primal training solver of the jit backend: plain gradient descent on
the network's weights, one fused kernel per layer and direction, every
buffer allocated once.

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

from . import _kernels as K

#: The fused activation of the output layer's forward kernel, per output
#: code: softmax is column-wise, so its kernel leaves Z as is and
#: :func:`fastdnn._kernels.softmax_into` runs after it.
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
        L = len(self.Ws)
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
        widths = [W.shape[0] for W in self.Ws]
        self._Z = [np.empty((n, m), dtype) for n in widths]
        self._A = [np.empty((n, m), dtype) for n in widths]
        self._dA = [np.empty((n, m), dtype) for n in widths]
        self._dZ = [np.empty((n, m), dtype) for n in widths]
        self._dW = [np.empty_like(W) for W in self.Ws]
        self._db = [np.empty_like(b) for b in self.bs]
        # Forward activation codes, per layer (see OUTPUT_FORWARD_ACT).
        self._acts = list(acts) + [OUTPUT_FORWARD_ACT[self.output]]
        self.iteration = 0

    def run(self, n, costs_out):
        """Advance ``n`` iterations.

        ``costs_out[k]`` receives the cost of iteration k of this call, before
        that iteration's update. A non-finite cost stops the run at once
        (the remaining entries are NaN; the caller reports the iteration).
        """
        L = len(self.Ws)
        X, XT, Y = self.X, self.XT, self.Y
        Ws, bs, Zs, As = self.Ws, self.bs, self._Z, self._A
        dAs, dZs, dWs, dbs = self._dA, self._dZ, self._dW, self._db
        acts, hidden, lr = self._acts, self.acts, self._lr
        output, eps = self.output, self._eps
        softmax = output == K.OUT_SOFTMAX
        for k in range(n):
            K.forward(Ws[0], XT, bs[0], acts[0], Zs[0], As[0], True)
            A = As[0]
            for l in range(1, L):
                K.forward(Ws[l], A, bs[l], acts[l], Zs[l], As[l])
                A = As[l]
            if softmax:
                K.softmax_into(Zs[L - 1], A)
            cost = K.output_cost(A, Y, output, eps)
            costs_out[k] = cost
            if not np.isfinite(cost):
                costs_out[k + 1:n] = np.nan
                return
            # dZ_L = AL - Y, for every output: the last layer is then
            # linear in the backward pass.
            K.output_dZ_into(A, Y, dAs[L - 1])
            act = K.ACT_IDENTITY
            for l in range(L - 1, -1, -1):
                A_prev = As[l - 1] if l > 0 else X
                K.backward(dAs[l], Zs[l], A_prev, Ws[l], act, l > 0,
                           dZs[l], dWs[l], dbs[l],
                           dAs[l - 1] if l > 0 else dZs[l])
                if l > 0:
                    act = hidden[l - 1]
            for l in range(L):
                K.update_into(Ws[l], dWs[l], lr, Ws[l])
                K.update_into(bs[l], dbs[l], lr, bs[l])
            self.iteration += 1

    def parameters(self):
        """``(Ws, bs)``: copies of the current parameters."""
        return [W.copy() for W in self.Ws], [b.copy() for b in self.bs]
