"""Shared fixtures of the pytest-benchmark suite.

The normal ``pytest`` run passes ``--benchmark-disable``: every benchmark
then runs its function once, as a smoke test, and the training benchmarks
train for a few iterations only. Enable them with::

    python -m pytest benchmarks --benchmark-enable --benchmark-only

Groups are named ``operation|shape|dtype`` so that the numpy and numba
numbers of one operation sit side by side in pytest-benchmark's table.
"""
import pytest

#: Training iterations of the end-to-end benchmarks: a smoke run, and the
#: real measurement (a fifth of the seed's 2500, to keep the numpy
#: reference's rounds under a minute; `fastdnn bench` runs all 2500).
SMOKE_ITERATIONS = 2
ENABLED_ITERATIONS = 500


def benchmarks_enabled(config):
    # As pytest-benchmark decides: --benchmark-enable wins over the
    # --benchmark-disable of pyproject's addopts.
    return (config.getoption("benchmark_enable", False)
            or not config.getoption("benchmark_disable", False))


@pytest.fixture(scope="session")
def enabled(request):
    """Whether pytest-benchmark measures (False under --benchmark-disable)."""
    return benchmarks_enabled(request.config)


@pytest.fixture(scope="session")
def training_iterations(enabled):
    return ENABLED_ITERATIONS if enabled else SMOKE_ITERATIONS


def shape_name(shape):
    """``12288-20-7-5-1x209``: layer widths, then m."""
    return "%sx%d" % ("-".join(str(n) for n in shape.dims), shape.m)


def group(operation, shape, dtype, extra=""):
    return "%s|%s%s|%s" % (operation, shape_name(shape), extra, dtype)


def side_by_side(items, sides, dtypes=("float32", "float64")):
    """``(cases, ids)`` for ``pytest.mark.parametrize``: every item (a
    tuple whose first field is its name) in every dtype, timed on each
    side, with ids ``name-dtype-side``."""
    cases = [(item, dtype, side)
             for item in items for dtype in dtypes for side in sides]
    ids = ["%s-%s-%s" % (item[0], dtype, side.replace(" ", "-"))
           for item, dtype, side in cases]
    return cases, ids
