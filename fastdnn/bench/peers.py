"""The peers: the seed's training in PyTorch and in scikit-learn's
MLPClassifier, from the same initial parameters as fastdnn's (each imported
only when measured: they are optional, the ``bench`` extra)."""
import time

import numpy as np

from .problem import DIMS, LEARNING_RATE, _initial_parameters
from .timing import _time_training


def _torch_training(X, Y, n, repeats, dtype):
    import torch

    tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
    Ws0, bs0 = _initial_parameters()
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=dtype))
    Yt = torch.from_numpy(np.ascontiguousarray(Y, dtype=dtype))
    m = X.shape[1]
    eps = float(np.finfo(dtype).eps)

    def train(n):
        Ws = [torch.tensor(W, dtype=tdt) for W in Ws0]
        bs = [torch.tensor(b, dtype=tdt) for b in bs0]
        L = len(Ws)
        costs = []
        with torch.no_grad():
            for i in range(n):
                As, Zs = [Xt], []
                for l in range(L):
                    Z = torch.addmm(bs[l], Ws[l], As[-1])
                    Zs.append(Z)
                    As.append(torch.relu(Z) if l < L - 1
                              else torch.sigmoid(Z))
                AL = As[-1]
                if i % 100 == 0:
                    ALc = AL.clamp(eps, 1 - eps)
                    cost = -(Yt * ALc.log()
                             + (1 - Yt) * (1 - ALc).log()).mean()
                    costs.append(float(cost))
                dZ = AL - Yt
                for l in range(L - 1, -1, -1):
                    dW = dZ @ As[l].T / m
                    db = dZ.sum(dim=1, keepdim=True) / m
                    if l > 0:
                        dZ = (Ws[l].T @ dZ) * (Zs[l - 1] > 0)
                    Ws[l] -= LEARNING_RATE * dW
                    bs[l] -= LEARNING_RATE * db
        return costs, None

    seconds, times, costs = _time_training(train, n, repeats)
    return {"seconds": seconds, "times": times, "costs": costs,
            "version": torch.__version__,
            "threads": torch.get_num_threads()}


def _sklearn_training(X, Y, n, repeats):
    import warnings

    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    Ws0, bs0 = _initial_parameters()
    Xs = np.ascontiguousarray(X.T)
    y = Y.ravel().astype(int)
    m = Xs.shape[0]

    def train(n):
        clf = MLPClassifier(
            hidden_layer_sizes=tuple(DIMS[1:-1]), activation="relu",
            solver="sgd", alpha=0.0, batch_size=m, learning_rate="constant",
            learning_rate_init=LEARNING_RATE, momentum=0.0,
            nesterovs_momentum=False, shuffle=False, max_iter=1,
            tol=0.0, n_iter_no_change=n + 1, warm_start=True,
            random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            clf.fit(Xs[:2], [0, 1])  # builds the layers
            clf.coefs_ = [W.T.copy() for W in Ws0]
            clf.intercepts_ = [b.ravel().copy() for b in bs0]
            clf.max_iter = n
            clf.loss_curve_ = []
            clf.n_iter_ = 0
            clf.t_ = 0
            t0 = time.perf_counter()
            clf.fit(Xs, y)
            took = time.perf_counter() - t0
        return clf.loss_curve_[::100], took

    seconds, times, costs = _time_training(train, n, repeats)
    return {"seconds": seconds, "times": times, "costs": costs,
            "version": sklearn.__version__}
