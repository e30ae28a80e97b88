"""The performance targets and how a measurement is held to them."""
import math


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
    ("startup_cold_seconds", "new process: launch to 1-iteration training "
     "done, empty cache (compiles what that run uses)", "seconds", 30.0),
    ("primal_float64_cost_rel", "primal float64: max relative cost "
     "difference", "relative", 1e-9),
    ("gram_float64_cost_rel", "gram float64: max relative cost difference",
     "relative", 1e-9),
]


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
