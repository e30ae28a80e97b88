"""Small 2-D datasets of the deep-learning course's notebooks.

Reproducible generators that need numpy only (scikit-learn is not needed;
the circles and moons are its ``make_circles`` and ``make_moons``, number
for number):

- :func:`planar`: the "flower" of Course 1 Week 3;
- :func:`circles`: two concentric circles (Course 2 Week 1,
  "Initialization");
- :func:`moons`: two interleaving half circles (Course 2 Week 2,
  "Optimization methods").

Each draws from a ``np.random.RandomState`` of its own seed and returns the
course's layout by default: ``X`` of shape ``(n_x, m) = (2, m)`` and ``Y``
of shape ``(1, m)``; ``layout="sklearn"`` gives ``(m, 2)`` and ``(m,)``.

:func:`load` takes any of these by name, the cat images (``"cat"``),
scikit-learn's 8x8 digits (``"digits"``) or a user's ``.npz``, ``.h5`` or
``.csv`` file, and returns a :data:`Dataset` with class names;
:func:`open_h5` opens an HDF5 file too large to load, to read a few
examples at a time (:func:`fastdnn.streaming.train_streamed`).

The course's own loaders, :func:`load_planar_dataset`,
:func:`load_circles_dataset` and :func:`load_moons_dataset`, seed numpy's
GLOBAL generator as the notebooks do, so they return the notebooks' numbers
and leave the generator in the notebooks' state.
"""
from .h5_stream import H5Examples, open_h5
from .named import NAMES, Dataset, encode_labels, load
from .planar import load_planar_dataset, planar
from .shapes import circles, load_circles_dataset, load_moons_dataset, moons

__all__ = ["load", "Dataset", "NAMES", "encode_labels", "open_h5",
           "H5Examples", "planar", "circles", "moons", "load_planar_dataset",
           "load_circles_dataset", "load_moons_dataset"]
