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
                            [--workload cat|mnist-shape|mnist-shape-32|
                                        digits|all]

``--workload`` adds the workloads of ``workloads`` (MNIST-shaped
mini-batch training, digits, the cat against JAX, PyTorch and
scikit-learn, each peer's float64 numbers checked against fastdnn's before
it is timed), written to the same files plus ``bench_workloads.png``.

The package, one job a module:

- ``problem``: the model, the data, the kernel cases measured;
- ``timing``: medians of repeated runs, taken in turn;
- ``machine``: the CPU, versions and BLAS of the measurement;
- ``workers``: the numpy reference's process, with numba timed beside it;
- ``peers``: PyTorch and scikit-learn;
- ``startup``, ``scaling``: the start-up and scaling measurements;
- ``targets``: the targets and their check;
- ``measure``: a whole run, gathered into one result;
- ``report``, ``charts``: ``bench.md``, the printed table, the PNG charts;
- ``workloads``, ``peers_minibatch``, ``workload_run``,
  ``workload_report``: the workloads, their peers, their run and targets,
  their reports;
- ``cli``: the options and ``main``.

The names below are re-exported so that ``from fastdnn.bench import X``
works for each of them (the benchmarks and tests use some of the private
ones), and ``fastdnn.bench.run`` is what :func:`main` runs.
"""
from .cli import main
from .machine import BLAS_ENV
from .measure import run
from .problem import (DIMS, ITERATIONS, KERNELS, LEARNING_RATE, NUMBA_RUNS,
                      QUICK_ITERATIONS)
from .targets import TARGETS
from .timing import PAIR_PAUSE
from .workload_run import WORKLOAD_TARGETS, run_workloads
from .workloads import WORKLOAD_NAMES, WORKLOADS

# The private names too, for the code and tests that use them.
from .charts import _plot, _plot_kernels  # noqa: F401
from .cli import _parser  # noqa: F401
from .machine import (  # noqa: F401
    _blas_info, _kernel_name, _loadavg, _machine, _numba_cpu_name)
from .measure import _kernel_rows, _max_rel  # noqa: F401
from .peers import _sklearn_training, _torch_training  # noqa: F401
from .problem import (  # noqa: F401
    _initial_parameters, _kernel_args, _load_problem)
from .report import (  # noqa: F401
    _fmt, _markdown, _print_table, _training_table)
from .scaling import _scaling  # noqa: F401
from .startup import (  # noqa: F401
    _STARTUP, _startup, _startup_once)
from .targets import _check  # noqa: F401
from .timing import (  # noqa: F401
    _median, _time_kernel_cases, _time_kernels, _time_training,
    _time_trainings)
from .workers import (  # noqa: F401
    _numba_kernels, _numba_train, _numpy_worker, _run_worker)

__all__ = ["BLAS_ENV", "DIMS", "ITERATIONS", "KERNELS", "LEARNING_RATE",
           "NUMBA_RUNS", "PAIR_PAUSE", "QUICK_ITERATIONS", "TARGETS",
           "WORKLOADS", "WORKLOAD_NAMES", "WORKLOAD_TARGETS", "main", "run",
           "run_workloads"]
