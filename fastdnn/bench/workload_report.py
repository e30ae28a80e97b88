"""The reports of ``fastdnn bench --workload``: the Markdown section of
``bench.md``, the printed tables and ``bench_workloads.png``."""
from .machine import BLAS_ENV, SETTLED_PROBE
from .report import _fmt
from .workload_run import SETTLE_BUDGET_SECONDS, as_is_fastdnn


def _machine_line(w):
    m = w["machine"]
    return ("Machine: %s, %s cores (%s; LLVM target %s), Python %s, numpy "
            "%s (%s), numba %s; GEMM peak measured here (numpy's BLAS, "
            "%s threads): float32 %s GFLOP/s, float64 %s GFLOP/s." % (
                m["cpu"], m["cores"], "/".join(m["simd"]) or "?",
                m["numba_cpu"], m["python"], m["numpy"],
                ", ".join("%s %s %s" % (b["internal_api"], b["version"],
                                        b["architecture"])
                          for b in m["blas"]) or "BLAS ?", m["numba"],
                m["blas"][0]["num_threads"] if m["blas"] else "?",
                _fmt(w["gemm_peak"]["float32"] / 1e9),
                _fmt(w["gemm_peak"]["float64"] / 1e9)))


def _check_cell(r):
    if r["kind"] == "fastdnn":
        rel = r.get("cost_rel_fastdnn")
        return "-" if rel is None else "costs vs first solver %s" % _fmt(
            rel, 2)
    c = r["check"]
    if c["status"] == "not installed":
        return "not installed"
    text = "%s (costs %s, params %s)" % (
        c["status"], _fmt(c["cost_rel"], 2), _fmt(c["param_rel"], 2))
    if c["status"] == "DIFFERS":
        text = "**not a peer**: " + text
    if c.get("note"):
        text += "; " + c["note"]
    return text


def _probe_cell(r):
    readings = [x for x in r.get("core_probe") or [] if x is not None]
    if not readings:
        return "-"
    lo, hi = min(readings), max(readings)
    cell = _fmt(lo, 3) if hi - lo < 0.005 else "%s-%s" % (_fmt(lo, 3),
                                                          _fmt(hi, 3))
    waited = sum(r.get("settle_wait") or [])
    return cell + (", waited %.0f s" % waited if waited >= 0.5 else "")


def _one_thread_cell(r):
    # fastdnn's share of steps on one thread, its range over the rounds.
    shares = [x for x in r.get("one_thread_share") or [] if x is not None]
    if not shares:
        return "-"
    lo, hi = 100 * min(shares), 100 * max(shares)
    return "%.0f%%" % lo if round(lo) == round(hi) else "%.0f-%.0f%%" % (
        lo, hi)


def case_table(c):
    """Markdown lines of one case."""
    best = min(r["seconds"] for r in c["rows"]
               if as_is_fastdnn(r) and r.get("seconds"))
    lines = ["| run | seconds | fastest run | us / step | fastdnn x | "
             "x GEMM-FLOP limit | first call (s) | compile (s) | core "
             "probe | steps on one thread | float64 check |",
             "|" + "---|" * 11]
    for r in c["rows"]:
        sec = r.get("seconds")
        cells = (r["version"] if r["kind"] == "peer" else r["name"],
                 _fmt(sec, 4), _fmt(r.get("fastest"), 4),
                 _fmt(r.get("per_step_us")),
                 _fmt(sec / best) if sec else "-",
                 _fmt(sec / c["limit_seconds"]) if sec else "-",
                 _fmt(r.get("first_call")), _fmt(r.get("compile")),
                 _probe_cell(r), _one_thread_cell(r), _check_cell(r))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def workload_markdown(w):
    out = ["## Workloads (`--workload %s`)" % " ".join(w["workloads"]), "",
           _machine_line(w), ""]
    env = ", ".join("%s=%s" % (k, w["machine"]["blas_env"].get(k))
                    for k in BLAS_ENV)
    out.append("OpenBLAS variables: %s%s." % (
        env, "" if w["blas_env_set"] else " (neither is set: numpy runs "
        "as it would without them)"))
    load = w["machine"].get("loadavg")
    if load:
        out += ["", "Load average at the start %s, at the end %s." % (
            " ".join("%.2f" % x for x in load),
            " ".join("%.2f" % x for x in w.get("loadavg_end") or []))]
    out += ["", "Medians over rounds (%d, the --repeats, or more for a "
            "case whose fastest side is short: its heading says how many; "
            "the fastest run beside), fastdnn "
            "and the peers timed in turn in one process; compile time "
            "(first call minus the median) kept out and reported on its "
            "own. core probe: the range, over the rounds, of a reading "
            "taken right before the run (after the pause), outside its "
            "timing: two chains of dependent multiply-adds on registers, "
            "one on each of two threads, over one chain on one thread "
            "(about 1.15 while both cores run at full speed; about 2 while "
            "another thread keeps one core busy, such as a library's pool "
            "still spinning; between, while the host slows one; below 1 "
            "when that falls on the single chain alone). Before each run "
            "the bench waits, up to %.0f s a case in all (none under "
            "--quick), for a reading of at most %.2f (both cores at full "
            "speed), whichever side runs next; the cell says how long it "
            "waited. steps on one "
            "thread: the range, over the rounds, of the share of "
            "fastdnn's steps that its training loop ran on one thread, "
            "having found one thread the faster (fastdnn._threads; - "
            "where the loop does not choose, a serial network or the "
            "gram solver, and for the runs in a process of their own). "
            "fastdnn x: the "
            "run's seconds over fastdnn's best "
            "solver's on the layout made for it, which the targets read "
            "too (above 1: fastdnn is faster). The GEMM-FLOP limit "
            "is the run's matrix-product FLOPs over the GEMM peak above. "
            "float64 check: before timing, each peer trains in float64 "
            "from fastdnn's initial parameters on the same batches in the"
            " same order (at most 2048 examples, 3 passes) and its costs "
            "and final parameters are compared with fastdnn's (max "
            "relative difference); scikit-learn's MLPClassifier has "
            "update rules of its own, so it is checked on plain gradient "
            "descent and timed with its own rule (same work, its own "
            "update rule). Each side gets the data in the layout it "
            "reads, made before timing: the peers an (m, n_x) array, "
            "fastdnn's mini-batch runs the same layout seen as (n_x, m) "
            "(Fortran order); the row \"X in C order\" times the copy a "
            "C-ordered X costs a mini-batch fit." % (
                w["repeats"], SETTLE_BUDGET_SECONDS, SETTLED_PROBE)]
    if w["blas_env_set"]:
        out += ["", "Rows ending \"%s unset\": the same run in a process "
                "of its own without these variables (neither JAX nor "
                "PyTorch runs on OpenBLAS); no target reads them."
                % "/".join(BLAS_ENV)]
    if w["quick"]:
        out += ["", "`--quick`: smaller data and fewer passes; the targets "
                "are not read from this run."]
    for c in w["cases"]:
        out += ["", "### %s" % c["title"], "",
                "%s; layers %s, %s hidden; %d passes, %s, %d steps; "
                "GEMM-FLOP limit %s s; timed in %d rounds." % (
                    c["data"], "-".join(str(d) for d in c["dims"]),
                    c["activation"], c["passes"],
                    "full batch" if c["batch"] is None
                    else "batch %d" % c["batch"], c["steps"],
                    _fmt(c["limit_seconds"]), c["rounds"]), ""]
        out += case_table(c)
    out += ["", "### Targets", "", "| target | threshold | measured | "
            "status |", "|---|---|---|---|"]
    for t in w["targets"]:
        op = ">=" if t["kind"] == "ratio" else "<="
        out.append("| %s | %s %s | %s | %s |" % (
            t["description"], op, _fmt(t["threshold"]),
            _fmt(t["value"], 3), t["status"]))
    return "\n".join(out) + "\n"


def print_workloads(w):
    print(_machine_line(w))
    for c in w["cases"]:
        print("\n%s (%d passes, %d steps; GEMM-FLOP limit %s s)" % (
            c["title"], c["passes"], c["steps"], _fmt(c["limit_seconds"])))
        for line in case_table(c)[2:]:
            print("  " + line)
    print("\nWorkload targets:")
    for t in w["targets"]:
        op = ">=" if t["kind"] == "ratio" else "<="
        print("  %-4s %-62s %s %s (measured %s)" % (
            t["status"], t["description"], op, _fmt(t["threshold"]),
            _fmt(t["value"], 3)))


def plot_workloads(w, path):
    """Seconds of every run of every case, one panel row per case, with
    the GEMM-FLOP limit marked."""
    from matplotlib.figure import Figure

    cases = w["cases"]
    labels, secs, colors, limits = [], [], [], []
    for c in cases:
        for r in c["rows"]:
            if r.get("seconds") is None:
                continue
            labels.append("%s | %s" % (c["key"], r["name"].replace(
                "/".join(BLAS_ENV), "OpenBLAS vars")))
            secs.append(r["seconds"])
            # Paler: the runs no target reads (own process, no variables).
            colors.append(("lightskyblue" if r.get("blas_unset")
                           else "tab:blue") if r["kind"] == "fastdnn"
                          else ("silver" if r.get("blas_unset")
                                else "tab:gray"))
            limits.append(c["limit_seconds"])
    fig = Figure(figsize=(9, 0.3 * len(labels) + 1.4))
    ax = fig.add_subplot(1, 1, 1)
    y = range(len(labels))
    ax.barh(y, secs, color=colors)
    ax.scatter(limits, y, marker="|", color="tab:red", s=80,
               label="GEMM-FLOP limit")
    for i, s in enumerate(secs):
        ax.text(s, i, " %s s" % _fmt(s, 3), va="center", fontsize=6)
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("seconds, log scale (blue fastdnn, gray peers; pale: "
                  "OpenBLAS vars unset)", fontsize=8)
    mach = w.get("machine") or {}
    # The chart names the CPU as the tables do.
    ax.set_title("fastdnn bench --workload %s\n%s, %s cores, LLVM target %s"
                 % (" ".join(w["workloads"]), mach.get("cpu", "?"),
                    mach.get("cores", "?"), mach.get("numba_cpu", "?")),
                 fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
