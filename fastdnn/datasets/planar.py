"""The "flower" of Course 1 Week 3, "Planar data classification with one
hidden layer".

Two classes of 2-D points on the petals of a rose curve
``r = 4 sin(4 t)``: class 0 along the angles ``[0, 3.12]``, class 1 along
``[3.12, 6.24]``, both with Gaussian noise on the angle and on the radius.
Logistic regression cannot separate them (the notebook reports 47%
accuracy); a network with one hidden layer can.
"""
import numpy as np

from ._checks import arrange, check_layout, check_n, generator

__all__ = ["planar", "load_planar_dataset"]

#: The course's number of examples.
M = 400
#: The course's seed, given to ``np.random.seed``.
SEED = 1
#: Maximum radius of the flower ("maximum ray" in the course).
RAY = 4
#: Standard deviation of the noise on the angle and on the radius.
NOISE = 0.2
#: Each class spans this many radians of angle.
SPAN = 3.12


def _draw(m, rng):
    """The flower drawn from ``rng`` (a RandomState or the np.random
    module), in scikit-learn's layout.

    The order of the draws and of the arithmetic is the course's, so the
    numbers are the same bit for bit: for each class, ``randn(N)`` for the
    angles, then ``randn(N)`` for the radii.
    """
    n = m // 2
    X = np.empty((m, 2))
    y = np.empty(m, dtype=np.uint8)
    for j in range(2):
        rows = slice(n * j, n * (j + 1))
        t = np.linspace(j * SPAN, (j + 1) * SPAN, n) + rng.randn(n) * NOISE
        r = RAY * np.sin(4 * t) + rng.randn(n) * NOISE
        X[rows, 0] = r * np.sin(t)
        X[rows, 1] = r * np.cos(t)
        y[rows] = j
    return X, y


def planar(m=M, seed=SEED, *, layout="course"):
    """The course's flower dataset, from a generator of its own.

    With the defaults it returns the numbers of the course's
    ``planar_utils.load_planar_dataset()`` bit for bit, without touching
    numpy's global random generator.

    Parameters
    ----------
    m : int, default 400
        Number of examples, even and >= 2: ``m / 2`` per class, class 0
        first.
    seed : int, np.random.RandomState or None, default 1
        An integer in ``[0, 2**32 - 1]`` seeds a new
        ``np.random.RandomState``; a ``RandomState`` is drawn from (and
        advanced); None draws from numpy's global generator.
    layout : {"course", "sklearn"}, default "course"
        ``"course"``: one example per column. ``"sklearn"``: one example
        per row.

    Returns
    -------
    X : ndarray of float64, shape (2, m) (``(m, 2)`` for "sklearn")
        The coordinates ``(x1, x2)`` of the points.
    Y : ndarray of uint8, shape (1, m) (``(m,)`` for "sklearn")
        The labels, 0 (red in the course's plots) or 1 (blue).

    Raises
    ------
    TypeError
        If ``m`` is not an integer, or ``seed`` not an integer, a
        ``RandomState`` or None.
    ValueError
        If ``m`` is odd or < 2, ``seed`` out of range, or ``layout``
        unknown.

    Examples
    --------
    >>> X, Y = planar()
    >>> X.shape, Y.shape
    ((2, 400), (1, 400))
    """
    m = check_n(m, "m")
    if m % 2:
        # The course's code would leave its last example at (0, 0) with
        # label 0; refuse rather than make that point up.
        raise ValueError("m must be even (m / 2 examples per class), got %d"
                         % m)
    layout = check_layout(layout)
    X, y = _draw(m, generator(seed))
    return arrange(X, y, layout)


def load_planar_dataset():
    """The course's loader: ``np.random.seed(1)``, then the flower.

    Like the course's ``planar_utils.load_planar_dataset``, it seeds numpy's
    GLOBAL random generator with 1 and draws from it, so that both the data
    and the generator's state afterwards are those of the notebook: later
    cells that draw without seeding again get the notebook's numbers too.
    Use :func:`planar` to leave the global generator alone.

    Returns
    -------
    X : ndarray of float64, shape (2, 400)
        The coordinates, one example per column.
    Y : ndarray of uint8, shape (1, 400)
        The labels, 0 for the first 200 examples and 1 for the others.
    """
    np.random.seed(SEED)
    X, y = _draw(M, np.random)
    return arrange(X, y, "course")
