"""fastdnn.datasets: the course's flower, circles and moons.

The flower is checked against published values of the course's
``load_planar_dataset()``; circles and moons against scikit-learn (when it
is installed), byte for byte, including the course's global seeding.
"""
import itertools
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from fastdnn import datasets
from fastdnn.datasets import (circles, load_circles_dataset,
                              load_moons_dataset, load_planar_dataset, moons,
                              planar)

# Rows (x1, x2, label) of the course's load_planar_dataset() as published
# in full (repr precision, so exact) in the public file
# titainic/hadoop com-dl4j/src/main/resources/point1.csv: the first two
# rows, the last of class 0, the first of class 1 and the last.
PUBLISHED_PLANAR = {
    0: (1.204442292254319, 3.5761141481288448, 0),
    1: (0.15870990398255372, -1.4821709003683443, 0),
    199: (-0.5858464101358456, -3.091259938950624, 0),
    200: (-1.0704958072229525, 3.682524609580073, 1),
    399: (0.7307808250007513, 3.0683292081876545, 1),
}


def _course_flower_state():
    """The global generator's state after the course's loader: seed 1,
    then four draws of randn(200)."""
    np.random.seed(1)
    for _ in range(4):
        np.random.randn(200)
    return np.random.get_state()


def _same_state(a, b):
    return (a[0] == b[0] and np.array_equal(a[1], b[1])
            and a[2:] == b[2:])


def _identical(a, b):
    """Same dtype, shape and bytes."""
    return (a.dtype == b.dtype and a.shape == b.shape
            and a.tobytes() == b.tobytes())


# --- the flower -------------------------------------------------------------

def test_planar_matches_the_published_course_values():
    X, Y = planar()
    assert X.shape == (2, 400) and X.dtype == np.float64
    assert Y.shape == (1, 400) and Y.dtype == np.uint8
    for i, (x1, x2, label) in PUBLISHED_PLANAR.items():
        assert (X[0, i], X[1, i], Y[0, i]) == (x1, x2, label), i


def test_load_planar_dataset_is_the_course_loader():
    np.random.seed(12345)
    X, Y = load_planar_dataset()
    for i, (x1, x2, label) in PUBLISHED_PLANAR.items():
        assert (X[0, i], X[1, i], Y[0, i]) == (x1, x2, label), i
    # It draws from the global generator as the course does, so the
    # notebook's later unseeded draws are reproduced too.
    after = np.random.get_state()
    assert _same_state(after, _course_flower_state())
    Xp, Yp = planar()
    assert _identical(X, Xp) and _identical(Y, Yp)


def test_planar_leaves_the_global_generator_alone():
    np.random.seed(7)
    before = np.random.get_state()
    planar()
    planar(m=10, seed=3, layout="sklearn")
    assert _same_state(np.random.get_state(), before)


def test_planar_labels_and_sizes():
    X, Y = planar(m=10, seed=5)
    assert X.shape == (2, 10) and Y.tolist() == [[0] * 5 + [1] * 5]
    assert X.flags.c_contiguous and Y.flags.c_contiguous
    Xs, ys = planar(m=10, seed=5, layout="sklearn")
    assert Xs.shape == (10, 2) and ys.shape == (10,)
    assert np.array_equal(Xs.T, X) and np.array_equal(ys, Y[0])
    assert not np.array_equal(planar(seed=2)[0], planar()[0])


def test_planar_seed_none_and_randomstate_draw_from_them():
    np.random.seed(4)
    a = planar(m=20, seed=None)
    b = planar(m=20, seed=np.random.RandomState(4))
    c = planar(m=20, seed=4)
    assert _identical(a[0], b[0]) and _identical(a[0], c[0])


@pytest.mark.parametrize("m, exc, words", [
    (401, ValueError, "m must be even"),
    (0, ValueError, "m must be >= 2"),
    (-4, ValueError, "m must be >= 2"),
    (2.0, TypeError, "m must be an integer"),
    (True, TypeError, "m must be an integer"),
    ("400", TypeError, "m must be an integer"),
])
def test_planar_refuses_bad_m(m, exc, words):
    with pytest.raises(exc, match=words):
        planar(m=m)


# --- circles and moons against scikit-learn ---------------------------------

SIZES = [2, 3, 7, 100, 301]
SEEDS = [0, 1, 42, 2**32 - 1]
NOISES = [None, 0.0, 0.05, 0.3]


def _sklearn():
    return pytest.importorskip("sklearn.datasets")


@pytest.mark.parametrize("n, seed", list(itertools.product(SIZES, SEEDS)))
@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("shuffle", [True, False])
def test_circles_and_moons_equal_sklearn(n, seed, noise, shuffle):
    skd = _sklearn()
    for ours, theirs, extra in [
            (circles, skd.make_circles, {}),
            (circles, skd.make_circles, {"factor": 0.3}),
            (moons, skd.make_moons, {})]:
        X, y = ours(n, noise, seed, shuffle=shuffle, layout="sklearn",
                    **extra)
        Xs, ys = theirs(n, noise=noise, random_state=seed, shuffle=shuffle,
                        **extra)
        assert _identical(X, Xs), (ours.__name__, extra)
        assert _identical(y, ys), (ours.__name__, extra)


@pytest.mark.parametrize("name", ["circles", "moons"])
def test_generators_draw_as_sklearn_does(name):
    """seed=None draws from the global generator and a RandomState is
    advanced, both exactly as scikit-learn's random_state."""
    skd = _sklearn()
    ours = getattr(datasets, name)
    theirs = getattr(skd, "make_" + name)
    np.random.seed(11)
    X, y = ours(51, 0.1, None, layout="sklearn")
    state = np.random.get_state()
    np.random.seed(11)
    Xs, ys = theirs(51, noise=0.1, random_state=None)
    assert _identical(X, Xs) and _identical(y, ys)
    assert _same_state(np.random.get_state(), state)
    rs, rs_sk = np.random.RandomState(8), np.random.RandomState(8)
    for _ in range(2):  # the second call sees the advanced generator
        X, y = ours(20, 0.1, rs, layout="sklearn")
        Xs, ys = theirs(20, noise=0.1, random_state=rs_sk)
        assert _identical(X, Xs) and _identical(y, ys)


@pytest.mark.parametrize("make", [circles, moons])
def test_course_layout_and_defaults(make):
    np.random.seed(7)
    before = np.random.get_state()
    X, Y = make()
    Xs, ys = make(layout="sklearn")
    assert _same_state(np.random.get_state(), before)
    assert X.shape == (2, 300) and X.dtype == np.float64
    assert Y.shape == (1, 300) and Y.dtype == np.intp
    assert X.flags.c_contiguous and Y.flags.c_contiguous
    assert np.array_equal(X, Xs.T) and np.array_equal(Y[0], ys)
    assert np.count_nonzero(Y) == 150
    assert _identical(make(seed=0)[0], X)
    assert not np.array_equal(make(seed=1)[0], X)


def test_circles_without_noise_lie_on_the_circles():
    X, y = circles(9, None, shuffle=False, factor=0.5, layout="sklearn")
    radius = np.hypot(X[:, 0], X[:, 1])
    assert y.tolist() == [0] * 4 + [1] * 5
    np.testing.assert_allclose(radius, [1] * 4 + [0.5] * 5)


# --- the course's loaders ----------------------------------------------------

def test_load_circles_dataset_is_the_course_loader():
    skd = _sklearn()
    np.random.seed(99)
    got = load_circles_dataset()
    state = np.random.get_state()
    # init_utils.load_dataset, minus its plot.
    np.random.seed(1)
    train_X, train_Y = skd.make_circles(n_samples=300, noise=.05)
    np.random.seed(2)
    test_X, test_Y = skd.make_circles(n_samples=100, noise=.05)
    want = (train_X.T, train_Y.reshape((1, train_Y.shape[0])),
            test_X.T, test_Y.reshape((1, test_Y.shape[0])))
    assert [g.shape for g in got] == [(2, 300), (1, 300), (2, 100), (1, 100)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)
    assert _same_state(np.random.get_state(), state)


def test_load_moons_dataset_is_the_course_loader():
    skd = _sklearn()
    np.random.seed(99)
    got = load_moons_dataset()
    state = np.random.get_state()
    # opt_utils.load_dataset, minus its plot.
    np.random.seed(3)
    train_X, train_Y = skd.make_moons(n_samples=300, noise=.2)
    want = (train_X.T, train_Y.reshape((1, train_Y.shape[0])))
    assert [g.shape for g in got] == [(2, 300), (1, 300)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)
    assert _same_state(np.random.get_state(), state)


def test_course_loaders_reseed_the_global_generator():
    """Whatever the global state before, the loaders give the same data."""
    np.random.seed(0)
    a = load_circles_dataset() + load_moons_dataset()
    np.random.seed(5)
    np.random.rand(3)
    b = load_circles_dataset() + load_moons_dataset()
    assert all(_identical(x, y) for x, y in zip(a, b))


# --- argument checks ---------------------------------------------------------

BAD = [
    ({"n_samples": 1}, ValueError, "n_samples must be >= 2"),
    ({"n_samples": -3}, ValueError, "n_samples must be >= 2"),
    ({"n_samples": 2.5}, TypeError, "n_samples must be an integer"),
    ({"n_samples": True}, TypeError, "n_samples must be an integer"),
    ({"noise": -0.1}, ValueError, "noise must be a finite number >= 0"),
    ({"noise": float("nan")}, ValueError, "noise must be a finite number"),
    ({"noise": float("inf")}, ValueError, "noise must be a finite number"),
    ({"noise": Fraction(10**400)}, ValueError, "noise must be a finite"),
    ({"noise": "0.1"}, TypeError, "noise must be a real number"),
    ({"noise": True}, TypeError, "noise must be a real number"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"seed": 2**32}, ValueError, "seed must be <= 4294967295"),
    ({"seed": 1.5}, TypeError, "seed must be an integer"),
    ({"seed": np.random.default_rng(0)}, TypeError, "np.random.Generator"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
    ({"layout": "rows"}, ValueError, "layout must be 'course'"),
    ({"layout": None}, ValueError, "layout must be 'course'"),
]


@pytest.mark.parametrize("make", [circles, moons])
@pytest.mark.parametrize("kwargs, exc, words", BAD)
def test_bad_arguments_are_named(make, kwargs, exc, words):
    np.random.seed(7)
    before = np.random.get_state()
    with pytest.raises(exc, match=words):
        make(**{"seed": None, **kwargs})
    # Refused before anything was drawn.
    assert _same_state(np.random.get_state(), before)


@pytest.mark.parametrize("factor", [1, 1.5, -0.1, float("nan")])
def test_circles_refuses_bad_factor(factor):
    with pytest.raises(ValueError, match=r"factor must be a finite number "
                                         r"in \[0, 1\)"):
        circles(factor=factor)


def test_planar_refuses_bad_seed_and_layout():
    with pytest.raises(ValueError, match="seed must be >= 0"):
        planar(seed=-1)
    with pytest.raises(ValueError, match="layout must be"):
        planar(layout="Course")


def test_no_scikit_learn_needed():
    """The generators run with scikit-learn unimportable."""
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "from fastdnn import datasets as d\n"
            "d.planar(); d.circles(); d.moons(); d.load_planar_dataset()\n"
            "d.load_circles_dataset(); d.load_moons_dataset()\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_all_is_complete():
    public = {n for n in dir(datasets) if not n.startswith("_")
              and callable(getattr(datasets, n))}
    # Every public function and class, plus the tuple of dataset names.
    assert set(datasets.__all__) == public | {"NAMES"}
