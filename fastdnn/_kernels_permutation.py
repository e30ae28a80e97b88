"""The mini-batch toolbox's pass permutations, compiled (private).

Pass p of a run with seed s visits the columns in the order
``np.random.RandomState(s + p + 1).permutation(m)``
(:func:`fastdnn._toolbox_options.pass_permutation`, the course's
``random_mini_batches``). numpy draws it in about 15 ns a column (99 us for
m = 6,400 here: half a microsecond of every batch-32 step), and a new
RandomState costs ~140 us more. :func:`pass_permutations` computes the same
numbers in a compiled loop:

- the Mersenne Twister MT19937 (Matsumoto and Nishimura, 1998) seeded from
  one 32-bit integer (the generator's own ``init_genrand``, which numpy's
  ``RandomState(seed)`` uses for an integer seed);
- ``permutation(m)``: ``arange(m)`` shuffled by Fisher-Yates from the last
  position down, position i swapped with a draw j uniform on ``[0, i]``;
- that draw by rejection: 32-bit outputs masked to the smallest
  all-ones mask covering i, redrawn while above i (numpy's legacy bounded
  integer, which every ``m < 2**32`` takes).

The tests compare it with numpy's RandomState over many seeds and lengths.
"""
import numpy as np

from . import _numba_config as cfg
from ._kernels_common import _exact_leaf
from ._validation_scalars import SEED_MAX

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)

_N = 624                      # state words
_M = 397                      # the recurrence's middle offset
_U32 = np.uint64(0xFFFFFFFF)
_UPPER = np.uint64(0x80000000)
_LOWER = np.uint64(0x7FFFFFFF)
_MATRIX_A = np.uint64(0x9908B0DF)
_INIT_MULT = np.uint64(1812433253)
_TEMPER_B = np.uint64(0x9D2C5680)
_TEMPER_C = np.uint64(0xEFC60000)
_ONE = np.uint64(1)

_inline = numba.njit(inline="always", **cfg.JIT_KW)


@_exact_leaf
def _seed(state, seed):
    # init_genrand: the 624 words from one 32-bit seed (uint64 words holding
    # 32-bit values; every product fits in 64 bits and is masked).
    x = np.uint64(seed) & _U32
    state[0] = x
    for i in range(1, _N):
        x = (_INIT_MULT * (x ^ (x >> np.uint64(30))) + np.uint64(i)) & _U32
        state[i] = x


@_exact_leaf
def _twist(state):
    # The next 624 words of the recurrence, in place: word k from words k,
    # k + 1 and k + 397 (mod 624), the later ones already renewed.
    for k in range(_N - _M):
        state[k] = _renewed(state[k], state[k + 1], state[k + _M])
    for k in range(_N - _M, _N - 1):
        state[k] = _renewed(state[k], state[k + 1], state[k + _M - _N])
    state[_N - 1] = _renewed(state[_N - 1], state[0], state[_M - 1])


@_inline
def _renewed(word, following, middle):
    y = (word & _UPPER) | (following & _LOWER)
    # The multiply selects MATRIX_A by y's last bit without a branch.
    return middle ^ (y >> _ONE) ^ ((y & _ONE) * _MATRIX_A)


@_inline
def _tempered(x):
    x ^= x >> np.uint64(11)
    x ^= (x << np.uint64(7)) & _TEMPER_B
    x ^= (x << np.uint64(15)) & _TEMPER_C
    x ^= x >> np.uint64(18)
    return x


@_exact_leaf
def _permutation_into(state, drawn, seed, out):
    # out = RandomState(seed).permutation(out.size), int64; state and
    # drawn: 624 words each, the generator's and its tempered outputs.
    m = out.shape[0]
    for i in range(m):
        out[i] = i
    _seed(state, seed)
    pos = _N  # outputs used: the first draw renews them
    # The smallest all-ones mask covering i, followed down as i falls.
    mask = _U32
    for i in range(m - 1, 0, -1):
        bound = np.uint64(i)
        while (mask >> _ONE) >= bound:
            mask >>= _ONE
        while True:
            if pos == _N:
                # 624 outputs at a time, in loops LLVM vectorises.
                _twist(state)
                for k in range(_N):
                    drawn[k] = _tempered(state[k])
                pos = 0
            value = drawn[pos] & mask
            pos += 1
            if value <= bound:
                break
        j = np.int64(value)
        held = out[i]
        out[i] = out[j]
        out[j] = held


@_exact_leaf
def _permutations_into(state, drawn, seeds, out):
    # Row k of out: the permutation of seeds[k]; state and drawn: scratch
    # of 624 words each.
    for k in range(seeds.shape[0]):
        _permutation_into(state, drawn, seeds[k], out[k])


def pass_permutations(seed, p0, n, m):
    """The column orders of passes ``p0 .. p0 + n - 1`` of a run with
    ``seed``, (n, m) int64: row k is
    :func:`fastdnn._toolbox_options.pass_permutation` ``(seed, p0 + k,
    m)``, seeds past :data:`SEED_MAX` wrapping to 0 as there."""
    if m > SEED_MAX:
        raise ValueError("pass_permutations: m must be below 2**32 (the "
                         "bounded draws are 32-bit); got %d" % m)
    first = (int(seed) + int(p0) + 1) % (SEED_MAX + 1)
    seeds = (first + np.arange(n, dtype=np.int64)) % (SEED_MAX + 1)
    out = np.empty((n, m), np.int64)
    _permutations_into(np.empty(_N, np.uint64), np.empty(_N, np.uint64),
                       seeds.astype(np.uint64), out)
    return out
