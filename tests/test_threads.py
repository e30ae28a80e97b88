"""The training loops' thread count chosen block by block
(fastdnn._threads): the governor's choices on given timings, the blocks'
bookkeeping, and the same bits whatever the blocks ran on (blocks of a few
steps, alternating between all threads and one, against one call)."""
import numba
import numpy as np
import pytest

from fastdnn import _threads, jit
from fastdnn._kernels_blas import network_uses_blas

TWO_THREADS = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2,
    reason="needs numba's pool of at least two threads")


def _feed(governor, per_step_by_threads, blocks):
    """Run ``blocks`` blocks of 10 steps at the given seconds per step (a
    dict: thread count -> seconds); return the counts they ran on."""
    ran = []
    for _ in range(blocks):
        ran.append(governor.current)
        governor.record(10, 10 * per_step_by_threads[governor.current])
    return ran


def test_two_fast_threads_keep_all_threads_but_for_rare_checks():
    governor = _threads.ThreadGovernor(2)
    ran = _feed(governor, {2: 1.0e-3, 1: 1.6e-3}, 400)
    # The first block sizes the blocks; the second on all threads, the
    # third on one (its first reading), then all threads but one block in
    # EXPLORE_ONE_EVERY + 1.
    assert ran[:4] == [2, 2, 1, 2]
    ones = ran.count(1)
    assert 1 <= ones <= 1 + 400 // _threads.EXPLORE_ONE_EVERY


def test_a_slow_core_moves_the_run_to_one_thread_and_back():
    governor = _threads.ThreadGovernor(2)
    _feed(governor, {2: 1.0e-3, 1: 1.6e-3}, 20)
    assert governor.current == 2
    # The second core slows down: two threads now slower than one. It
    # takes READINGS slow blocks to leave all threads.
    slow = {2: 2.4e-3, 1: 1.6e-3}
    ran = _feed(governor, slow, 3 * _threads.EXPLORE_ALL_EVERY + 10)
    first_one = ran.index(1)
    assert first_one == _threads.READINGS
    # On one thread from then on, but for a block on all threads every
    # EXPLORE_ALL_EVERY blocks on one.
    rest = ran[first_one:]
    assert rest.count(2) <= len(rest) // _threads.EXPLORE_ALL_EVERY + 1
    assert rest.count(1) >= len(rest) - len(rest) // (
        _threads.EXPLORE_ALL_EVERY) - 1
    # The core is back: the next check on all threads stays there.
    ran = _feed(governor, {2: 1.0e-3, 1: 1.6e-3},
                _threads.EXPLORE_ALL_EVERY + 5)
    assert ran[-4:] == [2, 2, 2, 2]


def test_one_slow_block_does_not_move_the_run():
    governor = _threads.ThreadGovernor(2)
    _feed(governor, {2: 1.0e-3, 1: 1.6e-3}, 20)
    for slow_blocks in range(1, _threads.READINGS):
        ran = _feed(governor, {2: 5e-3, 1: 1.6e-3}, slow_blocks)
        ran += _feed(governor, {2: 1.0e-3, 1: 1.6e-3}, 5)
        assert 1 not in ran


def test_blocks_aim_at_block_seconds():
    governor = _threads.ThreadGovernor(2)
    assert governor.block_steps(1000) == 1  # nothing measured yet
    governor.record(1, 1e-4)  # the first block: sizes, is not kept
    assert governor.seconds_per_step(2) is None
    assert governor.block_steps(1000) == 1
    governor.record(1, 1e-4)
    assert governor.block_steps(10 ** 6) == int(
        _threads.BLOCK_SECONDS / 1e-4)
    assert governor.block_steps(7) == 7  # never beyond what remains
    governor.record(0, 1.0)  # an empty block changes nothing
    assert governor.seconds_per_step(2) == 1e-4


def test_a_training_keeps_its_governor_while_the_count_stays():
    first = _threads.governor_for(None, 2)
    assert first.threads == 2
    assert _threads.governor_for(first, 2) is first
    other = _threads.governor_for(first, 3)
    assert other is not first and other.threads == 3


def test_run_blocks_stops_at_a_short_block_and_gives_the_count_back():
    before = numba.get_num_threads()
    calls = []

    def call(s0, s1):
        calls.append((s0, s1, numba.get_num_threads()))
        return min(s1, 5) - s0  # step 5 fails

    done = _threads.run_blocks(call, 100, before)
    assert done == 5
    assert calls[-1][1] > 5
    assert [c[0] for c in calls] == [0] + [c[1] for c in calls[:-1]]
    assert numba.get_num_threads() == before


def test_run_blocks_gives_the_count_back_after_an_exception():
    before = numba.get_num_threads()
    governor = _threads.ThreadGovernor(before)
    governor.current = 1

    def call(s0, s1):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _threads.run_blocks(call, 10, before, governor)
    assert numba.get_num_threads() == before


def test_adaptive_only_for_parallel_runs_with_a_parallel_layer(monkeypatch):
    big = [64, 64, 10]
    assert _threads.adaptive(True, 2, big, 64)
    assert not _threads.adaptive(False, 2, big, 64)
    assert not _threads.adaptive(True, 1, big, 64)
    # 16-16-16-10 over 32 examples: every kernel serial.
    assert not _threads.adaptive(True, 2, [16, 16, 16, 10], 32)
    monkeypatch.setattr(_threads.cfg, "ADAPTIVE_THREADS", False)
    assert not _threads.adaptive(True, 2, big, 64)


class _Alternating(_threads.ThreadGovernor):
    """Blocks of 1 to 3 steps, on one thread and all in turn: blocks that
    end mid-pass, and every switch the governor could make."""

    def __init__(self, threads):
        super().__init__(threads)
        self._sizes = iter(np.random.RandomState(0).randint(1, 4, 10 ** 5))

    def block_steps(self, remaining):
        return min(int(next(self._sizes)), remaining)

    def record(self, steps, seconds):
        self.current = 1 if self.current == self.threads else self.threads


def _train(X, Y, dims, passes, dtype, **kw):
    params, costs = jit.L_layer_model(X, Y, dims, 0.05, passes, dtype=dtype,
                                      print_cost=False, **kw)
    return params, costs


@TWO_THREADS
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", [
    dict(),  # the primal loop
    dict(optimizer="adam", mini_batch_size=50, lambd=0.1, keep_prob=0.8),
    dict(optimizer="momentum", mini_batch_size=64),
    dict(optimizer="rmsprop", lambd=0.2),  # the toolbox in full batch
], ids=["primal", "adam-minibatch-l2-dropout", "momentum-minibatch",
        "rmsprop-full-batch"])
def test_blocks_on_alternating_counts_give_the_same_bits(monkeypatch, dtype,
                                                         kw):
    rng = np.random.RandomState(1)
    X = rng.standard_normal((64, 230))
    Y = (rng.random_sample((1, 230)) > 0.5).astype(float)
    dims = [64, 64, 16, 1]
    if network_uses_blas(dims, kw.get("mini_batch_size", X.shape[1])):
        pytest.skip("the network's products run on BLAS in this build (no "
                    "AVX2 and FMA): the training runs on one thread, not "
                    "in timed blocks")
    assert _threads.adaptive(True, 2, dims, 50)
    monkeypatch.setattr(_threads.cfg, "ADAPTIVE_THREADS", False)
    want = _train(X, Y, dims, 7, dtype, **kw)
    monkeypatch.setattr(_threads.cfg, "ADAPTIVE_THREADS", True)
    made = []

    def governor(threads):
        made.append(_Alternating(threads))
        return made[-1]

    monkeypatch.setattr(_threads, "ThreadGovernor", governor)
    monkeypatch.setattr(_threads, "STEPS_RUN", {"one": 0, "all": 0})
    got = _train(X, Y, dims, 7, dtype, **kw)
    assert len(made) == 1
    assert _threads.STEPS_RUN["one"] > 0 and _threads.STEPS_RUN["all"] > 0
    np.testing.assert_array_equal(got[1], want[1])
    for name in want[0]:
        np.testing.assert_array_equal(got[0][name], want[0][name])


@TWO_THREADS
@pytest.mark.parametrize("kw", [dict(), dict(optimizer="momentum",
                                             mini_batch_size=50)],
                         ids=["primal", "momentum-minibatch"])
def test_a_diverging_run_fails_alike_in_blocks(monkeypatch, kw):
    rng = np.random.RandomState(2)
    X = rng.standard_normal((64, 230)) * 30
    Y = (rng.random_sample((1, 230)) > 0.5).astype(float)
    dims = [64, 64, 16, 1]
    errors = []
    for adaptive in (False, True):
        monkeypatch.setattr(_threads.cfg, "ADAPTIVE_THREADS", adaptive)
        monkeypatch.setattr(_threads, "ThreadGovernor", _Alternating)
        with pytest.raises(FloatingPointError) as info:
            jit.L_layer_model(X, Y, dims, 1e30, 50, **kw)
        errors.append(str(info.value))
    assert errors[0] == errors[1]
