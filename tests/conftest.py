import os

import numpy as np
import pytest

import fastdnn


def _one_blas_thread_per_worker():
    # Under pytest-xdist with several workers (the README's ``-n 2`` on a
    # 2-core host), each worker's BLAS gets one thread. OpenBLAS's threads
    # spin while they wait: two workers' pools sharing two cores made two
    # concurrent 2-layer reference trainings 41x slower each (118 s against
    # 2.9 s for 300 iterations), 1 thread each 1.6x. scipy.linalg is loaded
    # first so that its own OpenBLAS (numba's np.dot) is limited too. The
    # tests that vary BLAS's threads set their own limits; numba's threads
    # are left alone.
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        import scipy.linalg  # noqa: F401
        from threadpoolctl import threadpool_limits
        threadpool_limits(1, user_api="blas")


_one_blas_thread_per_worker()


@pytest.fixture(scope="session")
def data_dir():
    """The dataset folder; a skip on a developer's machine without it, a
    failure under CI, where .ci/run always provides it."""
    try:
        return fastdnn.data.find_data_dir()
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def cat_data(data_dir):
    """``(train_x, train_y, test_x, test_y, classes)`` with flattened X."""
    train_x_orig, train_y, test_x_orig, test_y, classes = fastdnn.load_data(
        data_dir)
    return (fastdnn.flatten_images(train_x_orig), train_y,
            fastdnn.flatten_images(test_x_orig), test_y, classes)


@pytest.fixture(scope="session")
def reference_seed_run(cat_data):
    """``run(model, dims) -> (parameters, costs)``: the reference backend's
    2500-iteration seed training on the cat data, computed once per session
    (each takes half a minute) and shared by every test that compares with
    it."""
    cache = {}

    def run(model, dims):
        key = (model, tuple(dims))
        if key not in cache:
            cache[key] = getattr(fastdnn.reference, model)(
                cat_data[0], cat_data[1], dims, 0.0075, 2500)
        return cache[key]

    return run


@pytest.fixture
def rng():
    return np.random.RandomState(0)


# ------------------------------------------------------- jit backend

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is a test extra
    pass
else:
    # A fixed, modest number of examples keeps the suite within minutes on
    # two cores; no deadline, since a first call may compile a kernel.
    settings.register_profile(
        "fastdnn", max_examples=25, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow,
                               HealthCheck.function_scoped_fixture])
    settings.load_profile("fastdnn")
