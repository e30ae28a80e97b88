import os

import numpy as np
import pytest

import fastdnn


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


@pytest.fixture
def rng():
    return np.random.RandomState(0)
