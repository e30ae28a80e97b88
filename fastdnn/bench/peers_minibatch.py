"""The peers of the workload benchmarks (``fastdnn bench --workload``):
the same training as fastdnn's written in PyTorch (a hand-written
``no_grad`` loop), in JAX (a whole pass in one jit-compiled ``lax.scan``)
and run by scikit-learn's MLPClassifier.

Every peer starts from fastdnn's initial parameters, visits the same
batches in the same order (the permutation of each pass is
:func:`fastdnn._toolbox_options.pass_permutation`'s, the batches
:func:`~fastdnn._toolbox_options.batch_bounds`'), and applies the course's
update formulas (momentum ``v = beta v + (1 - beta) dW``, Adam with bias
correction and epsilon outside the square root), so that in float64 it
computes fastdnn's numbers up to rounding. scikit-learn has update rules
of its own (its momentum has no ``1 - beta`` factor, its Adam folds the bias
correction into the step size): it does the same work with its own rule,
and only its plain gradient descent is comparable.

Each ``*_trainer(case, X, Y, params0)`` returns ``train(passes)``, which
trains from ``params0`` and returns ``(pass costs, final parameters as
[(W, b), ...] float64 arrays, seconds or None)``. The arrays are fastdnn's
(``X`` of shape (n_x, m), ``W`` (n_l, n_{l-1}), ``b`` (n_l, 1)); the peers
hold the examples as rows, as their users do.
"""
import functools
import time
import warnings

import numpy as np

from .._toolbox_options import batch_bounds, pass_permutation

#: The seed of every workload's initial parameters and permutations.
SEED = 1


def _recorded(p, passes):
    # The passes whose cost fastdnn records (every 100th and the last).
    return p % 100 == 0 or p == passes - 1


def _targets(case, Y):
    """The labels as the peers use them, one row per example: one-hot
    (m, C) for softmax, (m, 1) of 0/1 for sigmoid."""
    y = np.asarray(Y).ravel()
    if case.output == "softmax":
        return np.eye(case.dims[-1])[y.astype(int)]
    return y.astype(np.float64)[:, None]


def _grads(ops, params, A, Y, acts, output):
    """The course's forward and backward passes on a batch ``A`` (mb, n):
    ``(batch cost, [(dW, db), ...])``, written once for torch and jax."""
    mb = A.shape[0]
    caches = []
    L = len(params)
    for l, (W, b) in enumerate(params):
        Z = A @ W.T + b.T
        A_prev = A
        if l < L - 1:
            A = ops.tanh(Z) if acts[l] == "tanh" else ops.relu(Z)
        elif output == "softmax":
            A = ops.softmax(Z)
        else:
            A = ops.sigmoid(Z)
        caches.append((A_prev, Z, A))
    if output == "softmax":
        cost = -(Y * ops.log(A)).sum() / mb
    else:
        cost = -(Y * ops.log(A) + (1 - Y) * ops.log(1 - A)).sum() / mb
    dZ = A - Y
    grads = [None] * L
    for l in range(L - 1, -1, -1):
        A_prev = caches[l][0]
        grads[l] = (dZ.T @ A_prev / mb, dZ.sum(0)[:, None] / mb)
        if l > 0:
            dA = dZ @ params[l][0]
            _, Z, Al = caches[l - 1]
            if acts[l - 1] == "tanh":
                dZ = dA * (1 - Al * Al)
            else:
                dZ = dA * (Z > 0)
    return cost, grads


# ---------------------------------------------------------------- PyTorch

class _TorchOps:
    def __init__(self, torch):
        self.relu, self.tanh = torch.relu, torch.tanh
        self.sigmoid, self.log = torch.sigmoid, torch.log
        self.softmax = lambda Z: torch.softmax(Z, 1)


def torch_trainer(case, X, Y, params0):
    """PyTorch eager, a hand-written ``torch.no_grad`` loop with in-place
    updates (torch.optim's SGD momentum lacks the course's ``1 - beta``)."""
    import torch

    tdt = {"float64": torch.float64, "float32": torch.float32}[case.dtype]
    ops = _TorchOps(torch)
    Xr = torch.from_numpy(np.ascontiguousarray(X.T, dtype=case.dtype))
    Yr = torch.from_numpy(np.ascontiguousarray(_targets(case, Y),
                                               dtype=case.dtype))
    m = Xr.shape[0]
    bounds = batch_bounds(m, case.mini_batch_size)
    perms = {}

    def train(passes):
        params = [(torch.tensor(W, dtype=tdt), torch.tensor(b, dtype=tdt))
                  for W, b in params0]
        state = [tuple(torch.zeros_like(P) for P in Wb) for Wb in params]
        state2 = [tuple(torch.zeros_like(P) for P in Wb) for Wb in params]
        costs, t = [], 0
        t0 = time.perf_counter()
        with torch.no_grad():
            for p in range(passes):
                if case.mini_batch_size is None:
                    Xp, Yp = Xr, Yr
                else:
                    if p not in perms:  # the same numbers as fastdnn's
                        perms[p] = torch.from_numpy(
                            pass_permutation(SEED, p, m))
                    Xp, Yp = Xr[perms[p]], Yr[perms[p]]
                total = 0.0
                for start, stop in bounds:
                    cost, grads = _grads(ops, params, Xp[start:stop],
                                         Yp[start:stop], case.acts,
                                         case.output)
                    if _recorded(p, passes):
                        total = total + cost * (stop - start)
                    t += 1
                    _torch_update(case, params, grads, state, state2, t)
                if _recorded(p, passes):
                    costs.append(float(total) / m)
        took = time.perf_counter() - t0
        return costs, [(W.double().numpy(), b.double().numpy())
                       for W, b in params], took

    return train


def _torch_update(case, params, grads, v, s, t):
    lr = case.learning_rate
    for (W, b), (dW, db), vl, sl in zip(params, grads, v, s):
        for P, dP, vP, sP in ((W, dW, vl[0], sl[0]), (b, db, vl[1], sl[1])):
            if case.optimizer == "gd":
                P.sub_(dP, alpha=lr)
            elif case.optimizer == "momentum":
                vP.mul_(case.beta).add_(dP, alpha=1 - case.beta)
                P.sub_(vP, alpha=lr)
            else:  # adam
                vP.mul_(case.beta1).add_(dP, alpha=1 - case.beta1)
                sP.mul_(case.beta2).addcmul_(dP, dP, value=1 - case.beta2)
                c1 = 1 - case.beta1 ** float(t)
                c2 = 1 - case.beta2 ** float(t)
                P.sub_(lr * (vP / c1) / ((sP / c2).sqrt() + case.epsilon))


# ---------------------------------------------------------------- JAX

class _JaxOps:
    def __init__(self, jax, jnp):
        self.relu = lambda Z: jnp.maximum(Z, 0)
        self.tanh, self.log = jnp.tanh, jnp.log
        self.sigmoid = jax.nn.sigmoid
        self.softmax = lambda Z: jax.nn.softmax(Z, axis=1)


@functools.lru_cache(maxsize=None)
def jax_flushes_subnormals(dtype):
    """Whether JAX's compiled code flushes subnormal numbers of ``dtype``
    to zero (XLA's CPU backend does): then a float32 run whose values
    decay below the smallest normal number (an Adam epoch's first moments
    of dead units) computes zeros where numpy, PyTorch and fastdnn keep
    the subnormals, which some CPUs process more slowly. Found once per
    dtype (each case asks twice: its check and its timing)."""
    import jax
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    tiny = np.finfo(dtype).tiny
    half = jax.jit(lambda v: v * 0.5)(jnp.asarray(tiny, dtype=dtype))
    return float(half) == 0.0


def jax_trainer(case, X, Y, params0):
    """JAX: each pass one jit-compiled call, its batches one ``lax.scan``
    (the remainder batch a step after it); full batch: every iteration of
    the run in one scan. The first call compiles; the caller makes it
    untimed and reports it on its own."""
    import jax
    if case.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    ops = _JaxOps(jax, jnp)
    Xr = jnp.asarray(np.ascontiguousarray(X.T, dtype=case.dtype))
    Yr = jnp.asarray(np.ascontiguousarray(_targets(case, Y),
                                          dtype=case.dtype))
    m = Xr.shape[0]
    k = case.mini_batch_size
    dt = np.dtype(case.dtype).type
    b1, b2, beta, eps = (dt(case.beta1), dt(case.beta2), dt(case.beta),
                         dt(case.epsilon))

    def step(carry, batch):
        params, v, s, t = carry
        A, Yb = batch
        cost, grads = _grads(ops, params, A, Yb, case.acts, case.output)
        t = t + 1
        lr = dt(case.learning_rate)
        new_p, new_v, new_s = [], [], []
        for Wb, dWb, vl, sl in zip(params, grads, v, s):
            out = [[], [], []]
            for P, dP, vP, sP in zip(Wb, dWb, vl, sl):
                if case.optimizer == "gd":
                    P = P - lr * dP
                elif case.optimizer == "momentum":
                    vP = beta * vP + (1 - beta) * dP
                    P = P - lr * vP
                else:
                    vP = b1 * vP + (1 - b1) * dP
                    sP = b2 * sP + (1 - b2) * dP * dP
                    tf = t.astype(case.dtype)
                    vc = vP / (1 - b1 ** tf)
                    sc = sP / (1 - b2 ** tf)
                    P = P - lr * vc / (jnp.sqrt(sc) + eps)
                for o, x in zip(out, (P, vP, sP)):
                    o.append(x)
            new_p.append(tuple(out[0]))
            new_v.append(tuple(out[1]))
            new_s.append(tuple(out[2]))
        return (new_p, new_v, new_s, t), cost * A.shape[0]

    if k is None:
        def run(carry, n):
            return jax.lax.scan(lambda c, _: step(c, (Xr, Yr)), carry,
                                None, length=n)
        run = jax.jit(run, static_argnums=1)
    else:
        full = m // k * k

        def one_pass(carry, perm):
            Xp, Yp = Xr[perm], Yr[perm]
            batches = (Xp[:full].reshape(-1, k, Xp.shape[1]),
                       Yp[:full].reshape(-1, k, Yp.shape[1]))
            carry, costs = jax.lax.scan(step, carry, batches)
            total = costs.sum()
            if full < m:
                carry, c = step(carry, (Xp[full:], Yp[full:]))
                total = total + c
            return carry, total / m
        one_pass = jax.jit(one_pass)

    def start():
        params = [tuple(jnp.asarray(P, dtype=case.dtype) for P in Wb)
                  for Wb in params0]
        zeros = [tuple(jnp.zeros_like(P) for P in Wb) for Wb in params]
        return (params, zeros, zeros, jnp.asarray(0, dtype=jnp.int32))

    perms = {}

    def train(passes):
        carry = start()
        for p in range(passes if k is not None else 0):
            if p not in perms:
                perms[p] = jnp.asarray(
                    pass_permutation(SEED, p, m).astype(np.int32))
        t0 = time.perf_counter()
        if k is None:
            carry, costs = run(carry, passes)
            costs = jax.block_until_ready(costs)
            took = time.perf_counter() - t0
            costs = [float(c) / m for i, c in enumerate(np.asarray(costs))
                     if _recorded(i, passes)]
        else:
            costs = []
            for p in range(passes):
                carry, c = one_pass(carry, perms[p])
                if _recorded(p, passes):
                    costs.append(c)
            jax.block_until_ready(carry)
            took = time.perf_counter() - t0
            costs = [float(c) for c in costs]
        return costs, [(np.asarray(W, dtype=np.float64),
                        np.asarray(b, dtype=np.float64))
                       for W, b in carry[0]], took

    return train


# ---------------------------------------------------------------- sklearn

def sklearn_trainer(case, X, Y, params0, *, comparable=False):
    """scikit-learn's MLPClassifier with the case's layers, activation,
    batch size and passes, from fastdnn's initial parameters.

    By default with its own update rule (``solver="sgd"`` with
    ``momentum=beta`` and its own shuffling, or ``solver="adam"``): the
    same work, not the same numbers. With ``comparable=True`` the one run
    that computes fastdnn's numbers: plain gradient descent (momentum 0)
    over the columns of pass 0's permutation in order (full batch: any
    number of passes; mini-batches: one pass)."""
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    y = np.asarray(Y).ravel().astype(int)
    Xs = np.ascontiguousarray(X.T, dtype=case.dtype)
    m = Xs.shape[0]
    k = case.mini_batch_size
    if comparable and k is not None:
        perm = pass_permutation(SEED, 0, m)
        Xs, y = Xs[perm], y[perm]
    n_classes = case.dims[-1] if case.output == "softmax" else 2
    opt = "gd" if comparable else case.optimizer

    def train(passes):
        if comparable and k is not None and passes != 1:
            raise ValueError("comparable mini-batch runs are one pass")
        clf = MLPClassifier(
            hidden_layer_sizes=tuple(case.dims[1:-1]),
            activation=case.acts[0], alpha=0.0,
            solver="adam" if opt == "adam" else "sgd",
            batch_size=m if k is None else k, learning_rate="constant",
            learning_rate_init=case.learning_rate,
            momentum=case.beta if opt == "momentum" else 0.0,
            nesterovs_momentum=False, beta_1=case.beta1,
            beta_2=case.beta2, epsilon=case.epsilon,
            shuffle=not comparable and k is not None, max_iter=1, tol=0.0,
            n_iter_no_change=passes + 1, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            clf.fit(Xs[:n_classes], np.arange(n_classes))  # the layers
            clf.coefs_ = [W.T.astype(case.dtype) for W, _ in params0]
            clf.intercepts_ = [b.ravel().astype(case.dtype)
                               for _, b in params0]
            clf.max_iter = passes
            clf.loss_curve_ = []
            clf.n_iter_ = 0
            clf.t_ = 0
            t0 = time.perf_counter()
            clf.fit(Xs, y)
            took = time.perf_counter() - t0
        costs = [c for i, c in enumerate(clf.loss_curve_)
                 if _recorded(i, passes)]
        return costs, [(W.T.astype(np.float64),
                        b.astype(np.float64)[:, None])
                       for W, b in zip(clf.coefs_, clf.intercepts_)], took

    train.version = sklearn.__version__
    return train
