"""fastdnn.bench's report and --check, on a made-up measurement (the real
one takes minutes: ``python -m fastdnn.bench``)."""
import json

import pytest

from fastdnn import bench


def _result(gram_seconds):
    rows = [
        {"name": "numpy reference (env as-is)", "dtype": "float64",
         "seconds": 30.0, "cost_rel": 0.0},
        {"name": "numpy reference (OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE "
         "unset)", "dtype": "float64", "seconds": 20.0, "cost_rel": 0.0},
        {"name": "numba gram", "dtype": "float64", "solver": "gram",
         "seconds": gram_seconds, "cost_rel": 1e-15, "first_call": 0.1},
    ]
    for r in rows:
        r["ratio"] = 30.0 / r["seconds"]
        r["ratio_unset"] = 20.0 / r["seconds"]
    blas = [{"internal_api": "openblas", "version": "0.3", "architecture":
             "Haswell", "num_threads": 2, "threading_layer": "pthreads"}]
    numpy = {"kernel": "openblas Haswell", "blas": blas,
             "blas_env": {k: None for k in bench.BLAS_ENV}, "times": [1.0]}
    return {
        "command": "python -m fastdnn.bench", "source": "synthetic",
        "iterations": 2500, "repeats": 1,
        "machine": {"cpu": "cpu", "cores": 2, "simd": ["avx2"],
                    "numba_cpu": "znver3", "python": "3", "numpy": "2",
                    "numba": "0", "blas": blas, "loadavg": [0.1, 0.1, 0.1]},
        "numpy": {"as_is": numpy, "unset": dict(numpy, times=[0.5]),
                  "unset_is_as_is": False},
        "training": rows, "kernels": bench._kernel_rows(
            {"kernels": {k: 2e-3 for k in _kernel_times(0, 0)}},
            {"kernels": {k: 1.5e-3 for k in _kernel_times(0, 0)}},
            _kernel_times(1e-3, 3e-3)),
        "scaling": [{"n_x": 10, "m": 20, "auto": "primal",
                     "faster": "primal", "auto_right": True,
                     "primal": {"per_iteration": 1e-3, "setup": 0.0},
                     "gram": {"per_iteration": 2e-3, "setup": 0.01}}],
        "targets": bench._check({"gram_float64_seconds": gram_seconds,
                                 "gram_float64_ratio": 20.0 / gram_seconds}),
    }


@pytest.mark.parametrize("gram_seconds,status", [(0.2, 0), (0.5, 1)])
def test_main_writes_reports_and_checks(monkeypatch, tmp_path, capsys,
                                        gram_seconds, status):
    monkeypatch.setattr(bench, "run", lambda args: _result(gram_seconds))
    assert bench.main(["--out", str(tmp_path), "--check"]) == status
    res = json.loads((tmp_path / "bench.json").read_text())
    assert res["training"][2]["seconds"] == gram_seconds
    md = (tmp_path / "bench.md").read_text()
    assert "| numba gram | float64 |" in md
    # the kernels: the paired ratio, and the stricter one beside it
    assert "| 3 | 3 | 1.5 |" in md
    assert (tmp_path / "bench_kernels.png").stat().st_size > 1000
    assert (tmp_path / "bench.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert ("FAIL" in out) == (status == 1)
    # Without --check a failed target does not change the exit status.
    assert bench.main(["--out", str(tmp_path)]) == 0


def test_check_directions():
    got = {t["key"]: t["status"] for t in bench._check({
        "gram_float64_ratio": 41.0, "gram_float64_seconds": 0.31,
        "gram_float64_cost_rel": 1e-12})}
    assert got["gram_float64_ratio"] == "PASS"
    assert got["gram_float64_seconds"] == "FAIL"
    assert got["gram_float64_cost_rel"] == "PASS"
    assert got["startup_warm_seconds"] == "n/a"


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--help"])
    assert exc.value.code == 0
    assert "--repeats" in capsys.readouterr().out


@pytest.mark.parametrize("key,op,layout,desc", bench.KERNELS,
                         ids=[k[0] for k in bench.KERNELS])
def test_kernel_args_have_the_named_layout(key, op, layout, desc):
    # The A_prev each kernel comparison runs on is laid out as its row says.
    args = bench._kernel_args(op, layout, "float64")
    if op.startswith("linear_activation_forward"):
        A_prev = args[0]
    else:
        (A_prev, _, _), _ = args[1]
    assert A_prev.shape == (12288, 209)
    want = "F_CONTIGUOUS" if layout == "F" else "C_CONTIGUOUS"
    assert A_prev.flags[want] and not (A_prev.flags.f_contiguous
                                       and A_prev.flags.c_contiguous)


def test_kernel_chart(tmp_path):
    # Drawn from the kernel rows, with each target's time; nothing without
    # kernel rows (e.g. a run that skipped them).
    path = tmp_path / "k.png"
    assert not bench._plot_kernels({"kernels": []}, str(path))
    assert not path.exists()
    rows = [{"key": key, "kernel": desc, "layout": layout, "dtype": dtype,
             "numpy_ms": 3.0, "numpy_unset_ms": 3.5, "numpy_paired_ms": 4.0,
             "numpy_paired_f64_ms": 4.0, "numba_ms": 2.0,
             "ratio_vs_f64": 2.0}
            for key, _, layout, desc in bench.KERNELS
            for dtype in ("float64", "float32")]
    assert bench._plot_kernels({"kernels": rows}, str(path))
    assert path.stat().st_size > 1000


def _kernel_times(numba_s, numpy_s):
    # {"forward|float64": (numba, numpy), ...} as _numba_kernels returns.
    return {"%s|%s" % (key, dtype): (numba_s, numpy_s)
            for key, _, _, _ in bench.KERNELS
            for dtype in ("float64", "float32")}


def test_kernel_ratios_are_taken_within_one_process():
    # The targets' ratio pairs numba with numpy timed in the same process,
    # in alternating blocks; numpy timed alone (at another moment) gives the
    # stricter ratio beside it.
    as_is = {"kernels": {k: 4e-3 for k in _kernel_times(0, 0)}}
    unset = {"kernels": {k: 2e-3 for k in _kernel_times(0, 0)}}
    rows = bench._kernel_rows(as_is, unset, _kernel_times(1e-3, 3e-3))
    assert len(rows) == 2 * len(bench.KERNELS)
    for r in rows:
        assert r["ratio_vs_f64"] == pytest.approx(3.0)
        assert r["ratio_same_dtype"] == pytest.approx(3.0)
        assert r["ratio_vs_fastest_f64"] == pytest.approx(2.0)
        assert (r["numpy_ms"], r["numpy_unset_ms"], r["numpy_paired_ms"],
                r["numba_ms"]) == pytest.approx((4.0, 2.0, 3.0, 1.0))


def test_trainings_are_timed_in_turn(monkeypatch):
    # The repeats of several trainings alternate (a slow spell falls on
    # all), and --quick's extrapolation counts the setup once.
    calls = []

    def train(name, per_it, setup):
        def run(k):
            calls.append((name, k))
            return name, setup + per_it * k
        return run

    out = bench._time_trainings({"a": train("a", 1.0, 0.0),
                                 "b": train("b", 0.5, 10.0)}, 4, 2)
    assert [c[0] for c in calls[:4]] == ["a", "b", "a", "b"]
    assert {c[1] for c in calls[:4]} == {4}
    # t1 + (tn - t1) (ITERATIONS - 1) / (n - 1)
    assert out["a"][0] == pytest.approx(bench.ITERATIONS)
    assert out["b"][0] == pytest.approx(10 + 0.5 * bench.ITERATIONS)
    assert out["b"][2] == "b"


def test_kernel_cases_are_timed_in_rounds():
    # Every case's functions get one block per round, so that each median
    # spans the whole measurement.
    order = []

    def fn(tag):
        return lambda: order.append(tag)

    out = bench._time_kernel_cases({"a": ([fn("a0"), fn("a1")], ()),
                                    "b": ([fn("b0")], ())}, 3, block=1e-4)
    assert set(out) == {"a", "b"} and len(out["a"]) == 2
    timed = [t for i, t in enumerate(order) if i >= 6]  # after calibration
    blocks = [t for i, t in enumerate(timed)
              if i == 0 or timed[i - 1] != t]
    assert blocks == ["a0", "a1", "b0"] * 3


def test_worker_prints_its_result_as_one_json_line(monkeypatch, capsys):
    # The worker's stdout is how the measuring process gets its result; the
    # training functions record their costs as 0-d arrays, which must
    # arrive as numbers. A real worker run with tiny sizes: 2 iterations,
    # the numba trainings paired with the reference's; one kernel case, and
    # neither the paired kernel rounds nor the pauses between blocks
    # (seconds, not what is checked here).
    from fastdnn.bench import workers
    monkeypatch.setattr(workers, "KERNELS", bench.KERNELS[:1])
    monkeypatch.setattr(workers, "PAIR_PAUSE", 0.0)
    monkeypatch.setattr(workers, "_numba_kernels", lambda repeats: {})
    spec = {"data": None, "iterations": 2, "repeats": 1, "paired": True}
    assert bench.main(["--worker", json.dumps(spec)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    got = json.loads(lines[0])
    assert len(got["costs"]) == 1 and isinstance(got["costs"][0], float)
    assert set(got["numba"]) == {"%s|%s" % r for r in bench.NUMBA_RUNS}
    for r in got["numba"].values():
        assert r["costs"] == pytest.approx(got["costs"], rel=1e-4)
    assert set(got["kernels"]) == {"%s|%s" % (k[0], dtype)
                                   for k in bench.KERNELS[:1]
                                   for dtype in ("float64", "float32")}


def test_startup_fills_both_caches_before_the_warm_runs(monkeypatch):
    # "Warm" is numba's cache and Python's bytecode: the first, untimed
    # child may write bytecode even under PYTHONDONTWRITEBYTECODE, the
    # timed ones run in the environment as it is; the cold one gets an
    # empty numba cache of its own.
    from fastdnn.bench import startup
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    envs = []

    def child(args, env, what):
        envs.append(env)
        return {"import": 0.1, "train": 0.2, "done": 0.0}

    monkeypatch.setattr(startup, "run_json_child", child)
    out = startup._startup(3, cold=True)
    assert len(envs) == 5
    assert "PYTHONDONTWRITEBYTECODE" not in envs[0]
    assert all(e["PYTHONDONTWRITEBYTECODE"] == "1" for e in envs[1:])
    assert all("NUMBA_CACHE_DIR" not in e for e in envs[:4])
    assert envs[4]["NUMBA_CACHE_DIR"]
    assert out["warm"]["import"] == 0.1 and out["cold"]["train"] == 0.2
