"""The initial parameters' RandomState, reused per thread and reseeded
(:func:`fastdnn._reference_initializers.draw_random_state`): the numbers
of a new ``RandomState(seed)`` whatever the previous use left behind."""
import re
import threading

import numpy as np
import pytest

from fastdnn import jit, reference
from fastdnn._reference_initializers import draw_random_state, random_state


def _state(rng):
    # The whole state: the key, its position and the cached normal draw.
    name, key, pos, has_gauss, gauss = rng.get_state()
    return name, key.tolist(), pos, has_gauss, gauss


@pytest.mark.parametrize("seed", [0, 1, 3, 2 ** 32 - 1])
def test_reseeded_state_is_a_new_random_state(seed):
    rng = draw_random_state(7)
    # Leave a cached normal draw and a moved position behind.
    rng.randn(3)
    rng.rand(5)
    assert _state(draw_random_state(seed)) == _state(
        np.random.RandomState(seed))
    assert np.array_equal(draw_random_state(seed).randn(4, 3),
                          np.random.RandomState(seed).randn(4, 3))


def test_generators_and_random_states_pass_through():
    for rng in (np.random.RandomState(2), np.random.default_rng(2)):
        assert draw_random_state(rng) is rng


@pytest.mark.parametrize("seed", [-1, 2 ** 32, 1.5, "1"])
def test_bad_seeds_raise_as_random_state(seed):
    with pytest.raises((TypeError, ValueError)) as expected:
        random_state(seed)
    message = re.escape(str(expected.value))
    with pytest.raises(type(expected.value), match=message):
        draw_random_state(seed)


def test_each_thread_has_its_own():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(draw_random_state(1)))
    thread.start()
    thread.join()
    assert seen[0] is not draw_random_state(1)


@pytest.mark.parametrize("module", [reference, jit])
def test_trainings_in_a_row_start_from_the_seeds_parameters(module):
    # A training between two others of seed 1 does not move their start.
    X = np.random.RandomState(0).rand(4, 30)
    Y = (X[:1] > 0.5).astype(float)
    first, _ = module.L_layer_model(X, Y, [4, 3, 1], num_iterations=3,
                                    seed=1)
    module.L_layer_model(X, Y, [4, 3, 1], num_iterations=3, seed=5)
    again, _ = module.L_layer_model(X, Y, [4, 3, 1], num_iterations=3,
                                    seed=1)
    for key in first:
        assert np.array_equal(first[key], again[key])
