"""Inverted dropout's compiled masks (fastdnn._dropout_kernels), shared by
the primal and the dual-form toolbox solvers: the draws are numpy's
(fastdnn._toolbox_options) bit for bit, the mask and its two operations are
the course's, and a block of a larger buffer gets the draws of an array of
its own shape."""
import numpy as np
import pytest

from fastdnn import _dropout_kernels as DK
from fastdnn import _toolbox_options as O


def _cases():
    rng = np.random.RandomState(0)
    cases = [(0, 0, 0, 1, 1), (0, 1, 0, 3, 5), (1, 2, 7, 6, 64),
             (2 ** 32 - 1, 3, 10 ** 6, 2, 3), (12345, 1, 2 ** 40, 20, 17),
             (O.SEED_MAX, 9, 10 ** 12, 3, 7)]
    cases += [(int(rng.randint(0, 2 ** 32 - 1)), int(rng.randint(1, 6)),
               int(rng.randint(0, 10 ** 6)), int(rng.randint(1, 9)),
               int(rng.randint(1, 140))) for _ in range(40)]
    return cases


def test_draws_are_numpys_bits():
    for seed, layer, step, n, m in _cases():
        out = np.empty((n, m))
        DK.dropout_uniform_into(seed, layer, step, out)
        want = O.dropout_uniform(seed, layer, step, n, m)
        assert np.array_equal(out, want), (seed, layer, step, n, m)


def test_draws_spread_over_the_unit_interval():
    out = np.empty((20, 17))
    DK.dropout_uniform_into(12345, 1, 2 ** 40, out)
    assert 0.0 <= out.min() and out.max() < 1.0 and np.std(out) > 0.1


def test_splitmix_constants_are_the_shared_ones():
    assert DK.GOLDEN == O.GOLDEN and DK.MIX1 == O.MIX1
    assert DK.MIX2 == O.MIX2 and DK.UNIT == O.UNIT


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mask_is_numpys_and_applied_as_the_course(dtype):
    A = np.random.RandomState(1).rand(6, 50).astype(dtype)
    D = np.empty_like(A)
    out = A.copy()
    DK.dropout_apply(out, D, 7, 2, 33, 0.6)
    mask = O.dropout_mask(7, 2, 33, 6, 50, 0.6)
    assert np.array_equal(D.astype(bool), mask)
    assert np.array_equal(out, A * mask / dtype(0.6))
    dA = np.random.RandomState(2).rand(6, 50).astype(dtype)
    got = dA.copy()
    DK.mask_apply(got, D, 0.6)
    assert np.array_equal(got, dA * D / dtype(0.6))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_block_of_a_buffer_draws_as_its_own_array(dtype):
    # The solvers keep every layer's (n_l, mb) block in one buffer as wide
    # as the largest batch: rows r0:r0 + n, columns :mb. The counter runs
    # over the block's own columns.
    rng = np.random.RandomState(3)
    buf = rng.rand(12, 40).astype(dtype)
    masks = np.full_like(buf, -1.0)
    r0, n, mb = 4, 5, 23
    want_A = buf[r0:r0 + n, :mb].copy()
    want_D = np.empty_like(want_A)
    DK.dropout_apply(want_A, want_D, 11, 3, 5, 0.7)
    before = buf.copy()
    DK.dropout_apply(buf[r0:r0 + n, :mb], masks[r0:r0 + n, :mb], 11, 3, 5,
                     0.7)
    assert np.array_equal(buf[r0:r0 + n, :mb], want_A)
    assert np.array_equal(masks[r0:r0 + n, :mb], want_D)
    # Nothing outside the block is touched.
    outside = np.ones(buf.shape, bool)
    outside[r0:r0 + n, :mb] = False
    assert np.array_equal(buf[outside], before[outside])
    assert np.all(masks[outside] == -1.0)
