"""The PNG charts of a result: training times (``bench.png``) and kernel
times against their targets (``bench_kernels.png``). matplotlib is imported
only when a chart is drawn."""
import numpy as np

from .report import _fmt
from .targets import TARGETS


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
