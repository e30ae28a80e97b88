"""Scaling: the primal and gram solvers' time per iteration and one-time
setup as m and n_x grow, where gram stops paying, and whether
``solver="auto"`` picks the faster one there."""
import time

import numpy as np

from .problem import DIMS, ITERATIONS, LEARNING_RATE
from .timing import _median


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
