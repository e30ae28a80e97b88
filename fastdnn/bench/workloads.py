"""The workloads of ``fastdnn bench --workload``: what each trains, on
which data, and the FLOP limit it is held to.

- ``mnist-shape`` (W1): 784-256-128-10 relu / softmax on 60,000 MNIST-shaped
  examples (uniform noise in [0, 1], random labels of 10 classes, from a
  fixed seed), batch 128, one epoch: momentum and Adam in float32, momentum
  in float64;
- ``mnist-shape-32`` (W2): the same at batch 32; and the per-step overhead
  of a tiny network (16-16-16-10, batch 32, 6,400 examples);
- ``digits`` (W3): scikit-learn's digits (1797 x 64, pixels / 16), 64-64-10
  tanh / softmax, full batch, 2000 iterations of gradient descent, float32
  and float64;
- ``cat`` (W4): the seed's 4-layer training of the cat images (float64,
  2500 iterations; primal and gram), and mini-batch (64) momentum on the
  cat shape, the dual form against the primal one.

The GEMM-FLOP limit of a run is its matrix-product FLOPs (forward ``W A``,
backward ``dZ A^T`` and, below the first layer, ``W^T dZ``: ``2 m (3 S -
n_1 n_0)`` per pass, ``S = sum n_l n_{l-1}``) over the peak that numpy's
BLAS reaches on a large square product in the same dtype, measured here.
"""
import dataclasses
import time

import numpy as np

from .peers_minibatch import SEED

#: Every workload, in the order ``all`` runs them.
WORKLOAD_NAMES = ("mnist-shape", "mnist-shape-32", "digits", "cat")


@dataclasses.dataclass(frozen=True)
class Case:
    """One training measured by fastdnn and its peers."""

    key: str
    title: str
    data: str
    dims: tuple
    activation: str
    output: str
    optimizer: str
    learning_rate: float
    mini_batch_size: object
    passes: int
    dtype: str
    solvers: tuple = ("primal",)
    peers: tuple = ("jax", "torch", "sklearn")
    quick_passes: int = 0
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8

    @property
    def acts(self):
        return (self.activation,) * (len(self.dims) - 2)

    def flops(self, m):
        """Matrix-product FLOPs of one pass over m examples."""
        d = self.dims
        s = sum(d[l] * d[l - 1] for l in range(1, len(d)))
        return 2.0 * m * (3 * s - d[1] * d[0])


_MNIST = (784, 256, 128, 10)
_W1 = dict(data="mnist", dims=_MNIST, activation="relu", output="softmax",
           passes=1, quick_passes=1)
_CAT = (12288, 20, 7, 5, 1)

WORKLOADS = {
    "mnist-shape": (
        Case("W1-momentum", "W1: MNIST shape, batch 128, 1 epoch, momentum",
             optimizer="momentum", learning_rate=0.05, mini_batch_size=128,
             dtype="float32", **_W1),
        Case("W1-adam", "W1: MNIST shape, batch 128, 1 epoch, Adam",
             optimizer="adam", learning_rate=0.001, mini_batch_size=128,
             dtype="float32", **_W1),
        Case("W1-momentum-f64", "W1 float64: batch 128, 1 epoch, momentum",
             optimizer="momentum", learning_rate=0.05, mini_batch_size=128,
             dtype="float64", **_W1),
    ),
    "mnist-shape-32": (
        Case("W2-momentum", "W2: MNIST shape, batch 32, 1 epoch, momentum",
             optimizer="momentum", learning_rate=0.05, mini_batch_size=32,
             dtype="float32", **_W1),
        Case("W2-adam", "W2: MNIST shape, batch 32, 1 epoch, Adam",
             optimizer="adam", learning_rate=0.001, mini_batch_size=32,
             dtype="float32", **_W1),
        Case("overhead", "per step: 16-16-16-10, batch 32, momentum",
             data="tiny", dims=(16, 16, 16, 10), activation="relu",
             output="softmax", optimizer="momentum", learning_rate=0.05,
             mini_batch_size=32, passes=10, quick_passes=2, dtype="float32",
             peers=("jax", "torch", "sklearn", "reference")),
    ),
    "digits": tuple(
        Case("W3-%s" % dt, "W3: digits 64-64-10 tanh, full batch, 2000 it, "
             "%s" % dt, data="digits", dims=(64, 64, 10),
             activation="tanh", output="softmax", optimizer="gd",
             learning_rate=0.5, mini_batch_size=None, passes=2000,
             quick_passes=20, dtype=dt,
             peers=("jax", "torch", "sklearn", "reference"))
        for dt in ("float32", "float64")),
    "cat": (
        Case("W4-full", "W4: the cat, 2500 it of gradient descent, float64",
             data="cat", dims=_CAT, activation="relu", output="sigmoid",
             optimizer="gd", learning_rate=0.0075, mini_batch_size=None,
             passes=2500, quick_passes=20, dtype="float64",
             solvers=("primal", "gram")),
        Case("W4-minibatch", "W4: the cat, batch 64 momentum, 500 passes, "
             "float64", data="cat", dims=_CAT, activation="relu",
             output="sigmoid", optimizer="momentum", learning_rate=0.0075,
             mini_batch_size=64, passes=500, quick_passes=10,
             dtype="float64", solvers=("primal", "gram"), peers=()),
    ),
}


def case_by_key(key):
    """The case of :data:`WORKLOADS` whose key is ``key`` (``"W3-float32"``,
    ...); ValueError naming the keys otherwise."""
    for cases in WORKLOADS.values():
        for case in cases:
            if case.key == key:
                return case
    raise ValueError("no workload case %r; the cases: %s" % (
        key, ", ".join(c.key for cases in WORKLOADS.values()
                       for c in cases)))


def load_data(name, quick=False, data_dir=None):
    """``(X (n_x, m) float64, Y (1, m), description)`` of a workload's
    data; ``quick`` makes the synthetic sets 10x smaller."""
    if name == "mnist":
        m = 6000 if quick else 60000
        rng = np.random.RandomState(0)
        return (rng.random_sample((784, m)), rng.randint(0, 10, (1, m)),
                "MNIST-shaped noise, %d x 784, 10 random classes" % m)
    if name == "tiny":
        m = 640 if quick else 6400
        rng = np.random.RandomState(0)
        return (rng.random_sample((16, m)), rng.randint(0, 10, (1, m)),
                "noise, %d x 16, 10 random classes" % m)
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            rng = np.random.RandomState(0)
            return (rng.random_sample((64, 1797)),
                    rng.randint(0, 10, (1, 1797)),
                    "digits-shaped noise (scikit-learn not installed)")
        d = load_digits()
        return (np.ascontiguousarray(d.data.T / 16.0), d.target[None, :],
                "scikit-learn's digits, 1797 x 64, pixels / 16")
    if name == "cat":
        from .problem import _load_problem
        X, Y, source = _load_problem(data_dir)
        return X, Y, source
    raise ValueError("unknown workload data %r" % name)


def gemm_peak(dtype, n=2048, repeats=7):
    """FLOP/s of numpy's best ``n x n`` matrix product in ``dtype`` over
    ``repeats`` (the BLAS's threads as configured: 2 on a 2-core host)."""
    rng = np.random.RandomState(0)
    a = rng.random_sample((n, n)).astype(dtype)
    b = rng.random_sample((n, n)).astype(dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best


def fastdnn_input(case, X, order=None):
    """X (n_x, m) in the case's dtype, made before any clock starts.

    Every side of a workload gets the data in the memory layout it reads,
    as the peers get theirs: mini-batches gather examples, so fastdnn
    gets the peers' (m, n_x) layout seen as (n_x, m) (Fortran order, each
    example contiguous, no copy in the fit); full batch gets C order.
    ``order="C"`` forces C order, which makes a mini-batch fit copy X^T
    itself (the row "X in C order" times that)."""
    if order is None:
        order = "C" if case.mini_batch_size is None else "F"
    return np.asarray(X, dtype=case.dtype, order=order)


def fastdnn_trainer(case, X, Y, solver, backend="jit", order=None):
    """fastdnn's ``L_layer_model`` on the case: ``train(passes)`` returning
    ``(recorded costs, [(W, b), ...] float64, seconds)``; ``backend``
    "reference" is the numpy reference (X's dtype); ``order`` as in
    :func:`fastdnn_input`."""
    from .. import jit, reference

    Xd = fastdnn_input(case, X, order)
    kw = dict(activation=case.activation, output=case.output,
              optimizer=case.optimizer, beta=case.beta, beta1=case.beta1,
              beta2=case.beta2, epsilon=case.epsilon,
              mini_batch_size=case.mini_batch_size, seed=SEED)
    if backend == "jit":
        fit = jit.L_layer_model
        kw.update(solver=solver, dtype=case.dtype)
    else:
        fit = reference.L_layer_model
    L = len(case.dims) - 1

    def train(passes):
        rec = []
        t0 = time.perf_counter()
        params, _ = fit(Xd, Y, list(case.dims), case.learning_rate, passes,
                        callback=lambda i, c: rec.append(float(c)), **kw)
        took = time.perf_counter() - t0
        return rec, [(params["W%d" % l].astype(np.float64),
                      params["b%d" % l].astype(np.float64))
                     for l in range(1, L + 1)], took

    return train


def random_examples(case, m, seed=0):
    """``m`` random examples of the case's shape, ``(X, Y)``: X (n_x, m)
    uniform on [0, 1), Y one-hot random classes (n_L, m) for a softmax
    output, else random 0/1 labels (1, m). What the compile-time scripts'
    first fits train on (``benchmarks/compile_time.py``,
    ``benchmarks/compile_breakdown.py``)."""
    rng = np.random.RandomState(seed)
    X = rng.rand(case.dims[0], m)
    labels = rng.randint(0, case.dims[-1], m)
    Y = (np.eye(case.dims[-1])[:, labels] if case.output == "softmax"
         else (rng.rand(1, m) > 0.5).astype(float))
    return X, Y


def initial_parameters(case):
    """fastdnn's initial parameters of the case, [(W, b), ...] float64."""
    from .. import reference
    p = reference.initialize_parameters_deep(list(case.dims), seed=SEED,
                                             activation=case.activation)
    L = len(case.dims) - 1
    return [(p["W%d" % l], p["b%d" % l]) for l in range(1, L + 1)]


def peer_trainer(peer, case, X, Y, comparable=False):
    """``(train, version)`` of an installed peer, or ``(None, reason)``."""
    from . import peers_minibatch as pm
    p0 = initial_parameters(case)
    try:
        if peer == "torch":
            import torch
            return pm.torch_trainer(case, X, Y, p0), "PyTorch %s (%d " \
                "threads)" % (torch.__version__, torch.get_num_threads())
        if peer == "jax":
            import jax
            flushed = (", subnormals flushed to zero"
                       if pm.jax_flushes_subnormals(case.dtype) else "")
            return pm.jax_trainer(case, X, Y, p0), "JAX %s%s" % (
                jax.__version__, flushed)
        if peer == "sklearn":
            t = pm.sklearn_trainer(case, X, Y, p0, comparable=comparable)
            return t, "scikit-learn %s MLPClassifier" % t.version
    except ImportError as exc:
        return None, "not installed (%s)" % exc.name
    if peer == "reference":
        return fastdnn_trainer(case, X, Y, None, "reference"), \
            "fastdnn numpy reference"
    raise ValueError("unknown peer %r" % peer)


def max_rel(a, b):
    """Largest relative difference of two cost lists (their common
    prefix), or of two parameter lists (each array's max abs difference
    over its max abs value)."""
    if not len(a) or not len(b):
        return float("nan")
    if isinstance(a[0], tuple):
        return max(float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)),
                                                     1e-300))
                   for xa, ya in zip(a, b) for x, y in zip(xa, ya))
    n = min(len(a), len(b))
    a, b = np.asarray(a[:n], float), np.asarray(b[:n], float)
    return float(np.max(np.abs(a - b) / np.abs(b)))
