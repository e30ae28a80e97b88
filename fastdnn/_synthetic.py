"""A small, deterministic, image-like stand-in for the cat / non-cat data.

``fastdnn train --synthetic`` trains on it, so the tool can be tried without
the dataset files. The "cats" are cartoon heads, a warm-coloured disc with
two pointed ears and two dark eyes; the "non-cats" are rectangles, stripes
and plain discs in other colours; both on a noisy gradient background, at
random places and sizes. It has the layout of :func:`fastdnn.load_data`.
"""
import numpy as np

#: Side of the square images, in pixels.
NUM_PX = 16
N_TRAIN = 209
N_TEST = 50
CLASSES = np.array([b"non-cat", b"cat"])


def _grid(n):
    yy, xx = np.mgrid[0:n, 0:n]
    return (yy + 0.5) / n, (xx + 0.5) / n


def _background(rng, n):
    yy, xx = _grid(n)
    a, b = rng.uniform(0.15, 0.85, size=(2, 3))
    t = (yy if rng.rand() < 0.5 else xx)[..., None]
    img = a * (1 - t) + b * t
    return img + rng.normal(0, 0.04, size=(n, n, 3))


def _paint(img, mask, colour):
    img[mask] = colour


def _cat(rng, n):
    img = _background(rng, n)
    yy, xx = _grid(n)
    r = rng.uniform(0.2, 0.3)
    cy = rng.uniform(r + 0.18, 1 - r - 0.02)
    cx = rng.uniform(r + 0.02, 1 - r - 0.02)
    fur = np.array([rng.uniform(0.75, 1.0), rng.uniform(0.35, 0.65),
                    rng.uniform(0.0, 0.25)])
    if rng.rand() < 0.3:  # a grey cat
        fur = np.full(3, rng.uniform(0.45, 0.7))
    for side in (-1, 1):  # ears: triangles above the head
        ex = cx + side * 0.6 * r
        base = cy - 0.55 * r
        h = 0.9 * r
        inside = ((yy <= base) & (yy >= base - h)
                  & (np.abs(xx - ex) <= 0.45 * r * (yy - (base - h)) / h))
        _paint(img, inside, fur)
    _paint(img, (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r, fur)
    for side in (-1, 1):  # eyes
        eye = ((yy - (cy - 0.15 * r)) ** 2 + (xx - (cx + side * 0.4 * r)) ** 2
               <= (0.16 * r + 0.5 / n) ** 2)
        _paint(img, eye, np.array([0.05, 0.1, 0.05]))
    return img


def _non_cat(rng, n):
    img = _background(rng, n)
    yy, xx = _grid(n)
    colour = np.array([rng.uniform(0.0, 0.4), rng.uniform(0.3, 0.9),
                       rng.uniform(0.5, 1.0)])
    kind = rng.randint(3)
    if kind == 0:  # a rectangle
        y0, x0 = rng.uniform(0.05, 0.55, size=2)
        h, w = rng.uniform(0.25, 0.45, size=2)
        mask = (yy >= y0) & (yy <= y0 + h) & (xx >= x0) & (xx <= x0 + w)
    elif kind == 1:  # stripes
        period = rng.uniform(0.15, 0.3)
        u = xx if rng.rand() < 0.5 else yy
        mask = ((u + rng.rand() * period) % period) < period / 2
    else:  # a plain disc, no ears
        r = rng.uniform(0.15, 0.3)
        cy, cx = rng.uniform(r, 1 - r, size=2)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    _paint(img, mask, colour)
    return img


def _images(rng, m, n):
    y = (rng.rand(m) < 0.6).astype(np.int64)  # ~60% cats, like the data
    x = np.empty((m, n, n, 3), dtype=np.uint8)
    for i in range(m):
        img = _cat(rng, n) if y[i] else _non_cat(rng, n)
        x[i] = np.round(np.clip(img, 0, 1) * 255)
    return x, y.reshape(1, m)


def load_synthetic(seed=0, num_px=NUM_PX, n_train=N_TRAIN, n_test=N_TEST):
    """Generate the synthetic dataset, in :func:`fastdnn.load_data`'s layout.

    Returns
    -------
    train_x_orig : uint8 ndarray of shape (n_train, num_px, num_px, 3)
    train_y : int ndarray of shape (1, n_train)
    test_x_orig : uint8 ndarray of shape (n_test, num_px, num_px, 3)
    test_y : int ndarray of shape (1, n_test)
    classes : ndarray of bytes, ``[b'non-cat', b'cat']``
    """
    rng = np.random.RandomState(seed)
    train_x, train_y = _images(rng, n_train, num_px)
    test_x, test_y = _images(rng, n_test, num_px)
    return train_x, train_y, test_x, test_y, CLASSES.copy()
