"""The text reports of a result: the Markdown of ``bench.md`` and the table
printed at the end of a run."""
import math

from .problem import ITERATIONS


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
        rows = [("warm", s["warm"])]
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
