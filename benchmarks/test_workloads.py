"""``fastdnn bench --workload``: each workload run once at a tiny size (the
real measurement is ``python -m fastdnn.bench --workload all``), its peers'
float64 check, its targets and reports.

The peers (JAX, PyTorch, scikit-learn) are optional: a missing one is
reported "not installed", and every installed one must compute fastdnn's
numbers in float64 (that check is what makes it a peer)."""
import dataclasses
import json
import math
import os
import time

import numba
import numpy as np
import pytest

from fastdnn import bench
from fastdnn.bench import machine, workload_report, workload_run, workloads

#: Examples per data set, and at most this many passes, in these runs.
TINY_M = 200
TINY_PASSES = 4


@pytest.fixture
def tiny_data(monkeypatch):
    """Every workload's cases as they are, on their data's first TINY_M
    examples, for at most TINY_PASSES passes."""
    real = workloads.load_data

    def load(name, quick=False, data_dir=None):
        X, Y, desc = real(name, True, data_dir)
        return X[:, :TINY_M], Y[:, :TINY_M], desc + " (first %d)" % TINY_M
    monkeypatch.setattr(workload_run, "load_data", load)
    # The runs without the OpenBLAS variables, as on a host that sets
    # them, with a stand-in variable (the test leaves OpenBLAS's alone)
    # and a stand-in process (test_runs_without_the_openblas_variables
    # runs the real one).
    monkeypatch.setattr(workload_run, "BLAS_ENV", ("FASTDNN_TEST_BLAS",))
    monkeypatch.setenv("FASTDNN_TEST_BLAS", "1")

    def unset(case, quick, repeats, data_dir=None, backend="reference",
              solver=None):
        return {"times": [1e3] * repeats, "first_call": 1e3, "blas": [],
                "result": [[1.0], [], None]}
    monkeypatch.setattr(workload_run, "run_unset", unset)
    monkeypatch.setattr(workload_run, "WORKLOADS", {
        name: tuple(dataclasses.replace(c, quick_passes=min(
            c.quick_passes, TINY_PASSES)) for c in cases)
        for name, cases in bench.WORKLOADS.items()})


def _check_result(w, names):
    keys = [c.key for n in names for c in bench.WORKLOADS[n]]
    assert [c["key"] for c in w["cases"]] == keys
    for c in w["cases"]:
        case = next(k for n in names for k in bench.WORKLOADS[n]
                    if k.key == c["key"])
        assert c["passes"] == min(case.quick_passes, TINY_PASSES)
        rows = {r["name"]: r for r in c["rows"]}
        for solver in case.solvers:
            r = rows["fastdnn %s" % solver]
            assert r["seconds"] > 0 and np.all(np.isfinite(r["costs_tail"]))
            # One reading of the second-core probe before each timed run.
            assert len(r["core_probe"]) == len(r["times"])
            # And the share of its steps on one thread, None where the
            # loop did not run in blocks (a serial network or the gram
            # solver); below 1, a run's first block being on all threads.
            shares = r["one_thread_share"]
            assert len(shares) == len(r["times"])
            assert all(x is None or 0 <= x < 1 for x in shares)
        unset = rows["fastdnn %s, FASTDNN_TEST_BLAS unset" % case.solvers[0]]
        assert unset["blas_unset"] and unset["seconds"] == 1e3
        assert ("reference, FASTDNN_TEST_BLAS unset" in rows) == (
            "reference" in case.peers)
        c_order = "fastdnn %s, X in C order" % case.solvers[0]
        # Mini-batches: the same run again on a C-ordered X, which the fit
        # copies (the same numbers).
        assert (c_order in rows) == (case.mini_batch_size is not None)
        if c_order in rows and case.dtype == "float64":
            assert rows[c_order]["cost_rel_fastdnn"] == 0
        for peer in case.peers:
            check = rows[peer]["check"]
            # An installed peer computes fastdnn's float64 numbers.
            assert check["status"] in ("same", "not installed"), (c["key"],
                                                                  check)
            if check["status"] == "same":
                assert rows[peer]["seconds"] > 0
        assert c["limit_seconds"] > 0
    # --quick sizes are not the targets': none is read from them.
    assert w["targets"] and {t["status"] for t in w["targets"]} == {"n/a"}


def test_cli_runs_each_workload_once(tiny_data, tmp_path, capsys):
    names = ["mnist-shape", "mnist-shape-32", "digits"]
    argv = ["--quick", "--repeats", "1", "--out", str(tmp_path)]
    for n in names:
        argv += ["--workload", n]
    assert bench.main(argv + ["--check"]) == 0
    res = json.loads((tmp_path / "bench.json").read_text())
    assert "training" not in res  # no headline run without cat
    _check_result(res["workloads"], names)
    md = (tmp_path / "bench.md").read_text()
    assert "LLVM target" in md and "### W3: digits" in md
    assert "| core probe |" in md
    # The slow stand-in rows are reported, and no target reads them.
    assert "| fastdnn primal, FASTDNN_TEST_BLAS unset | 1000 |" in md
    assert (tmp_path / "bench_workloads.png").stat().st_size > 1000
    assert "Workload targets:" in capsys.readouterr().out


@pytest.mark.parametrize("batch, order", [(None, "C"), (32, "F")])
def test_fastdnn_gets_the_layout_its_solver_reads(batch, order):
    # Made before the clock starts, as the peers' (m, n_x) arrays are:
    # mini-batches read examples, each contiguous in a Fortran X.
    case = dataclasses.replace(bench.WORKLOADS["digits"][0],
                               mini_batch_size=batch)
    X = np.arange(12.0).reshape(3, 4)
    got = workloads.fastdnn_input(case, X)
    assert got.dtype == np.float32 and got.flags[order + "_CONTIGUOUS"]
    assert not got.flags["C_CONTIGUOUS" if order == "F" else
                         "F_CONTIGUOUS"]
    np.testing.assert_array_equal(got, X)
    assert workloads.fastdnn_input(case, X, "C").flags["C_CONTIGUOUS"]


def test_cat_workload_once(tiny_data):
    w = bench.run_workloads(["cat"], repeats=1, quick=True, log=lambda s:
                            None)
    _check_result(w, ["cat"])
    mini = next(c for c in w["cases"] if c["key"] == "W4-minibatch")
    gram = next(r for r in mini["rows"] if r["name"] == "fastdnn gram")
    # The dual form trains the same mini-batch momentum run.
    assert gram["cost_rel_fastdnn"] <= 1e-9


def test_a_peer_computing_something_else_is_not_a_peer(monkeypatch):
    case = bench.WORKLOADS["digits"][1]
    X, Y, _ = workloads.load_data("digits", True)
    X, Y = X[:, :100], Y[:, :100]
    real = workloads.peer_trainer

    def off(peer, case, X, Y, comparable=False):
        return real(peer, dataclasses.replace(
            case, learning_rate=case.learning_rate * 1.001), X, Y,
            comparable)
    assert workload_run.check_peer("reference", case, X, Y)["status"] \
        == "same"
    monkeypatch.setattr(workload_run, "peer_trainer", off)
    check = workload_run.check_peer("reference", case, X, Y)
    assert check["status"] == "DIFFERS" and check["cost_rel"] > 1e-9


def _fake(seconds, check="same", quick=False):
    rows = [{"name": "fastdnn primal", "kind": "fastdnn", "seconds": 1.0},
            {"name": "jax", "kind": "peer", "seconds": seconds,
             "version": "JAX", "check": {"status": check, "cost_rel": 0.0,
                                         "param_rel": 0.0}}]
    return {"quick": quick, "cases": [
        {"key": "W3-float32", "rows": rows, "limit_seconds": 0.5,
         "steps": 10}]}


@pytest.mark.parametrize("jax_seconds,check,status", [
    (1.3, "same", "PASS"), (1.1, "same", "FAIL"), (1.3, "DIFFERS", "n/a")])
def test_targets_read_peers_that_are_peers(jax_seconds, check, status):
    got = {t["key"]: t for t in workload_run.workload_targets(
        _fake(jax_seconds, check))}
    assert got["W3-float32|jax"]["status"] == status
    # Only the measured cases' targets are listed.
    assert all(k.startswith("W3-float32|") for k in got)
    assert got["W3-float32|reference"]["status"] == "n/a"


def test_check_fails_on_a_workload_target(monkeypatch, tmp_path):
    w = _fake(1.1)
    w.update(machine={"cpu": "cpu", "cores": 2, "simd": [], "numba_cpu":
                      "x", "python": "3", "numpy": "2", "numba": "0",
                      "blas": [], "blas_env": {}},
             gemm_peak={"float32": 1e11, "float64": 5e10},
             workloads=["digits"], repeats=1, blas_env_set=False)
    w["cases"][0].update(title="t", data="d", dims=[2, 2], activation="tanh",
                         passes=1, batch=None, rounds=1)
    w["targets"] = workload_run.workload_targets(w)
    monkeypatch.setattr(bench, "run_workloads", lambda *a, **k: w)
    argv = ["--workload", "digits", "--out", str(tmp_path)]
    assert bench.main(argv) == 0
    assert bench.main(argv + ["--check"]) == 1


@pytest.mark.parametrize("backend, solver", [("reference", None),
                                             ("jit", "primal")])
def test_runs_without_the_openblas_variables(backend, solver):
    # What a run does when OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set
    # (the test's own environment is left as it is).
    case = bench.WORKLOADS["mnist-shape-32"][-1]
    got = workload_run.run_unset(case, True, 1, None, backend, solver)
    assert len(got["times"]) == 1 and got["times"][0] > 0
    costs, params, _ = got["result"]
    ref_costs, ref_params, _ = workloads.fastdnn_trainer(
        case, *workloads.load_data("tiny", True)[:2], solver,
        backend)(case.quick_passes)
    # numpy's BLAS may run another kernel without the variables (on
    # AVX-512 hosts that set OPENBLAS_CORETYPE=Haswell): the same numbers
    # to rounding.
    single = case.dtype == "float32"
    np.testing.assert_allclose(costs, ref_costs,
                               rtol=1e-5 if single else 1e-12)
    np.testing.assert_allclose(params[-1][0], ref_params[-1][0],
                               rtol=1e-4 if single else 1e-10,
                               atol=1e-6 if single else 1e-13)


@pytest.mark.parametrize("repeats, fastest, expected", [
    (3, 1.0, 3),      # long enough as it is
    (3, 0.5, 3),      # 1.5 s in three runs
    (3, 0.3, 5),      # 1.5 s in five (a mini-batch epoch)
    (3, 0.02, 21),    # the per-step case: at most MAX_ROUNDS
    (4, 0.35, 5),     # an odd count once it is raised
    (7, 0.1, 15),
])
def test_short_cases_get_more_rounds(repeats, fastest, expected):
    assert workload_run.MAX_ROUNDS == 21
    assert workload_run.timed_rounds(repeats, fastest) == expected


@pytest.mark.parametrize("fastest, round_seconds, expected", [
    (0.02, 2.6, 21),   # the per-step case: its rounds fit the budget
    (0.12, 60.0, 3),   # the cat's gram beside 50 s of peers: --repeats
    (0.11, 6.9, 7),    # 8 rounds fit: the odd count below
    (0.3, 25.0, 3),
])
def test_a_case_keeps_to_its_round_budget(fastest, round_seconds, expected):
    assert workload_run.ROUND_BUDGET_SECONDS == 60.0
    assert workload_run.timed_rounds(3, fastest, round_seconds) == expected


def test_a_short_case_is_timed_in_more_rounds(monkeypatch):
    # time_case itself: a 20 ms fastest side gets MAX_ROUNDS rounds, every
    # side as many (timed in turn), and --quick keeps --repeats. Each run
    # "waits" 10 s for both cores (within the budget, none under --quick),
    # which the round budget leaves out.
    monkeypatch.setattr(workload_run, "PAIR_PAUSE", 0.0)
    monkeypatch.setattr(workload_run, "settled_probe",
                        lambda max_wait: (1.5, min(10.0, max_wait)))
    monkeypatch.setattr(workload_run, "SETTLE_BUDGET_SECONDS", 100.0)
    calls = {"fast": 0, "slow": 0}

    def trainer(name, seconds):
        def train(passes):
            calls[name] += 1
            return [1.0], [], seconds
        return train

    def fake_trainer(case, X, Y, solver, order=None):
        return trainer("fast" if order is None else "slow",
                       0.02 if order is None else 0.3)

    monkeypatch.setattr(workload_run, "fastdnn_trainer", fake_trainer)
    monkeypatch.setattr(workload_run, "BLAS_ENV", ())
    case = dataclasses.replace(bench.WORKLOADS["mnist-shape-32"][-1],
                               peers=(), dtype="float32")
    for quick, rounds in ((False, workload_run.MAX_ROUNDS), (True, 3)):
        calls.update(fast=0, slow=0)
        res = workload_run.time_case(case, np.zeros((2, 4)),
                                     np.zeros((1, 4)), 3, quick,
                                     log=lambda *a: None)
        # One first (untimed) call each, then the rounds.
        assert calls == {"fast": rounds + 1, "slow": rounds + 1}
        assert all(len(r["times"]) == rounds for r in res["rows"])
        assert all(len(r["core_probe"]) == rounds for r in res["rows"])
        assert all(len(r["settle_wait"]) == rounds for r in res["rows"])
        waits = [w for r in res["rows"] for w in r["settle_wait"]]
        if quick:
            assert waits == [0.0] * (2 * rounds)
        else:
            # 100 s of budget: 10 runs wait 10 s, the other 32 none.
            assert waits.count(10.0) == 10 and sum(waits) == 100.0
        assert res["rounds"] == rounds


@pytest.mark.parametrize("readings, max_wait, expected, waits", [
    ([1.6, 1.4, 1.1, 1.1], 10.0, 1.1, 2),
    ([1.6, 1.4, 1.1], 0.7, 1.4, 1),
    ([1.6, 1.4], 0.0, 1.6, 0),
    ([1.12, 2.0], 10.0, 1.12, 0),
    ([None, 2.0], 10.0, None, 0),
    ([2.0] * 30, 3.0, 2.0, 6),
])
def test_settled_probe_waits_a_bounded_while_for_both_cores(
        readings, max_wait, expected, waits):
    now = [0.0]
    left = list(readings)

    def sleep(seconds):
        now[0] += seconds

    reading, waited = machine.settled_probe(
        max_wait, probe=lambda: left.pop(0), clock=lambda: now[0],
        sleep=sleep)
    assert reading == expected
    assert waited == pytest.approx(waits * machine.SETTLE_INTERVAL)
    assert waited <= max_wait


@pytest.mark.parametrize("flushes", [True, False])
def test_jax_version_says_when_it_flushes_subnormals(monkeypatch, flushes):
    pytest.importorskip("jax")
    from fastdnn.bench import peers_minibatch
    case = bench.WORKLOADS["digits"][0]
    X, Y, _ = workloads.load_data("digits", True)
    # XLA's CPU code flushes subnormals: the detection sees it.
    assert peers_minibatch.jax_flushes_subnormals("float32")
    monkeypatch.setattr(peers_minibatch, "jax_flushes_subnormals",
                        lambda dtype: flushes)
    _, version = workloads.peer_trainer("jax", case, X[:, :50], Y[:, :50])
    assert version.startswith("JAX ")
    assert ("subnormals flushed to zero" in version) == flushes


def test_core_probe_reads_the_two_cores_against_one():
    threads = numba.get_num_threads()
    try:
        if threads >= 2:
            assert 0 < machine.core_probe() < math.inf
        numba.set_num_threads(1)
        assert machine.core_probe() is None
    finally:
        numba.set_num_threads(threads)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                    reason="the probe needs two threads")
def test_core_probe_script_times_three_counts(monkeypatch, capsys):
    # benchmarks/core_probe.py, a few rounds of a tiny case: each round's
    # three times and probe, the summary, the settings given back.
    import importlib.util
    import pathlib

    from fastdnn import _numba_config

    path = pathlib.Path(__file__).with_name("core_probe.py")
    spec = importlib.util.spec_from_file_location("core_probe_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    real = workloads.load_data
    monkeypatch.setattr(workloads, "load_data",
                        lambda name: real(name, True))
    threads = numba.get_num_threads()
    setting = _numba_config.ADAPTIVE_THREADS
    script.main(["--case", "W3-float32", "--seconds", "0.2",
                 "--iterations", "2"])
    out = capsys.readouterr().out.splitlines()
    rounds = [line for line in out
              if line.split()[:2] == [str(threads), "threads"]]
    assert rounds and all(len(line.split()) == 11 for line in rounds)
    assert any(line.startswith("probe ratio") for line in out)
    assert numba.get_num_threads() == threads
    assert _numba_config.ADAPTIVE_THREADS == setting


@pytest.mark.parametrize("parallel", [False, True])
def test_probe_chains_do_every_link(parallel):
    # The chains' values are the recurrence's, link by link (not optimised
    # away; 1.0 is its fixed point), and the time is at least the links'
    # latency: 4 cycles a multiply-add at 6 GHz at most.
    from fastdnn.bench._probe_kernels import chains
    n, repeats = 20000, 20
    out = np.array([3.0, 2.0])
    chains(out, 1, 1, parallel)
    out[:] = (3.0, 2.0)
    t0 = time.perf_counter()
    chains(out, n, repeats, parallel)
    took = time.perf_counter() - t0
    a, b = 0.9999999, 1e-7
    for k, x in enumerate((3.0, 2.0)):
        if k == 1 and not parallel:
            assert out[1] == 2.0
            continue
        steps = n * repeats
        expected = a ** steps * x + b * (1 - a ** steps) / (1 - a)
        assert out[k] == pytest.approx(expected, rel=1e-9)
    assert took >= n * repeats * 4 / 6e9


@pytest.mark.parametrize("readings, cell", [
    ([1.1234, 1.5], "1.12-1.5"), ([1.121, 1.122], "1.12"), ([None], "-"),
    ([], "-"), (None, "-")])
def test_probe_cell(readings, cell):
    row = {} if readings is None else {"core_probe": readings}
    assert workload_report._probe_cell(row) == cell


@pytest.mark.parametrize("shares, cell", [
    ([0.0, 0.004], "0%"), ([0.02, 0.85], "2-85%"), ([None, 0.5], "50%"),
    ([None], "-"), ([], "-"), (None, "-")])
def test_one_thread_cell(shares, cell):
    row = {} if shares is None else {"one_thread_share": shares}
    assert workload_report._one_thread_cell(row) == cell


def test_one_thread_share_counts_the_blocks_of_a_run(monkeypatch):
    from fastdnn import _threads
    monkeypatch.setattr(_threads, "STEPS_RUN", {"one": 10, "all": 20})
    before = dict(_threads.STEPS_RUN)
    assert workload_run._one_thread_share(before) is None
    governor = _threads.ThreadGovernor(2)
    governor.current = 1
    _threads.run_blocks(lambda s0, s1: s1 - s0, 7, 2, governor)
    assert _threads.STEPS_RUN["one"] > 10
    share = workload_run._one_thread_share(before)
    assert share == (_threads.STEPS_RUN["one"] - 10) / 7


def test_case_by_key():
    assert workloads.case_by_key("W3-float32") is next(
        c for c in bench.WORKLOADS["digits"] if c.key == "W3-float32")
    with pytest.raises(ValueError, match="no workload case 'W9'.*W3-float32"):
        workloads.case_by_key("W9")


@pytest.mark.parametrize("key", ["W1-momentum", "W4-full"])
def test_random_examples_fit_the_case(key):
    # The compile-time scripts' training data: the case's input size,
    # its output's labels (one-hot classes for softmax, 0/1 for the
    # sigmoid), the same for the same seed.
    case = workloads.case_by_key(key)
    X, Y = workloads.random_examples(case, 50)
    assert X.shape == (case.dims[0], 50) and ((0 <= X) & (X < 1)).all()
    assert Y.shape == (case.dims[-1], 50)
    if case.output == "softmax":
        assert (Y.sum(axis=0) == 1).all() and set(np.unique(Y)) == {0, 1}
    else:
        assert set(np.unique(Y)) <= {0, 1} and 0 < Y.sum() < 50
    again = workloads.random_examples(case, 50)
    assert all(np.array_equal(a, b) for a, b in zip((X, Y), again))
    assert not np.array_equal(X, workloads.random_examples(case, 50, 1)[0])


def test_run_json_child_reads_the_last_line_or_says_why_it_failed():
    # The bench's child processes (workers, start-up, the unset-BLAS
    # runs): the JSON object of the last line, or the child's stderr.
    from fastdnn.bench.workers import run_json_child
    code = 'print("noise"); print(\'{"a": [1, 2]}\')'
    assert run_json_child(["-c", code], dict(os.environ), "test") == {
        "a": [1, 2]}
    with pytest.raises(RuntimeError,
                       match="the test process failed:\n(.|\n)*boom"):
        run_json_child(["-c", "raise SystemExit('boom')"],
                       dict(os.environ), "test")


def test_targets_read_the_solvers_not_the_c_order_rerun():
    # The re-run on a C-ordered X runs the same kernels: were it counted,
    # fastdnn's time would be the better of two samples against each
    # peer's one. Here it is the faster, and no target may read it.
    def row(name, seconds, **extra):
        return dict({"name": name, "kind": "fastdnn", "seconds": seconds},
                    **extra)
    case = {"key": "overhead", "steps": 1000, "limit_seconds": 1.0,
            "rows": [row("fastdnn primal", 0.02),
                     row("fastdnn primal, X in C order", 0.01,
                         x_order="C"),
                     row("fastdnn primal, BLAS unset", 0.005,
                         blas_unset=True),
                     {"name": "jax", "kind": "peer", "seconds": 0.03,
                      "check": {"status": "not installed"}}]}
    targets = {t["key"]: t for t in workload_run.workload_targets(
        {"cases": [case], "quick": False})}
    assert targets["overhead|us"]["value"] == pytest.approx(20.0)
    assert targets["overhead|us"]["status"] == "FAIL"
    md = "\n".join(workload_report.case_table(dict(case, rows=[
        dict(r, version=r["name"]) for r in case["rows"]])))
    # "fastdnn x" is over the primal row's time: JAX's 0.03 s reads 1.5.
    assert "| jax | 0.03 | - | - | 1.5 | 0.03 |" in md
