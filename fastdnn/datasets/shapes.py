"""Circles and moons: scikit-learn's ``make_circles`` and ``make_moons``
without scikit-learn, and the course's loaders built on them.

The algorithms and the order of the random draws are scikit-learn's, so
``circles(n, noise=s, seed=k, layout="sklearn")`` returns the arrays of
``make_circles(n, noise=s, random_state=k)`` byte for byte (and likewise
for moons):

1. the points are laid out without randomness: ``n // 2`` on the outer
   shape (label 0) followed by ``n - n // 2`` on the inner one (label 1);
2. if ``shuffle``, the examples are permuted by ``shuffle`` of
   ``arange(n)`` drawn from the generator;
3. if ``noise`` is not None, ``normal(scale=noise, size=(n, 2))`` is drawn
   from the same generator and added.

For an even ``n_samples`` (the course's 300 and 100) the scikit-learn
releases the course ran on give the same numbers too.
"""
import numpy as np

from ._checks import (arrange, check_bool, check_layout, check_n,
                      check_noise, check_real, generator)

__all__ = ["circles", "moons", "load_circles_dataset", "load_moons_dataset"]


def _finish(X, y, shuffle, noise, rng):
    """Steps 2 and 3 above, drawing from ``rng`` in scikit-learn's order."""
    if shuffle:
        order = np.arange(X.shape[0])
        rng.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y


def _labels(n_out, n_in):
    return np.concatenate([np.zeros(n_out, dtype=np.intp),
                           np.ones(n_in, dtype=np.intp)])


def _on_unit_circle(t):
    return np.cos(t), np.sin(t)


def _two_shapes(n, angles, outer, inner, shuffle, noise, rng):
    """Steps 1 to 3 above: ``n // 2`` points ``outer(angles(n // 2))``
    (label 0) then the rest ``inner(angles(rest))`` (label 1), each as a
    pair of coordinate arrays ``(x1, x2)``, then ``_finish``."""
    n_out = n // 2
    n_in = n - n_out
    X = np.empty((n, 2))
    X[:n_out, 0], X[:n_out, 1] = outer(angles(n_out))
    X[n_out:, 0], X[n_out:, 1] = inner(angles(n_in))
    return _finish(X, _labels(n_out, n_in), shuffle, noise, rng)


def _circles(n, noise, factor, shuffle, rng):
    # endpoint=False: the angle 2 pi would repeat the point at angle 0.
    return _two_shapes(
        n, lambda k: np.linspace(0, 2 * np.pi, k, endpoint=False),
        _on_unit_circle, lambda t: (np.cos(t) * factor, np.sin(t) * factor),
        shuffle, noise, rng)


def _moons(n, noise, shuffle, rng):
    # The lower moon is the upper one turned over and moved by (1, 0.5);
    # written as scikit-learn computes it, so the last bits agree.
    return _two_shapes(
        n, lambda k: np.linspace(0, np.pi, k),
        _on_unit_circle, lambda t: (1 - np.cos(t), 1 - np.sin(t) - 0.5),
        shuffle, noise, rng)


def circles(n_samples=300, noise=0.05, seed=0, *, factor=0.8, shuffle=True,
            layout="course"):
    """Two concentric circles, as scikit-learn's ``make_circles``.

    Parameters
    ----------
    n_samples : int, default 300
        Number of examples, >= 2: ``n_samples // 2`` on the outer circle
        (radius 1), the rest on the inner one (radius ``factor``).
    noise : float or None, default 0.05
        Standard deviation of the Gaussian noise added to each coordinate;
        None adds none (and draws nothing).
    seed : int, np.random.RandomState or None, default 0
        An integer in ``[0, 2**32 - 1]`` seeds a new
        ``np.random.RandomState`` (scikit-learn's ``random_state=seed``);
        a ``RandomState`` is drawn from (and advanced); None draws from
        numpy's global generator (scikit-learn's ``random_state=None``).
    factor : float, default 0.8
        Radius of the inner circle, in ``[0, 1)``.
    shuffle : bool, default True
        Permute the examples (else outer circle first).
    layout : {"course", "sklearn"}, default "course"
        ``"course"``: one example per column. ``"sklearn"``: one example
        per row, as ``make_circles`` returns them.

    Returns
    -------
    X : ndarray of float64, shape (2, m) (``(m, 2)`` for "sklearn")
        The coordinates ``(x1, x2)``, ``m = n_samples``.
    Y : ndarray of intp, shape (1, m) (``(m,)`` for "sklearn")
        The labels: 0 on the outer circle, 1 on the inner one.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``n_samples`` not an integer,
        ``noise`` not a number, ``seed`` a ``np.random.Generator``...).
    ValueError
        If ``n_samples`` < 2, ``noise`` < 0 or not finite, ``factor``
        outside ``[0, 1)``, ``seed`` out of range, or ``layout`` unknown.
    """
    n_samples = check_n(n_samples, "n_samples")
    noise = check_noise(noise)
    factor = check_real(factor, "factor", 0, 1)
    shuffle = check_bool(shuffle, "shuffle")
    layout = check_layout(layout)
    X, y = _circles(n_samples, noise, factor, shuffle, generator(seed))
    return arrange(X, y, layout)


def moons(n_samples=300, noise=0.2, seed=0, *, shuffle=True,
          layout="course"):
    """Two interleaving half circles, as scikit-learn's ``make_moons``.

    Parameters
    ----------
    n_samples : int, default 300
        Number of examples, >= 2: ``n_samples // 2`` on the upper moon, the
        rest on the lower one.
    noise : float or None, default 0.2
        Standard deviation of the Gaussian noise added to each coordinate;
        None adds none (and draws nothing).
    seed : int, np.random.RandomState or None, default 0
        An integer in ``[0, 2**32 - 1]`` seeds a new
        ``np.random.RandomState`` (scikit-learn's ``random_state=seed``);
        a ``RandomState`` is drawn from (and advanced); None draws from
        numpy's global generator (scikit-learn's ``random_state=None``).
    shuffle : bool, default True
        Permute the examples (else upper moon first).
    layout : {"course", "sklearn"}, default "course"
        ``"course"``: one example per column. ``"sklearn"``: one example
        per row, as ``make_moons`` returns them.

    Returns
    -------
    X : ndarray of float64, shape (2, m) (``(m, 2)`` for "sklearn")
        The coordinates ``(x1, x2)``, ``m = n_samples``.
    Y : ndarray of intp, shape (1, m) (``(m,)`` for "sklearn")
        The labels: 0 on the upper moon, 1 on the lower one.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``n_samples`` not an integer,
        ``noise`` not a number, ``seed`` a ``np.random.Generator``...).
    ValueError
        If ``n_samples`` < 2, ``noise`` < 0 or not finite, ``seed`` out of
        range, or ``layout`` unknown.
    """
    n_samples = check_n(n_samples, "n_samples")
    noise = check_noise(noise)
    shuffle = check_bool(shuffle, "shuffle")
    layout = check_layout(layout)
    X, y = _moons(n_samples, noise, shuffle, generator(seed))
    return arrange(X, y, layout)


def load_circles_dataset():
    """The course's circles (Course 2 Week 1, "Initialization").

    As the course's ``init_utils.load_dataset``: ``np.random.seed(1)``, 300
    training examples, ``np.random.seed(2)``, 100 test examples, both drawn
    from numpy's GLOBAL generator with ``noise=0.05`` (so its state
    afterwards is the notebook's too). The course also plots the training
    set; this loader does not.

    Returns
    -------
    train_X : ndarray of float64, shape (2, 300)
    train_Y : ndarray of intp, shape (1, 300)
    test_X : ndarray of float64, shape (2, 100)
    test_Y : ndarray of intp, shape (1, 100)
        One example per column; label 0 on the outer circle, 1 on the
        inner one.
    """
    np.random.seed(1)
    train_X, train_Y = circles(300, noise=0.05, seed=None)
    np.random.seed(2)
    test_X, test_Y = circles(100, noise=0.05, seed=None)
    return train_X, train_Y, test_X, test_Y


def load_moons_dataset():
    """The course's moons (Course 2 Week 2, "Optimization methods").

    As the course's ``opt_utils.load_dataset``: ``np.random.seed(3)``, then
    300 examples with ``noise=0.2`` drawn from numpy's GLOBAL generator (so
    its state afterwards is the notebook's too). The course also plots
    them; this loader does not.

    Returns
    -------
    train_X : ndarray of float64, shape (2, 300)
    train_Y : ndarray of intp, shape (1, 300)
        One example per column; label 0 on the upper moon, 1 on the lower.
    """
    np.random.seed(3)
    return moons(300, noise=0.2, seed=None)
