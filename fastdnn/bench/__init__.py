"""``fastdnn bench``: how fast the numba backend trains, against numpy.

Runs the headline comparison, the seed's 4-layer training ([12288, 20, 7,
5, 1], learning rate 0.0075, 2500 iterations on the 209 cat images):

- the numpy reference, twice, each in its own process: with the environment
  as it is, and with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` removed
  (set on some machines for old OpenBLAS builds; they can slow a current
  numpy). Each process reports which OpenBLAS kernel it runs
  (threadpoolctl);
- the numba backend: primal float64, gram float64, primal and gram float32;
- PyTorch (float64, float32) and scikit-learn's MLPClassifier when they are
  importable, from the same initial parameters;

plus the fused-kernel ratios at the cat shape, the start-up time of a new
process (import + 1-iteration training; warm cache, and cold compile), and
how the time per iteration of the primal and gram solvers scales with m and
n_x (where gram stops paying, and whether ``solver="auto"`` switches there).

Times are medians over ``--repeats``; compilation is kept out of them (a
first call is made and reported on its own). Prints a table, and writes
``bench.json``, ``bench.md``, ``bench.png`` (training times) and
``bench_kernels.png`` (kernel times against their targets) to ``--out``.
``--check`` exits with status 1 when a target fails.

    python -m fastdnn.bench [--repeats N] [--quick] [--out DIR] [--data DIR]
                            [--check] [--no-peers]
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

#: The OpenBLAS variables the numpy reference is also measured without.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

DIMS = [12288, 20, 7, 5, 1]
LEARNING_RATE = 0.0075
ITERATIONS = 2500
#: Iterations actually run by --quick; times are scaled to ITERATIONS.
QUICK_ITERATIONS = 200

#: Performance targets: (key, description, kind, threshold). ``ratio``:
#: measured >= threshold; ``seconds`` / ``relative``: measured <= threshold.
TARGETS = [
    ("fused_forward_float64", "fused forward (relu, cat shape, the course's"
     " X) float64 vs numpy float64", "ratio", 1.4),
    ("fused_forward_float32", "fused forward (relu, cat shape, the course's"
     " X) float32 vs numpy float64", "ratio", 2.0),
    ("fused_backward_float64", "fused backward (relu mask + dW + db, cat "
     "shape) float64 vs numpy float64", "ratio", 1.4),
    ("fused_backward_float32", "fused backward (relu mask + dW + db, cat "
     "shape) float32 vs numpy float64", "ratio", 2.0),
    ("primal_float64_ratio", "primal float64 training vs reference",
     "ratio", 2.0),
    ("gram_float64_seconds", "gram float64 training, seconds", "seconds",
     0.3),
    ("gram_float64_ratio", "gram float64 training vs reference", "ratio",
     40.0),
    ("primal_float32_ratio", "primal float32 training vs float64 reference",
     "ratio", 4.0),
    ("startup_warm_seconds", "new process: launch to 1-iteration training "
     "done, warm cache", "seconds", 1.0),
    ("startup_warm_no_scipy_seconds", "the same without scipy (the "
     "README's `pip install .`; numba imports scipy when it can)",
     "seconds", 1.0),
    ("primal_float64_cost_rel", "primal float64: max relative cost "
     "difference", "relative", 1e-9),
    ("gram_float64_cost_rel", "gram float64: max relative cost difference",
     "relative", 1e-9),
]

#: Kernel comparisons at the cat shape: (key, registry operation, layout of
#: A_prev, description). The targets are the first layer as training runs
#: it: its forward pass reads the course's X, which is Fortran-ordered
#: (``images.reshape(m, -1).T``), and its backward pass is relu mask + dW +
#: db (no dA_prev) over a C-ordered X. The other layout of each is
#: reported beside them (a backward pass over the course's X is what code
#: that calls the course's L_model_backward runs).
KERNELS = (
    ("forward", "linear_activation_forward[relu]", "F",
     "forward: W A_prev + b, relu; A_prev Fortran-ordered (the course's X)"),
    ("forward_c", "linear_activation_forward[relu]", "C",
     "forward: W A_prev + b, relu; A_prev C-ordered"),
    ("backward", "first_layer_backward[relu]", "C",
     "backward: relu mask, dW, db; A_prev C-ordered"),
    ("backward_f", "first_layer_backward[relu]", "F",
     "backward: relu mask, dW, db; A_prev Fortran-ordered (the course's X)"),
)


def _kernel_args(op, layout, dtype):
    from ..registry import CAT, make_inputs
    args = make_inputs(op, CAT, dtype, seed=0)
    if layout == "F":
        if op.startswith("linear_activation_forward"):
            args = (np.asfortranarray(args[0]),) + tuple(args[1:])
        else:  # (dA, ((A_prev, W, b), Z))
            dA, ((A_prev, W, b), Z) = args
            args = (dA, ((np.asfortranarray(A_prev), W, b), Z))
    return args


# ---------------------------------------------------------------- helpers

def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads",
            "threading_layer")
    return [{k: i.get(k) for k in keep} for i in threadpool_info()
            if i.get("user_api") == "blas"]


def _machine():
    cpu = platform.processor() or ""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not cpu.strip():
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line
                    break
    except OSError:
        pass
    import numba

    simd = [f for f in ("avx512f", "avx2", "fma") if " %s " % f in flags
            + " "]
    info = {
        "cpu": cpu, "cores": os.cpu_count(), "simd": simd,
        "numba_cpu": _numba_cpu_name(),
        "python": platform.python_version(), "numpy": np.__version__,
        "numba": numba.__version__, "blas": _blas_info(),
        "blas_env": {k: os.environ.get(k) for k in BLAS_ENV},
        "platform": platform.platform(),
        "loadavg": _loadavg(),
    }
    return info


def _loadavg():
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def _numba_cpu_name():
    try:
        import llvmlite.binding as llvm
        return llvm.get_host_cpu_name()
    except Exception:  # pragma: no cover - informational only
        return None


def _load_problem(data):
    """``(X, Y, source)``: the cat training set, else cat-shaped noise."""
    from .. import data as _data
    try:
        train_x_orig, train_y, _, _, _ = _data.load_data(data)
        X = _data.flatten_images(train_x_orig)
        return np.ascontiguousarray(X), train_y.astype(np.float64), "cat"
    except (FileNotFoundError, ImportError, OSError):
        rng = np.random.RandomState(0)
        X = rng.random_sample((DIMS[0], 209))
        Y = (rng.random_sample((1, 209)) > 0.5).astype(np.float64)
        return X, Y, "synthetic (dataset not found)"


def _time_training(train, n, repeats):
    """Time ``train(k)`` (which returns ``(result, seconds or None)``).

    Returns ``(seconds for ITERATIONS, raw times, last result)``. With
    ``n == ITERATIONS`` that is the median of the timed runs; with fewer
    iterations (--quick) a 1-iteration run is timed too and the time is
    extrapolated, ``t1 + (tn - t1) (ITERATIONS - 1) / (n - 1)``, so that a
    solver's one-time setup is counted once, not ``ITERATIONS / n`` times.
    """
    return _time_trainings({"": train}, n, repeats)[""]


def _time_trainings(trains, n, repeats, pause=0.0):
    """:func:`_time_training` of each of ``trains`` (``{name: train}``),
    their repeats taken in turn (each after ``pause`` seconds), so that a
    slow spell of the machine falls on all of them alike rather than on
    one. Returns ``{name: (seconds, times, last result)}``."""
    def timed(train, k):
        if pause:
            time.sleep(pause)
        t0 = time.perf_counter()
        result, took = train(k)
        return (time.perf_counter() - t0 if took is None else took), result

    extrapolate = n != ITERATIONS and n >= 2
    times = {name: [] for name in trains}
    ones = {name: [] for name in trains}
    results = dict.fromkeys(trains)
    for _ in range(repeats):
        for name, train in trains.items():
            t, results[name] = timed(train, n)
            times[name].append(t)
    for _ in range(repeats if extrapolate else 0):
        for name, train in trains.items():
            ones[name].append(timed(train, 1)[0])
    out = {}
    for name in trains:
        tn = _median(times[name])
        if extrapolate:
            t1 = _median(ones[name])
            seconds = t1 + (tn - t1) * (ITERATIONS - 1) / (n - 1)
        else:
            seconds = tn * ITERATIONS / max(n, 1)
        out[name] = (seconds, times[name], results[name])
    return out


def _max_rel(costs, ref):
    costs, ref = np.asarray(costs, float), np.asarray(ref, float)
    n = min(len(costs), len(ref))
    if n == 0:
        return float("nan")
    return float(np.max(np.abs(costs[:n] - ref[:n]) / np.abs(ref[:n])))


def _initial_parameters():
    from .. import reference
    p = reference.initialize_parameters_deep(DIMS)
    L = len(DIMS) - 1
    return ([p["W%d" % l] for l in range(1, L + 1)],
            [p["b%d" % l] for l in range(1, L + 1)])


# ---------------------------------------------------------------- numpy side

#: The numba trainings of the headline table, (solver, dtype).
NUMBA_RUNS = (("primal", "float64"), ("gram", "float64"),
              ("primal", "float32"), ("gram", "float32"))


def _numpy_worker(spec):
    """In its own process: the reference's training and numpy's kernels,
    and with ``spec["paired"]`` numba's trainings and kernels too, timed in
    turn with the reference's and numpy's (the targets' ratios are taken
    within this one process)."""
    from .. import reference
    from ..registry import REGISTRY

    X, Y, source = _load_problem(spec["data"])
    n, repeats = spec["iterations"], spec["repeats"]
    trains = {"reference": lambda k: (
        reference.L_layer_model(X, Y, DIMS, LEARNING_RATE, k), None)}
    first = {}
    if spec.get("paired"):
        for solver, dtype in NUMBA_RUNS:
            key = "%s|%s" % (solver, dtype)
            trains[key], first[key] = _numba_train(X, Y, solver, dtype)
    timed = _time_trainings(trains, n, repeats,
                            pause=PAIR_PAUSE if first else 0.0)
    seconds, times, (_, costs) = timed.pop("reference")
    out = {"blas": _blas_info(),
           "blas_env": {k: os.environ.get(k) for k in BLAS_ENV},
           "source": source, "seconds": seconds, "times": times,
           "costs": costs, "kernels": {}}
    if first:
        out["numba"] = {key: {"seconds": sec, "times": t, "costs": r[1],
                              "first_call": first[key]}
                        for key, (sec, t, r) in timed.items()}
    for key, op, layout, _ in KERNELS:
        for dtype in ("float64", "float32"):
            out["kernels"]["%s|%s" % (key, dtype)] = _time_kernels(
                [REGISTRY[op]["numpy-raw"]], _kernel_args(op, layout, dtype),
                max(3, repeats))[0]
    if first:
        out["paired"] = _numba_kernels(repeats)
    return out


def _run_worker(spec, unset_blas_env):
    env = dict(os.environ)
    if unset_blas_env:
        for k in BLAS_ENV:
            env.pop(k, None)
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "fastdnn.bench", "--worker", json.dumps(spec)],
        env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("the numpy benchmark process failed:\n"
                           + proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- numba side

def _kernel_rows(as_is, unset, paired):
    """One row per kernel and dtype.

    The targets' ratios (``ratio_vs_f64``, ``ratio_same_dtype``) are taken
    as the targets define them, within one process: numba's time against
    numpy's, timed in alternating blocks (``paired``) in the worker where
    numpy runs its faster kernel (``unset``). ``ratio_vs_fastest_f64`` is a
    stricter reading kept beside it: the same numba time against the
    fastest numpy float64 figure of any measurement, numpy timed alone
    included (at another moment of the run, so a quiet spell for numpy
    alone counts against numba).
    """
    rows = []
    for key, op, layout, desc in KERNELS:
        k64 = "%s|float64" % key
        np64 = paired[k64][1]
        fastest64 = min(as_is["kernels"][k64], unset["kernels"][k64], np64)
        for dtype in ("float64", "float32"):
            k = "%s|%s" % (key, dtype)
            nb, npy = paired[k]
            rows.append({
                "key": key, "kernel": desc, "operation": op,
                "layout": layout, "dtype": dtype,
                "numpy_ms": 1e3 * as_is["kernels"][k],
                "numpy_unset_ms": 1e3 * unset["kernels"][k],
                "numpy_paired_ms": 1e3 * npy,
                "numpy_paired_f64_ms": 1e3 * np64,
                "numba_ms": 1e3 * nb,
                "ratio_vs_f64": np64 / nb,
                "ratio_same_dtype": npy / nb,
                "ratio_vs_fastest_f64": fastest64 / nb})
    return rows


def _numba_train(X, Y, solver, dtype):
    """``(train, seconds of its first call)``: the first call (compiling or
    loading the kernels) is made here, so that no timed run includes it."""
    from .. import jit

    Xd = np.ascontiguousarray(X, dtype=dtype)

    def train(k):
        return jit.L_layer_model(Xd, Y, DIMS, LEARNING_RATE, k,
                                 solver=solver), None

    t0 = time.perf_counter()
    train(1)
    return train, time.perf_counter() - t0


#: Pause before each timed block of :func:`_time_kernels` when numpy and
#: numba alternate. After a call, OpenBLAS's worker threads spin for up to
#: ~0.1 s (and OpenMP's for a while) before they sleep; a block of the other
#: library started at once would share the two cores with them.
PAIR_PAUSE = 0.3


def _time_kernels(fns, args, repeats, block=0.1, pause=0.0):
    """Median seconds per call of each of ``fns``: ``repeats`` blocks of
    calls of ~``block`` seconds each, alternating between the functions so
    that a slow spell of the machine falls on all of them alike, each block
    after ``pause`` seconds (:data:`PAIR_PAUSE` when two libraries alternate,
    so that the other one's idle threads have stopped spinning)."""
    return _time_kernel_cases({"": (fns, args)}, repeats, block, pause)[""]


def _time_kernel_cases(cases, repeats, block=0.1, pause=0.0):
    """:func:`_time_kernels` of each case (``{name: (fns, args)}``), in
    rounds: each round times one block of every function of every case, so
    that each median is taken over blocks spread across the whole
    measurement rather than over a few seconds that one slow spell of the
    machine could cover. Returns ``{name: [median seconds per fn]}``."""
    per_block = {}
    for name, (fns, args) in cases.items():
        per_block[name] = []
        for fn in fns:
            fn(*args)
            t0 = time.perf_counter()
            fn(*args)
            per_block[name].append(max(1, int(
                block / max(time.perf_counter() - t0, 1e-7))))
    times = {name: [[] for _ in fns] for name, (fns, _) in cases.items()}
    for _ in range(repeats):
        for name, (fns, args) in cases.items():
            for fn, n, out in zip(fns, per_block[name], times[name]):
                if pause:
                    time.sleep(pause)
                t0 = time.perf_counter()
                for _ in range(n):
                    fn(*args)
                out.append((time.perf_counter() - t0) / n)
    return {name: [_median(t) for t in ts] for name, ts in times.items()}


def _numba_kernels(repeats):
    """numba's kernels, each paired in this process with numpy's: every
    kernel and dtype timed in each round (see :func:`_time_kernel_cases`).
    Returns ``{"key|dtype": (numba seconds, numpy seconds)}``."""
    from ..registry import REGISTRY
    cases = {}
    for key, op, layout, _ in KERNELS:
        for dtype in ("float64", "float32"):
            cases["%s|%s" % (key, dtype)] = (
                [REGISTRY[op]["numba"], REGISTRY[op]["numpy-raw"]],
                _kernel_args(op, layout, dtype))
    return {name: tuple(t) for name, t in _time_kernel_cases(
        cases, max(5, 2 * repeats), pause=PAIR_PAUSE).items()}


# ---------------------------------------------------------------- peers

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


# ---------------------------------------------------------------- startup

_STARTUP = """
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import fastdnn
t1 = time.perf_counter()
rng = np.random.RandomState(0)
X = rng.random_sample((12288, 209))
Y = (rng.random_sample((1, 209)) > 0.5).astype(float)
t2 = time.perf_counter()
fastdnn.get_backend("numba").L_layer_model(X, Y, [12288, 20, 7, 5, 1],
                                           0.0075, 1)
t3 = time.perf_counter()
done = time.time() - float(os.environ["FASTDNN_BENCH_LAUNCH"])
print(json.dumps({"import": t1 - t0, "train": t3 - t2, "done": done,
                  "scipy": sys.modules.get("scipy") is not None}))
"""

#: Prepended to :data:`_STARTUP` to run it as if scipy were not installed.
#: When scipy is installed, numba imports it (~0.4 s here) as it loads its
#: first kernel, to look for BLAS bindings that fastdnn does not use.
_NO_SCIPY = "import sys; sys.modules['scipy'] = None\n"


def _startup_once(cache_dir=None, block_scipy=False):
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("FASTDNN_NUMBA_CACHE", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    t0 = time.perf_counter()
    code = (_NO_SCIPY if block_scipy else "") + _STARTUP
    env["FASTDNN_BENCH_LAUNCH"] = repr(time.time())
    proc = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError("the start-up process failed:\n"
                           + proc.stderr[-3000:])
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    # "wall": from the launch of the process to the end of its training
    # (what the target asks); "exit": the rest, the interpreter's teardown
    # (its last garbage collection walks numba's many objects).
    inner["wall"] = inner.pop("done")
    inner["exit"] = wall - inner["wall"]
    return inner


def _startup(repeats, cold=True):
    _startup_once()  # fills the cache if it is empty
    keys = ("wall", "import", "train", "exit")
    warm = [_startup_once() for _ in range(max(3, repeats))]
    out = {"warm": {k: _median([w[k] for w in warm]) for k in keys}}
    out["warm"]["scipy"] = any(w["scipy"] for w in warm)
    if out["warm"]["scipy"]:
        bare = [_startup_once(block_scipy=True)
                for _ in range(max(3, repeats))]
        out["warm_no_scipy"] = {k: _median([w[k] for w in bare])
                                for k in keys}
    if cold:
        with tempfile.TemporaryDirectory() as d:
            c = _startup_once(d)
        out["cold"] = c
    return out


# ---------------------------------------------------------------- scaling

def _scaling(points, repeats, budget=0.5):
    """Seconds per iteration of the primal and gram solvers, and the
    one-time setup, at each ``(n_x, m)``."""
    from .._gram import GramSolver, gram_pays
    from .._primal import PrimalSolver

    rows = []
    for n_x, m in points:
        rng = np.random.RandomState(0)
        X = rng.random_sample((n_x, m))
        Y = (rng.random_sample((1, m)) > 0.5).astype(np.float64)
        dims = [n_x] + DIMS[1:]
        Ws = [rng.standard_normal((dims[l], dims[l - 1]))
              / np.sqrt(dims[l - 1]) for l in range(1, len(dims))]
        bs = [np.zeros((d, 1)) for d in dims[1:]]
        row = {"n_x": n_x, "m": m, "auto": (
            "gram" if gram_pays(n_x, m, dims) else "primal")}
        for name, cls in (("primal", PrimalSolver), ("gram", GramSolver)):
            cls(X[:, :2].copy(), Y[:, :2], [Ws[0]] + Ws[1:], bs,
                LEARNING_RATE).run(1, np.empty(1))  # compile
            setups, per_it = [], []
            # One repeat at large m: K alone is m^2 doubles.
            for _ in range(max(1, repeats if m <= 4000 else 1)):
                t0 = time.perf_counter()
                solver = cls(X, Y, Ws, bs, LEARNING_RATE)
                t1 = time.perf_counter()
                solver.run(1, np.empty(1))
                once = max(time.perf_counter() - t1, 1e-6)
                k = max(2, min(200, int(budget / once)))
                costs = np.empty(k)
                t2 = time.perf_counter()
                solver.run(k, costs)
                per_it.append((time.perf_counter() - t2) / k)
                setups.append(t1 - t0)
                del solver
            row[name] = {"setup": _median(setups),
                         "per_iteration": _median(per_it)}
            row[name]["total_2500"] = (row[name]["setup"]
                                       + ITERATIONS * row[name][
                                           "per_iteration"])
        row["faster"] = ("gram" if row["gram"]["total_2500"]
                         < row["primal"]["total_2500"] else "primal")
        row["auto_right"] = row["auto"] == row["faster"]
        rows.append(row)
        del X
    return rows


# ---------------------------------------------------------------- report

def _check(targets):
    results = []
    for key, desc, kind, threshold in TARGETS:
        value = targets.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            ok = None
        elif kind == "ratio":
            ok = value >= threshold
        else:
            ok = value <= threshold
        results.append({"key": key, "description": desc, "kind": kind,
                        "threshold": threshold, "value": value,
                        "status": {True: "PASS", False: "FAIL",
                                   None: "n/a"}[ok]})
    return results


def _fmt(x, digits=3):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    return "%.*g" % (digits, x)


def _training_table(rows):
    head = ("| run | dtype | seconds (2500 it) | x ref (env as-is) | "
            "x ref (env unset) | max rel. cost diff | first call (s) |")
    lines = [head, "|" + "---|" * 7]
    for r in rows:
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            r["name"], r["dtype"], _fmt(r["seconds"], 4),
            _fmt(r.get("ratio")), _fmt(r.get("ratio_unset")),
            _fmt(r.get("cost_rel"), 2), _fmt(r.get("first_call"))))
    return lines


def _markdown(res):
    m = res["machine"]
    out = ["# fastdnn bench", "",
           "Command: `%s`" % res["command"], "",
           "Machine: %s, %s cores (%s; LLVM target %s), Python %s, numpy %s "
           "(%s), numba %s." % (
               m["cpu"], m["cores"], "/".join(m["simd"]) or "?",
               m["numba_cpu"], m["python"], m["numpy"],
               ", ".join("%s %s %s" % (b["internal_api"], b["version"],
                                       b["architecture"])
                         for b in m["blas"]) or "BLAS ?", m["numba"]),
           "", "Data: %s; %d iterations run%s; medians of %d repeats." % (
               res["source"], res["iterations"],
               " (times scaled to 2500)" if res["iterations"] != ITERATIONS
               else "", res["repeats"]), ""]
    out.append("OpenBLAS kernel, numpy reference: env as-is %s (%s), env "
               "unset %s%s." % (
                   res["numpy"]["as_is"]["kernel"],
                   ", ".join("%s=%s" % kv for kv in
                             res["numpy"]["as_is"]["blas_env"].items()),
                   res["numpy"]["unset"]["kernel"],
                   " (neither variable is set here: one run stands for "
                   "both)" if res["numpy"]["unset_is_as_is"] else ""))
    load = res["machine"].get("loadavg")
    if load:
        out.append("")
        out.append("Load average at the start: %s; at the end: %s (2 "
                   "cores: above ~1 other processes were competing)." % (
                       " ".join("%.2f" % x for x in load),
                       " ".join("%.2f" % x for x in res.get(
                           "loadavg_end") or [])))
    out += ["", "## Training (seed's 4-layer model)", ""]
    out += _training_table(res["training"])
    out += ["", "## Fused kernels at the cat shape (W 20x12288, A_prev "
            "12288x209)", "",
            "| kernel | dtype | numpy as-is, alone (ms) | numpy unset, "
            "alone (ms) | numpy paired (ms) | numba paired (ms) | x numpy "
            "f64 (paired) | x numpy same dtype (paired) | x fastest numpy "
            "f64 |", "|" + "---|" * 9]
    for k in res["kernels"]:
        out.append("| " + " | ".join([
            k["kernel"], k["dtype"], _fmt(k["numpy_ms"]),
            _fmt(k["numpy_unset_ms"]), _fmt(k["numpy_paired_ms"]),
            _fmt(k["numba_ms"]), _fmt(k["ratio_vs_f64"]),
            _fmt(k["ratio_same_dtype"]),
            _fmt(k.get("ratio_vs_fastest_f64"))]) + " |")
    out += ["", "numpy: the course's expressions alone (`W @ A + b` then "
            "relu; the relu mask, `dZ @ A.T / m` and the row sums), without "
            "the argument checks of fastdnn's public functions; numba: the "
            "public function, checks included. Paired: numpy and numba "
            "timed in blocks alternating in one process, the one without "
            "the OpenBLAS variables (each block after a pause that lets the "
            "other library's threads go idle); the targets' ratios are "
            "these, measured in one process. Alone: numpy "
            "timed on its own in that process (unset) and in one with the "
            "environment as it is (as-is; the same process when neither "
            "variable is set). The last column is a stricter reading: numba "
            "against the fastest numpy float64 time of all three, numpy "
            "alone being timed at another moment of the run."]
    if res.get("startup"):
        s = res["startup"]
        out += ["", "## Start-up (new process: import fastdnn + 1-iteration "
                "training on the cat shape)", "",
                "| cache | launch to trained (s) | import (s) | 1-it "
                "training (s) | exit afterwards (s) |",
                "|---|---|---|---|---|"]
        rows = [("warm" + (" (numba imports scipy)" if s["warm"].get("scipy")
                           else ""), s["warm"])]
        if "warm_no_scipy" in s:
            rows.append(("warm, scipy not importable (as without the "
                         "sklearn/bench extras)", s["warm_no_scipy"]))
        if "cold" in s:
            rows.append(("cold (empty cache: compiles)", s["cold"]))
        for name, r in rows:
            out.append("| %s | %s | %s | %s | %s |" % (
                name, _fmt(r["wall"]), _fmt(r["import"]), _fmt(r["train"]),
                _fmt(r.get("exit"))))
    if res.get("scaling"):
        out += ["", "## Scaling (layers [n_x, 20, 7, 5, 1], float64)", "",
                "| n_x | m | primal ms/it | gram ms/it | gram setup (s) | "
                "faster for 2500 it | auto picks | auto right |",
                "|" + "---|" * 8]
        for r in res["scaling"]:
            out.append("| %d | %d | %s | %s | %s | %s | %s | %s |" % (
                r["n_x"], r["m"], _fmt(1e3 * r["primal"]["per_iteration"]),
                _fmt(1e3 * r["gram"]["per_iteration"]),
                _fmt(r["gram"]["setup"]), r["faster"], r["auto"],
                "yes" if r["auto_right"] else "NO"))
    out += ["", "## Targets", "", "| target | threshold | measured | "
            "status |", "|---|---|---|---|"]
    for t in res["targets"]:
        op = ">=" if t["kind"] == "ratio" else "<="
        out.append("| %s | %s %s | %s | %s |" % (
            t["description"], op, _fmt(t["threshold"]),
            _fmt(t["value"], 3), t["status"]))
    return "\n".join(out) + "\n"


def _plot(res, path):
    from matplotlib.figure import Figure

    rows = res["training"]
    fig = Figure(figsize=(9, 0.45 * len(rows) + 1.4))
    ax = fig.add_subplot(1, 1, 1)
    names = ["%s, %s" % (r["name"].split(" (")[0].split(" MLP")[0],
                         r["dtype"]) for r in rows]
    if len(rows) > 1 and rows[1]["name"].startswith("numpy"):
        names[0] = "numpy reference (BLAS env as-is), float64"
        names[1] = "numpy reference (BLAS env unset), float64"
    secs = [r["seconds"] for r in rows]
    ax.barh(range(len(rows)), secs, color="tab:blue")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("seconds for 2500 iterations (log scale)")
    ax.set_title("Seed's 4-layer training, [12288, 20, 7, 5, 1], m = 209",
                 fontsize=10)
    ax.set_xlim(min(secs) / 2, max(secs) * 6)
    for i, s in enumerate(secs):
        ax.text(s, i, " %s s" % _fmt(s, 3), va="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot_kernels(res, path):
    """Kernel milliseconds, numpy against numba, with each target's time;
    False (and nothing written) when no kernel was measured."""
    from matplotlib.figure import Figure

    rows = res.get("kernels") or []
    if not rows:
        return False
    fig = Figure(figsize=(9, 0.55 * len(rows) + 1.6))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(rows))
    # The pair that the targets compare (numpy and numba timed in one
    # process, see _kernel_rows).
    numpy_ms = [k["numpy_paired_ms"] for k in rows]
    numba_ms = [k["numba_ms"] for k in rows]
    # The kernel targets of TARGETS ("fused_forward_float64", ...), each a
    # ratio to numpy's float64 time in that process.
    thresholds = {key: t for key, _, _, t in TARGETS
                  if key.startswith("fused_")}
    ax.barh(y - 0.2, numpy_ms, height=0.38, color="tab:gray",
            label="numpy, same dtype (paired in one process)")
    ax.barh(y + 0.2, numba_ms, height=0.38, color="tab:blue",
            label="fastdnn numba (public function, checks included)")
    labelled = False
    for i, k in enumerate(rows):
        ratio = thresholds.get("fused_%s_%s" % (k["key"], k["dtype"]))
        if ratio:
            numpy64_ms = k["numpy_paired_f64_ms"]
            ax.plot([numpy64_ms / ratio] * 2, [i - 0.45, i + 0.45],
                    color="tab:red", lw=2,
                    label=None if labelled else "target: numpy float64 "
                                                "/ the ratio asked")
            labelled = True
        ax.text(numba_ms[i], i + 0.2, " %s ms" % _fmt(numba_ms[i], 3),
                va="center", fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels(["%s, %s\n%s" % (
        k["kernel"].split(":")[0],
        "the course's X (F order)" if k["layout"] == "F" else "C order",
        k["dtype"]) for k in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds per call (shorter is faster)")
    ax.set_xlim(0, max(numpy_ms + numba_ms) * 1.2)
    ax.set_title("Layer kernels at the cat shape (W 20x12288, A_prev "
                 "12288x209)", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.09),
              ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def _print_table(res):
    print("Training: seed's 4-layer model, %d iterations run (%s), medians "
          "of %d" % (res["iterations"], res["source"], res["repeats"]))
    for line in _training_table(res["training"]):
        print(line)
    print()
    for k in res["kernels"]:
        print("%-70s %-8s numpy %8s ms  numba %8s ms  x%s (vs numpy f64 "
              "x%s; vs the fastest numpy f64 x%s)" % (
                  k["kernel"], k["dtype"], _fmt(k["numpy_paired_ms"]),
                  _fmt(k["numba_ms"]), _fmt(k["ratio_same_dtype"]),
                  _fmt(k["ratio_vs_f64"]),
                  _fmt(k["ratio_vs_fastest_f64"])))
    if res.get("startup"):
        s = res["startup"]
        print("\nstart-up, warm: %s s (import %s s, 1-it training %s s)"
              % (_fmt(s["warm"]["wall"]), _fmt(s["warm"]["import"]),
                 _fmt(s["warm"]["train"])))
        if "warm_no_scipy" in s:
            print("start-up, warm, scipy not importable: %s s (import %s s,"
                  " 1-it training %s s)" % (
                      _fmt(s["warm_no_scipy"]["wall"]),
                      _fmt(s["warm_no_scipy"]["import"]),
                      _fmt(s["warm_no_scipy"]["train"])))
        if "cold" in s:
            print("start-up, cold: %s s (import %s s, 1-it training %s s)"
                  % (_fmt(s["cold"]["wall"]), _fmt(s["cold"]["import"]),
                     _fmt(s["cold"]["train"])))
    if res.get("scaling"):
        print("\nscaling (ms per iteration; setup s)")
        for r in res["scaling"]:
            print("n_x %6d m %6d  primal %9s  gram %9s (setup %s)  faster "
                  "%-6s auto %-6s %s" % (
                      r["n_x"], r["m"],
                      _fmt(1e3 * r["primal"]["per_iteration"]),
                      _fmt(1e3 * r["gram"]["per_iteration"]),
                      _fmt(r["gram"]["setup"]), r["faster"], r["auto"],
                      "ok" if r["auto_right"] else "WRONG"))
    print("\nTargets:")
    for t in res["targets"]:
        op = ">=" if t["kind"] == "ratio" else "<="
        print("  %-4s %-62s %s %s (measured %s)" % (
            t["status"], t["description"], op, _fmt(t["threshold"]),
            _fmt(t["value"], 3)))


def _kernel_name(blas):
    return ", ".join("%s %s" % (b["internal_api"], b["architecture"])
                     for b in blas) or "?"


def run(args):
    quick = args.quick
    n = QUICK_ITERATIONS if quick else ITERATIONS
    repeats = args.repeats
    X, Y, source = _load_problem(args.data)
    res = {"command": "python -m fastdnn.bench " + " ".join(args.argv),
           "machine": _machine(), "source": source, "iterations": n,
           "repeats": repeats}

    # Everything a target compares runs in one worker process, with the
    # OpenBLAS variables removed (numpy's faster kernel): the reference's
    # training with numba's, in turn, then the kernels in alternating
    # blocks. When a variable is set, a second worker times numpy alone
    # with the environment as it is, reported beside.
    spec = {"data": args.data, "iterations": n, "repeats": repeats}
    unset_run = any(os.environ.get(k) is not None for k in BLAS_ENV)
    print("numpy reference and numba, timed in turn in one process%s ..."
          % (" (%s unset)" % "/".join(BLAS_ENV) if unset_run else ""),
          flush=True)
    unset = _run_worker(dict(spec, paired=True), unset_blas_env=True)
    if unset_run:
        print("numpy reference, environment as-is ...", flush=True)
        as_is = _run_worker(spec, unset_blas_env=False)
    else:
        as_is = unset  # nothing to unset: the same process would run
    res["numpy"] = {"unset_is_as_is": not unset_run}
    for name, w in (("as_is", as_is), ("unset", unset)):
        res["numpy"][name] = {"kernel": _kernel_name(w["blas"]),
                              "blas": w["blas"], "blas_env": w["blas_env"],
                              "times": w["times"]}
    ref_costs = as_is["costs"]
    ref_s = as_is["seconds"]
    ref_unset_s = unset["seconds"]

    rows = [{"name": "numpy reference (env as-is)", "dtype": "float64",
             "seconds": ref_s, "cost_rel": 0.0},
            {"name": "numpy reference (%s unset%s)" % (
                "/".join(BLAS_ENV),
                "" if unset_run else ": not set here, same run"),
             "dtype": "float64", "seconds": ref_unset_s,
             "cost_rel": _max_rel(unset["costs"], ref_costs)}]
    for solver, dtype in NUMBA_RUNS:
        r = unset["numba"]["%s|%s" % (solver, dtype)]
        rows.append({"name": "numba %s" % solver, "dtype": dtype,
                     "solver": solver,
                     "seconds": r["seconds"],
                     "cost_rel": _max_rel(r["costs"], ref_costs),
                     "first_call": r["first_call"]})
    if not args.no_peers:
        for dtype in ("float64", "float32"):
            try:
                import torch  # noqa: F401
            except ImportError:
                break
            print("torch %s ..." % dtype, flush=True)
            r = _torch_training(X, Y, n, repeats, dtype)
            rows.append({"name": "PyTorch %s (%d threads)" % (
                r["version"], r["threads"]), "dtype": dtype,
                "seconds": r["seconds"],
                "cost_rel": _max_rel(r["costs"], ref_costs)})
        try:
            import sklearn  # noqa: F401
            have_sklearn = True
        except ImportError:
            have_sklearn = False
        if have_sklearn:
            print("scikit-learn MLPClassifier ...", flush=True)
            r = _sklearn_training(X, Y, n, max(1, min(repeats, 3)))
            rows.append({"name": "scikit-learn %s MLPClassifier" % (
                r["version"]), "dtype": "float64",
                "seconds": r["seconds"],
                "cost_rel": _max_rel(r["costs"], ref_costs)})
    for r in rows:
        r["ratio"] = ref_s / r["seconds"]
        r["ratio_unset"] = ref_unset_s / r["seconds"]
    res["training"] = rows

    res["kernels"] = _kernel_rows(as_is, unset, unset["paired"])

    if not args.no_startup:
        print("start-up ...", flush=True)
        res["startup"] = _startup(3 if quick else repeats, cold=True)

    if not args.no_scaling:
        print("scaling ...", flush=True)
        if quick:
            points = [(12288, 209), (12288, 1000), (256, 1000),
                      (1024, 1000)]
        else:
            points = [(12288, 209), (12288, 1000), (12288, 10000),
                      (64, 1000), (256, 1000), (512, 1000), (1024, 1000),
                      (2048, 1000), (4096, 1000)]
        res["scaling"] = _scaling(points, 1 if quick else 2)

    # targets: numba against the reference timed beside it, in the worker
    # without the OpenBLAS variables
    by = {(r.get("solver"), r["dtype"]): r for r in rows
          if r["name"].startswith("numba")}
    t = {}
    for k in res["kernels"]:
        if k["key"] in ("forward", "backward"):
            t["fused_%s_%s" % (k["key"], k["dtype"])] = k["ratio_vs_f64"]
    t["primal_float64_ratio"] = ref_unset_s / by["primal", "float64"][
        "seconds"]
    t["gram_float64_seconds"] = by["gram", "float64"]["seconds"]
    t["gram_float64_ratio"] = ref_unset_s / by["gram", "float64"]["seconds"]
    t["primal_float32_ratio"] = ref_unset_s / by["primal", "float32"][
        "seconds"]
    t["primal_float64_cost_rel"] = by["primal", "float64"]["cost_rel"]
    t["gram_float64_cost_rel"] = by["gram", "float64"]["cost_rel"]
    if res.get("startup"):
        t["startup_warm_seconds"] = res["startup"]["warm"]["wall"]
        # Without scipy installed, the warm run is already that case.
        bare = res["startup"].get("warm_no_scipy", res["startup"]["warm"])
        t["startup_warm_no_scipy_seconds"] = bare["wall"]
    res["targets"] = _check(t)
    res["loadavg_end"] = _loadavg()
    return res


def _parser():
    p = argparse.ArgumentParser(
        prog="fastdnn bench",
        description="Benchmark the numba backend against the numpy "
                    "reference (and PyTorch / scikit-learn when installed)."
                    " Prints a table; writes bench.json, bench.md, "
                    "bench.png and bench_kernels.png to --out.")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed repeats of each measurement; medians are "
                        "reported (default 3)")
    p.add_argument("--quick", action="store_true",
                   help="%d training iterations (times scaled to 2500), "
                        "smaller scaling sizes" % QUICK_ITERATIONS)
    p.add_argument("--out", default="bench-results",
                   help="folder for bench.json, bench.md and the PNG charts "
                        "(default ./bench-results)")
    p.add_argument("--data", default=None,
                   help="folder with the cat dataset (default "
                        "$FASTDNN_DATA; cat-shaped noise if not found)")
    p.add_argument("--check", action="store_true",
                   help="exit with status 1 if a target fails")
    p.add_argument("--no-peers", action="store_true",
                   help="skip PyTorch and scikit-learn")
    p.add_argument("--no-startup", action="store_true",
                   help="skip the start-up measurements")
    p.add_argument("--no-scaling", action="store_true",
                   help="skip the scaling measurements")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def main(argv=None):
    """Entry point of ``fastdnn bench`` and ``python -m fastdnn.bench``.

    Returns the exit status: 0, or 1 when ``--check`` is given and a target
    fails.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.worker:
        print(json.dumps(_numpy_worker(json.loads(args.worker))))
        return 0
    if args.repeats < 1:
        _parser().error("--repeats must be >= 1")
    args.argv = argv
    # The output folder first: a bad --out fails now, not after minutes.
    if not args.out or os.path.isfile(args.out):
        _parser().error("--out must name a folder for the results, got %r"
                        % args.out)
    os.makedirs(args.out, exist_ok=True)
    res = run(args)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump(res, f, indent=1, default=float)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(_markdown(res))
    _plot(res, os.path.join(args.out, "bench.png"))
    written = ["bench.json", "bench.md", "bench.png"]
    if _plot_kernels(res, os.path.join(args.out, "bench_kernels.png")):
        written.append("bench_kernels.png")
    print()
    _print_table(res)
    print("\nwrote %s" % ", ".join(os.path.join(args.out, f)
                                   for f in written))
    failed = [t for t in res["targets"] if t["status"] == "FAIL"]
    if args.check and failed:
        print("FAILED targets: %s" % ", ".join(t["key"] for t in failed))
        return 1
    return 0
