"""Running the workloads: every peer's float64 numbers checked against
fastdnn's first, then fastdnn's solvers and the peers timed in turn in
this process, and the issue's targets read from the result.

A peer whose float64 costs (or final parameters) leave fastdnn's is not
the same computation: its row says so (``check`` "DIFFERS") and no target
uses it. scikit-learn's update rules are its own: its check runs plain
gradient descent on the same batches (the one comparable run), its
timing the case's optimizer with its own rule and shuffling.
"""
import dataclasses
import json
import math
import os
import time

from .. import _threads
from .machine import BLAS_ENV, _blas_info, _loadavg, _machine, settled_probe
from .timing import PAIR_PAUSE, _median
from .workers import _child_env, run_json_child
from .workloads import (WORKLOAD_NAMES, WORKLOADS, case_by_key,
                        fastdnn_trainer, gemm_peak, load_data, max_rel,
                        peer_trainer)

#: The check's size: at most this many examples (--quick: QUICK_CHECK_M),
#: this many passes, float64.
CHECK_M = 2048
QUICK_CHECK_M = 256
CHECK_PASSES = 3
#: Largest relative difference of the costs (of the final parameters)
#: from fastdnn's for a peer to count as computing the same thing.
COST_TOL = 1e-9
PARAM_TOL = 1e-7


#: A case whose fastest side is timed for less than MIN_SAMPLE_SECONDS in
#: ``--repeats`` runs gets more rounds, until that side has been timed for
#: about MIN_SAMPLE_SECONDS in all (at most MAX_ROUNDS, and no more than
#: fit in ROUND_BUDGET_SECONDS of the case's rounds, its slow peers and
#: pauses included): a 20 ms run (the per-step case) is thrown by a single
#: stall of the host, and a median of three such runs by two; the
#: mini-batch epochs (0.3 s) get five.
MIN_SAMPLE_SECONDS = 1.5
MAX_ROUNDS = 21
ROUND_BUDGET_SECONDS = 60.0
#: Seconds a case may spend, over all its timed runs, waiting for both
#: cores before a run (:func:`fastdnn.bench.machine.settled_probe`):
#: enough to sit out most of a host's slowed-core spells, bounded where
#: one lasts. None under ``--quick``.
SETTLE_BUDGET_SECONDS = 120.0


def timed_rounds(repeats, fastest, round_seconds=0.0):
    """Rounds of a case whose fastest side took ``fastest`` seconds in
    the first round, which took ``round_seconds`` in all: ``repeats``, or
    more for a short case (see :data:`MIN_SAMPLE_SECONDS`), and odd then,
    so the median is one of the runs."""
    if fastest * repeats >= MIN_SAMPLE_SECONDS:
        return repeats
    rounds = min(MAX_ROUNDS, math.ceil(MIN_SAMPLE_SECONDS / max(fastest,
                                                                1e-9)))
    if round_seconds > 0:
        rounds = min(rounds, int(ROUND_BUDGET_SECONDS // round_seconds))
    if rounds % 2 == 0:
        rounds -= 1
    return max(repeats, rounds)


def check_peer(peer, case, X, Y, max_m=CHECK_M):
    """The peer's float64 costs and final parameters against fastdnn's
    primal solver on at most ``max_m`` examples and
    :data:`CHECK_PASSES` passes. Returns a dict (``status`` "same",
    "DIFFERS" or "not installed")."""
    c64 = dataclasses.replace(case, dtype="float64")
    m = min(X.shape[1], max_m)
    Xc, Yc = X[:, :m], Y[:, :m]
    # Several passes even for a one-epoch case: each pass's permutation
    # and Adam's step count over passes are checked too.
    passes = (CHECK_PASSES if case.mini_batch_size is not None
              else min(case.passes, CHECK_PASSES))
    note = ""
    if peer == "sklearn":
        # Its own rules: plain gradient descent is the comparable run, one
        # pass in the order of pass 0's permutation for mini-batches.
        c64 = dataclasses.replace(c64, optimizer="gd")
        if case.mini_batch_size is not None:
            passes = 1
        if case.optimizer != "gd":
            note = ("checked on plain gradient descent; timed with its own "
                    "%s rule" % case.optimizer)
    train, version = peer_trainer(peer, c64, Xc, Yc, comparable=True)
    if train is None:
        return {"status": "not installed", "version": version}
    ref_costs, ref_params, _ = fastdnn_trainer(c64, Xc, Yc, "primal")(
        passes)
    costs, params, _ = train(passes)
    cost_rel = max_rel(costs, ref_costs)
    param_rel = max_rel(params, ref_params)
    same = cost_rel <= COST_TOL and param_rel <= PARAM_TOL
    return {"status": "same" if same else "DIFFERS", "version": version,
            "cost_rel": cost_rel, "param_rel": param_rel, "m": m,
            "passes": passes, "optimizer": c64.optimizer, "note": note}


def _one_thread_share(before):
    # The share of the steps run in blocks since ``before`` (a copy of
    # STEPS_RUN) that ran on one thread; None when none ran in blocks (a
    # serial network, the gram solver, one thread, or the choice off).
    one = _threads.STEPS_RUN["one"] - before["one"]
    every = _threads.STEPS_RUN["all"] - before["all"]
    return one / (one + every) if one + every else None


def time_case(case, X, Y, repeats, quick, peers=True, log=print,
              data_dir=None):
    """Rows of one case: fastdnn's solvers and (with ``peers``) the
    installed peers, each checked, then timed in turn."""
    passes = case.quick_passes if quick else case.passes
    m = X.shape[1]
    steps = passes * (1 if case.mini_batch_size is None
                      else -(-m // case.mini_batch_size))
    trains, rows = {}, {}
    runs = [("fastdnn %s" % solver, solver, None) for solver in case.solvers]
    if case.mini_batch_size is not None:
        # What a C-ordered X costs: the fit's own copy of X^T.
        runs.append(("fastdnn %s, X in C order" % case.solvers[0],
                     case.solvers[0], "C"))
    for name, solver, order in runs:
        trains[name] = fastdnn_trainer(case, X, Y, solver, order=order)
        rows[name] = {"name": name, "kind": "fastdnn", "solver": solver,
                      "version": "fastdnn (numba)"}
        if order is not None:
            rows[name]["x_order"] = order
    for peer in (case.peers if peers else ()):
        log("  checking %s against fastdnn (float64) ..." % peer)
        check = check_peer(peer, case, X, Y,
                           QUICK_CHECK_M if quick else CHECK_M)
        train, version = peer_trainer(peer, case, X, Y)
        row = {"name": peer, "kind": "peer", "version": version,
               "check": check}
        rows[peer] = row
        if train is not None:
            trains[peer] = train
    first, times, results = {}, {n: [] for n in trains}, {}
    probes = {n: [] for n in trains}
    waits = {n: [] for n in trains}
    settle_budget = 0.0 if quick else SETTLE_BUDGET_SECONDS
    # fastdnn's steps on one thread, run by run (fastdnn._threads).
    one_thread = {n: [] for n in trains if rows[n]["kind"] == "fastdnn"}
    for name, train in trains.items():
        log("  first call: %s ..." % name)
        t0 = time.perf_counter()
        results[name] = train(passes)
        first[name] = time.perf_counter() - t0
    rounds, r = repeats, 0
    while r < rounds:
        t_round, round_waits = time.perf_counter(), 0.0
        for name, train in trains.items():
            time.sleep(PAIR_PAUSE)
            # Outside the timing, the state the run starts in: whether a
            # core is slowed, by the host or by threads of the previous
            # side still spinning (see core_probe); waited out within the
            # case's budget.
            reading, waited = settled_probe(settle_budget)
            settle_budget = max(0.0, settle_budget - waited)
            round_waits += waited
            probes[name].append(reading)
            waits[name].append(waited)
            before = dict(_threads.STEPS_RUN)
            results[name] = train(passes)
            times[name].append(results[name][2])
            if name in one_thread:
                one_thread[name].append(_one_thread_share(before))
        if r == 0 and not quick:
            # The budget is for the runs and pauses, not the waits.
            rounds = timed_rounds(repeats, min(t[0] for t in times.values()),
                                  time.perf_counter() - t_round - round_waits)
        r += 1
    if any(os.environ.get(k) is not None for k in BLAS_ENV):
        # The host's OpenBLAS variables (OPENBLAS_CORETYPE=Haswell keeps
        # AVX2 kernels on an AVX-512 CPU) slow every BLAS user here, and
        # neither JAX nor PyTorch runs on OpenBLAS: fastdnn's first solver
        # and the numpy reference are timed without them too, each in a
        # process of its own. No target reads these rows.
        unset_runs = [("fastdnn %s" % case.solvers[0], "jit",
                       case.solvers[0])]
        if "reference" in trains:
            unset_runs.append(("reference", "reference", None))
        suffix = "%s unset" % "/".join(BLAS_ENV)
        for base_name, backend, solver in unset_runs:
            log("  %s, %s, in its own process ..." % (base_name, suffix))
            unset = run_unset(case, quick, repeats, data_dir, backend,
                              solver)
            name = "%s, %s" % (base_name, suffix)
            base = rows[base_name]
            rows[name] = dict(base, name=name, blas_unset=True,
                              blas=unset["blas"], version="%s, %s (own "
                              "process)" % (base["version"], suffix))
            trains[name] = None
            times[name] = unset["times"]
            first[name] = unset["first_call"]
            results[name] = unset["result"]
    base = "fastdnn %s" % case.solvers[0]
    for name in trains:
        sec = _median(times[name])
        rows[name].update(
            seconds=sec, times=times[name], fastest=min(times[name]),
            first_call=first[name],
            compile=max(first[name] - sec, 0.0),
            per_step_us=1e6 * sec / steps,
            core_probe=probes.get(name, []),
            settle_wait=waits.get(name, []),
            one_thread_share=one_thread.get(name, []),
            costs_tail=results[name][0][-3:],
            cost_rel_fastdnn=max_rel(results[name][0], results[base][0])
            if case.dtype == "float64" else None)
    return {"key": case.key, "title": case.title, "dtype": case.dtype,
            "optimizer": case.optimizer, "passes": passes, "m": m,
            "rounds": rounds,
            "steps": steps, "batch": case.mini_batch_size,
            "dims": list(case.dims), "activation": case.activation,
            "flops": case.flops(m) * passes, "rows": list(rows.values())}


def run_workloads(names, repeats=3, quick=False, peers=True, data=None,
                  log=print):
    """Every case of the workloads ``names`` (or ``"all"``): ``{"machine",
    "gemm_peak", "cases", "targets", ...}``."""
    if names == "all" or "all" in names:
        names = WORKLOAD_NAMES
    peak = {dt: gemm_peak(dt) for dt in ("float32", "float64")}
    res = {"machine": _machine(), "quick": quick, "repeats": repeats,
           "gemm_peak": peak, "workloads": list(names), "cases": [],
           "data": {},
           "blas_env_set": any(os.environ.get(k) is not None
                               for k in BLAS_ENV),
           "blas": _blas_info()}
    loaded = {}
    for name in names:
        for case in WORKLOADS[name]:
            if case.data not in loaded:
                loaded = {case.data: load_data(case.data, quick, data)}
            X, Y, desc = loaded[case.data]
            res["data"][case.data] = desc
            log("%s ..." % case.title)
            c = time_case(case, X, Y, repeats, quick, peers, log, data)
            c["limit_seconds"] = c["flops"] / peak[case.dtype]
            c["data"] = desc
            res["cases"].append(c)
    res["targets"] = workload_targets(res)
    res["loadavg_end"] = _loadavg()
    return res


def _seconds(case, name):
    for r in case["rows"]:
        if r["name"] == name and r.get("seconds") is not None:
            if r["kind"] == "peer" and r["check"]["status"] == "DIFFERS":
                return None  # not the same computation: no ratio
            return r["seconds"]
    return None


def as_is_fastdnn(row):
    """Whether ``row`` is one of fastdnn's solvers as the targets read it:
    timed in the run's own process on the layout made for it. Not the
    rows of :func:`run_unset`, nor the re-run on a C-ordered X (the same
    kernels again: counting it would make fastdnn's time the better of
    two samples where each peer has one)."""
    return (row["kind"] == "fastdnn" and not row.get("blas_unset")
            and "x_order" not in row)


def _best_fastdnn(case):
    secs = [r["seconds"] for r in case["rows"]
            if as_is_fastdnn(r) and r.get("seconds")]
    return min(secs) if secs else None


#: The issue's targets of the workloads: (key, description, kind,
#: threshold). ratio: >= threshold; seconds / relative / us: <=.
WORKLOAD_TARGETS = []
for _w, _jx, _pt, _sk in (("W1", 1.1, 2.2, 2.0), ("W2", 1.3, 3.0, 2.5)):
    for _o in ("momentum", "adam"):
        WORKLOAD_TARGETS += [
            ("%s-%s|jax" % (_w, _o), "%s %s: x JAX scan" % (_w, _o),
             "ratio", _jx),
            ("%s-%s|torch" % (_w, _o), "%s %s: x PyTorch eager" % (_w, _o),
             "ratio", _pt),
            ("%s-%s|sklearn" % (_w, _o), "%s %s: x scikit-learn" % (_w, _o),
             "ratio", _sk)]
WORKLOAD_TARGETS += [
    ("W1-momentum|limit", "W1 momentum: seconds / GEMM-FLOP limit",
     "relative", 1.5),
    ("W1-adam|limit", "W1 Adam: seconds / GEMM-FLOP limit", "relative",
     1.5),
    ("W1|adam_over_momentum", "W1: Adam epoch / momentum epoch",
     "relative", 1.15),
    ("W1-momentum-f64|jax", "W1 float64 momentum: x JAX scan float64",
     "ratio", 1.2),
    ("overhead|us", "per-step time, 16-16-16-10 batch 32 (us)", "us",
     10.0)]
for _dt in ("float32", "float64"):
    WORKLOAD_TARGETS += [
        ("W3-%s|jax" % _dt, "W3 %s: x JAX scan" % _dt, "ratio", 1.2),
        ("W3-%s|reference" % _dt, "W3 %s: x numpy reference" % _dt,
         "ratio", 2.0),
        ("W3-%s|sklearn" % _dt, "W3 %s: x scikit-learn" % _dt, "ratio",
         2.0)]
WORKLOAD_TARGETS += [
    ("W4-full|best_peer", "W4 primal float64: x best of PyTorch no_grad "
     "loop / JAX scan", "ratio", 1.4),
    ("W4-full|gram_seconds", "W4 gram float64, 2500 it (s)", "seconds",
     0.3),
    ("W4-minibatch|gram_vs_primal", "W4 mini-batch 64 momentum: gram x "
     "primal", "ratio", 20.0),
    ("W4-minibatch|cost_rel", "W4 mini-batch: gram's costs vs primal's "
     "(max rel.)", "relative", 1e-9)]


def _value(cases, key):
    ck, what = key.split("|")
    if ck == "W1":
        mo, ad = cases.get("W1-momentum"), cases.get("W1-adam")
        if mo and ad:
            return _best_fastdnn(ad) / _best_fastdnn(mo)
        return None
    case = cases.get(ck)
    if case is None:
        return None
    best = _best_fastdnn(case)
    if what == "limit":
        return best / case["limit_seconds"]
    if what == "us":
        return 1e6 * best / case["steps"]
    if what == "best_peer":
        peers = [s for s in (_seconds(case, "torch"), _seconds(case, "jax"))
                 if s]
        return min(peers) / _seconds(case, "fastdnn primal") if peers \
            else None
    if what == "gram_seconds":
        return _seconds(case, "fastdnn gram")
    if what == "gram_vs_primal":
        return _seconds(case, "fastdnn primal") / _seconds(
            case, "fastdnn gram")
    if what == "cost_rel":
        return next(r["cost_rel_fastdnn"] for r in case["rows"]
                    if r["name"] == "fastdnn gram")
    peer = _seconds(case, what)
    return peer / best if peer else None


def workload_targets(res):
    """The targets of :data:`WORKLOAD_TARGETS` that the measured cases
    cover; status "n/a" under ``--quick`` (its sizes are not the
    targets')."""
    cases = {c["key"]: c for c in res["cases"]}
    out = []
    for key, desc, kind, threshold in WORKLOAD_TARGETS:
        if key.split("|")[0] not in cases and not (
                key.startswith("W1|") and "W1-adam" in cases):
            continue
        value = _value(cases, key)
        if value is None or (isinstance(value, float) and math.isnan(value)
                             ) or res["quick"]:
            ok = None
        else:
            ok = value >= threshold if kind == "ratio" else \
                value <= threshold
        out.append({"key": key, "description": desc, "kind": kind,
                    "threshold": threshold, "value": value,
                    "status": {True: "PASS", False: "FAIL",
                               None: "n/a"}[ok]})
    return out


def run_unset(case, quick, repeats, data_dir=None, backend="reference",
              solver=None):
    """The timing of ``case`` by the numpy reference (or fastdnn's
    ``solver``) in a process of its own without the OpenBLAS variables of
    :data:`~.machine.BLAS_ENV` (they can slow a current numpy; the run's
    own process keeps them as they are)."""
    env = _child_env()
    for k in BLAS_ENV:
        env.pop(k, None)
    spec = {"case": case.key, "quick": quick, "repeats": repeats,
            "data": data_dir, "backend": backend, "solver": solver}
    return run_json_child(["-m", "fastdnn.bench", "--workload-worker",
                           json.dumps(spec)], env, backend)


def workload_worker(spec):
    """In the process of :func:`run_unset`: the first call, then the
    timed repeats; JSON-ready."""
    from .machine import _blas_info
    case = case_by_key(spec["case"])
    X, Y, _ = load_data(case.data, spec["quick"], spec["data"])
    train = fastdnn_trainer(case, X, Y, spec.get("solver"),
                            spec.get("backend", "reference"))
    passes = case.quick_passes if spec["quick"] else case.passes
    t0 = time.perf_counter()
    train(passes)
    first = time.perf_counter() - t0
    times = []
    rounds, r = spec["repeats"], 0
    while r < rounds:
        costs, params, took = train(passes)
        times.append(took)
        if r == 0 and not spec["quick"]:
            rounds = timed_rounds(spec["repeats"], took)
        r += 1
    return {"times": times, "first_call": first, "blas": _blas_info(),
            "result": [costs, [[W.tolist(), b.tolist()]
                               for W, b in params], None]}
