"""A whole benchmark run: every measurement, in the order the targets need,
gathered into the result that the reports, the charts and ``bench.json``
are made from."""
import os

import numpy as np

from .machine import BLAS_ENV, _kernel_name, _loadavg, _machine
from .peers import _sklearn_training, _torch_training
from .problem import (ITERATIONS, KERNELS, NUMBA_RUNS, QUICK_ITERATIONS,
                      _load_problem)
from .scaling import _scaling
from .startup import _startup
from .targets import _check
from .workers import _run_worker


def _max_rel(costs, ref):
    costs, ref = np.asarray(costs, float), np.asarray(ref, float)
    n = min(len(costs), len(ref))
    if n == 0:
        return float("nan")
    return float(np.max(np.abs(costs[:n] - ref[:n]) / np.abs(ref[:n])))


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
        if "cold" in res["startup"]:
            t["startup_cold_seconds"] = res["startup"]["cold"]["wall"]
    res["targets"] = _check(t)
    res["loadavg_end"] = _loadavg()
    return res
