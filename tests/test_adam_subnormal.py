"""Adam's exact shortcuts (:func:`fastdnn._adam_step_kernels.adam_loop`
and :func:`~fastdnn._adam_step_kernels.adam_sklearn_loop`): float32's
for subnormal first moments, and the division by a bias correction left
out once it has rounded to 1, give the formulas bit for bit: inf, signed
zeros, subnormal moments, gradients and parameters, parameters the step
does and does not change, constants that turn the shortcuts off, each
bias correction equal to 1 or not; NaN where the formula gives NaN."""
import numpy as np
import pytest

from fastdnn import _adam_step_kernels as AK
from fastdnn import _toolbox_step_kernels as SK

F32 = np.float32
TINY = float(np.finfo(F32).smallest_subnormal)
SMALLEST_NORMAL = float(np.finfo(F32).tiny)


OPTIMIZERS = {"adam": SK.OPT_ADAM, "adam_sklearn": SK.OPT_ADAM_SKLEARN}


def _formula(P, G, V, S, hp, optimizer):
    # The optimizer's step in numpy float32, operation by operation: the
    # course's Adam, or scikit-learn's (lr_t = hp[11] carries the bias
    # corrections).
    lr, c2, b1, omb1, b2, omb2, c1, cc2, eps = (
        hp[0], hp[1], hp[4], hp[5], hp[6], hp[7], hp[8], hp[9], hp[10])
    with np.errstate(all="ignore"):
        g = G + c2 * P
        v = b1 * V + omb1 * g
        s = b2 * S + omb2 * (g * g)
        if optimizer == "adam":
            new_p = P - lr * (v / c1) / (np.sqrt(s / cc2) + eps)
        else:
            new_p = P + (-hp[11]) * v / (np.sqrt(s) + eps)
    return new_p, v, s


def _kernel(P, G, V, S, hp, optimizer, absorb=None):
    # One step through the kernel (copies), with the absorb thresholds of
    # fill_constants or the one given (for both forms).
    P, V, S = P.copy(), V.copy(), S.copy()
    if absorb is None:
        partial = np.empty(SK.n_chunks(P.size))
        SK.update_params(P, G, V, S, OPTIMIZERS[optimizer], hp, partial,
                         False)
    else:
        SK._update_chunk(P, G, V, S, OPTIMIZERS[optimizer], *hp[:12],
                         F32(absorb), F32(absorb))
    return P, V, S


def _bits(a):
    return a.view(np.int32)


def _assert_same_bits(got, expected):
    # Bit for bit, signed zeros and subnormals included; a NaN where the
    # formula gives one (which of two NaN operands an operation passes on
    # is left open by IEEE 754, and compilers may swap the operands).
    for name, g, e in zip(("P", "V", "S"), got, expected):
        diff = np.flatnonzero((_bits(g) != _bits(e))
                              & ~(np.isnan(g) & np.isnan(e)))
        assert diff.size == 0, "%s differs at %s: %r vs %r" % (
            name, diff[:5], g[diff[:5]], e[diff[:5]])


def _constants(lr=1e-3, lambd_mb=0.0, beta1=0.9, beta2=0.999, eps=1e-8,
               t=900, dtype=F32):
    hp = np.empty(SK.N_CONSTANTS, dtype)
    SK.fill_constants(hp, lr, lambd_mb, 0.9, beta1, beta2, eps, t)
    return hp


def _edge_cases():
    # Every combination of edge values of P, G and V (S a normal second
    # moment or a subnormal / zero one).
    subnormal_v = [TINY, -TINY, 3 * TINY, -5 * TINY, 2 ** -127,
                   -(SMALLEST_NORMAL - TINY), SMALLEST_NORMAL - TINY,
                   0.0, -0.0, 1e-39, -1e-41]
    other_v = [SMALLEST_NORMAL, -SMALLEST_NORMAL, 1e-5, np.inf, np.nan]
    grads = [0.0, -0.0, TINY, -TINY, 1e-7, -1e-3]
    params = [0.05, -0.05, 1.0, -3e-8, 1e-20, 1e-26, -1e-30, 1e-38,
              SMALLEST_NORMAL, TINY, -TINY, 0.0, -0.0, 2.0 ** -20, np.inf,
              -np.inf, np.nan, 3e38]
    seconds = [1e-6, 0.0, TINY]
    grid = np.array(np.meshgrid(params, grads, subnormal_v + other_v,
                                seconds, indexing="ij")).reshape(4, -1)
    return [np.ascontiguousarray(row, dtype=F32) for row in grid]


CONSTANTS = {
    "course": dict(),
    "first step": dict(t=1),
    "large rate": dict(lr=10.0, t=3),
    "huge rate": dict(lr=1e30),
    "tiny epsilon": dict(eps=1e-30, lr=1.0),
    "zero epsilon": dict(eps=0.0),
    "beta1 0": dict(beta1=0.0),
    "beta1 near 1": dict(beta1=0.999, t=2),
    "L2": dict(lambd_mb=0.7 / 32),
    "negative rate": dict(lr=-1e-3),
    "both corrections 1": dict(t=20_000),
    "second correction 1": dict(beta1=0.9999, beta2=0.9, t=400),
}


def _corrections_are_one(hp):
    return bool(hp[8] == 1), bool(hp[9] == 1)


def test_the_constants_take_every_branch_of_the_corrections():
    # Each bias correction 1 or not, in all four combinations (1 -
    # beta1**t rounds to 1 in float32 from t = 165 on): the update's
    # branches, which leave out the division by a first correction of 1,
    # and by both once both are.
    seen = {_corrections_are_one(_constants(**kwargs))
            for kwargs in CONSTANTS.values()}
    assert seen == {(False, False), (True, False), (True, True),
                    (False, True)}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_edge_values_give_the_formulas_bits(name, optimizer):
    hp = _constants(**CONSTANTS[name])
    P, G, V, S = _edge_cases()
    _assert_same_bits(_kernel(P, G, V, S, hp, optimizer),
                      _formula(P, G, V, S, hp, optimizer))


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("seed", range(6))
def test_random_subnormal_moments_give_the_formulas_bits(seed, optimizer):
    # Dead units' first moments at every stage of their decay, beside live
    # ones, and parameters of every size around the threshold.
    rng = np.random.RandomState(seed)
    n = 50_000
    hp = _constants(lr=10.0 ** rng.uniform(-4, 1), t=int(rng.randint(1, 3000)),
                    eps=10.0 ** rng.uniform(-12, -6))
    V = (rng.standard_normal(n) * 10.0 ** rng.uniform(-46, -36, n)).astype(F32)
    live = rng.random_sample(n) < 0.3
    G = np.where(live, rng.standard_normal(n) * 1e-3, 0.0).astype(F32)
    G[rng.random_sample(n) < 0.05] = -0.0
    absorb = hp[12] if optimizer == "adam" else hp[13]
    scale = F32(absorb) * 10.0 ** rng.uniform(-3, 3, n)
    P = (rng.choice([-1.0, 1.0], n) * scale).astype(F32)
    S = (rng.random_sample(n) * 1e-6).astype(F32)
    _assert_same_bits(_kernel(P, G, V, S, hp, optimizer),
                      _formula(P, G, V, S, hp, optimizer))
    # The shortcut is taken: most dead units' steps are absorbed.
    dead = (G == 0) & (np.abs(V) < SMALLEST_NORMAL)
    assert (dead & (np.abs(P) > absorb)).sum() > n // 4


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_the_threshold_is_what_keeps_the_shortcut_exact(optimizer):
    # The same step with absorb = 0 would skip steps that do change a small
    # parameter: the bits differ, so the comparisons above can fail.
    hp = _constants(lr=1.0, eps=1e-30)
    P = np.full(64, 1e-20, F32)
    G = np.zeros(64, F32)
    V = np.full(64, 1e-39, F32)
    S = np.zeros(64, F32)
    expected = _formula(P, G, V, S, hp, optimizer)
    assert not np.array_equal(expected[0], P)
    _assert_same_bits(_kernel(P, G, V, S, hp, optimizer), expected)
    wrong = _kernel(P, G, V, S, hp, optimizer, absorb=0.0)
    assert not np.array_equal(_bits(wrong[0]), _bits(expected[0]))


@pytest.mark.parametrize("kwargs, finite", [
    (dict(lr=1e-3, eps=1e-8, corr1=0.1, beta1=0.9), True),
    (dict(lr=1e-3, eps=0.0, corr1=0.1, beta1=0.9), False),
    (dict(lr=np.nan, eps=1e-8, corr1=0.1, beta1=0.9), False),
    (dict(lr=np.inf, eps=1e-8, corr1=0.1, beta1=0.9), False),
    (dict(lr=1e-3, eps=1e-8, corr1=0.0, beta1=0.9), False),
    (dict(lr=1e-3, eps=1e-8, corr1=0.1, beta1=1.5), False),
    (dict(lr=1e-3, eps=1e-8, corr1=0.1, beta1=-0.1), False),
    (dict(lr=1e30, eps=1e-38, corr1=1e-3, beta1=0.9), False),
])
def test_absorb_threshold(kwargs, finite):
    bound = SK.absorb_threshold(**kwargs)
    assert np.isfinite(bound) == finite
    if finite:
        # Far below a parameter's usual size, far above float32's
        # subnormals.
        assert 2.0 ** -149 < bound < 1e-20


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("t, ones", [(1, (False, False)),
                                     (5000, (True, False)),
                                     (100_000, (True, True))])
def test_float64_takes_the_formula(optimizer, t, ones):
    rng = np.random.RandomState(0)
    n = 1000
    hp = _constants(t=t, dtype=np.float64)
    assert _corrections_are_one(hp) == ones
    P = rng.standard_normal(n)
    G = np.where(rng.random_sample(n) < 0.5, 0.0, rng.standard_normal(n))
    V = rng.standard_normal(n) * 1e-310
    S = rng.random_sample(n)
    for got, expected in zip(_kernel(P, G, V, S, hp, optimizer),
                             _formula(P, G, V, S, hp, optimizer)):
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)


# Float32 Adam runs the formula's loop block by block until a block's first
# moments hold a nonzero subnormal, and the careful loop from there on.
BLOCK = AK.SUBNORMAL_BLOCK


@pytest.mark.parametrize("value, subnormal", [
    (TINY, True), (-TINY, True), (3 * TINY, True), (1e-39, True),
    (SMALLEST_NORMAL - TINY, True), (-(SMALLEST_NORMAL - TINY), True),
    (0.0, False), (-0.0, False), (SMALLEST_NORMAL, False),
    (-SMALLEST_NORMAL, False), (1e-5, False), (np.inf, False),
    (-np.inf, False), (np.nan, False), (3e38, False)])
@pytest.mark.parametrize("where", [0, 6, 16, 2 * BLOCK - 1])
def test_the_scan_finds_nonzero_subnormals(value, subnormal, where):
    V = np.full(2 * BLOCK, 1e-3, F32)
    V[where] = value
    assert AK._any_subnormal(V) == subnormal
    assert not AK._any_subnormal(np.delete(V, where))


def _mixed_blocks(n, rng, first_dirty):
    # Normal moments with every non-subnormal edge value (signed zeros,
    # inf, NaN, the smallest normal) in every block; from block
    # first_dirty on (None: nowhere), dead units' subnormal moments too.
    P = (rng.standard_normal(n) * 0.05).astype(F32)
    G = (rng.standard_normal(n) * 1e-3).astype(F32)
    V = (rng.standard_normal(n) * 1e-3).astype(F32)
    S = (rng.random_sample(n) * 1e-6).astype(F32)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, SMALLEST_NORMAL,
             -SMALLEST_NORMAL]
    spots = rng.random_sample(n) < 0.02
    V[spots] = rng.choice(edges, spots.sum())
    G[rng.random_sample(n) < 0.1] = rng.choice([0.0, -0.0])
    P[rng.random_sample(n) < 0.01] = rng.choice([0.0, -0.0, 1e-30, np.inf])
    if first_dirty is not None:
        dead = rng.random_sample(n) < 0.3
        dead[:first_dirty * BLOCK] = False
        G[dead] = 0.0
        V[dead] = (rng.standard_normal(dead.sum()) * 1e-40).astype(F32)
    return P, G, V, S


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("n, first_dirty", [
    (1, None), (7, 0), (BLOCK - 1, None), (BLOCK, 0), (BLOCK + 1, None),
    (BLOCK + 1, 1), (3 * BLOCK + 100, None), (3 * BLOCK + 100, 2),
    (3 * BLOCK + 100, 3), (5 * BLOCK, 1)])
@pytest.mark.parametrize("name", ["course", "first step",
                                  "both corrections 1", "L2"])
def test_blocks_with_and_without_subnormal_moments_give_the_formulas_bits(
        optimizer, n, first_dirty, name):
    rng = np.random.RandomState(n + 7 * (first_dirty or 0))
    hp = _constants(**CONSTANTS[name])
    P, G, V, S = _mixed_blocks(n, rng, first_dirty)
    _assert_same_bits(_kernel(P, G, V, S, hp, optimizer),
                      _formula(P, G, V, S, hp, optimizer))


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("where", [0, BLOCK - 1, BLOCK, 2 * BLOCK + 99,
                                   2 * BLOCK + 100, 3 * BLOCK - 1,
                                   3 * BLOCK, 3 * BLOCK + 99])
def test_a_subnormal_moment_anywhere_sends_its_block_to_the_careful_loop(
        optimizer, where):
    # With a threshold of 0 (wrong: see above) the careful loop leaves a
    # dead unit's parameter where the formula moves it, which shows the
    # loop an element took. One subnormal moment, at each place the scan
    # covers: the first block's own scan, the scan riding on the previous
    # block, on its first k elements before a shorter last block (k =
    # 100 here) and the last element of each.
    n = 3 * BLOCK + 100
    hp = _constants(lr=1.0, eps=1e-30)
    P = np.full(n, 0.05, F32)
    P[where] = 1e-20
    G = np.full(n, 1e-3, F32)
    G[where] = 0.0
    V = np.full(n, 1e-3, F32)
    V[where] = 1e-39
    S = np.full(n, 1e-6, F32)
    S[where] = 0.0
    got = _kernel(P, G, V, S, hp, optimizer, absorb=0.0)
    expected = _formula(P, G, V, S, hp, optimizer)
    assert expected[0][where] != P[where]
    assert got[0][where] == P[where]
    others = np.arange(n) != where
    _assert_same_bits([a[others] for a in got],
                      [a[others] for a in expected])
