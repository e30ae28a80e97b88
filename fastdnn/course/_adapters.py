"""Pieces shared by the notebook namespaces of :mod:`fastdnn.course`.

Each notebook module builds its namespace with ``_namespace(B)`` from a
backend module ``B`` (:mod:`fastdnn.reference` or :mod:`fastdnn.jit`): most
names are ``B``'s own functions, handed out unchanged; the functions below
adapt the few whose signature or random draws differ from the course's.
"""
import contextlib

import numpy as np


@contextlib.contextmanager
def course_seed(seed):
    """Seed numpy's global generator as the course does, and draw from it.

    The course's functions call ``np.random.seed(seed)`` and then draw from
    numpy's global generator, so that after them the global state is
    ``seed`` advanced by their draws; code that draws next (a notebook cell
    that calls ``np.random.randn``) depends on that. fastdnn's functions
    take their generator as an argument and leave the global one alone.
    This context manager gives them a ``RandomState`` that continues the
    global stream from ``np.random.seed(seed)``, and on exit (also after an
    error) leaves the global state where the course's function would have
    left it.

    Yields
    ------
    rng : numpy.random.RandomState
    """
    np.random.seed(seed)
    with global_stream() as rng:
        yield rng


@contextlib.contextmanager
def global_stream():
    """Draw from numpy's global generator where it stands, without seeding.

    For the course's functions that draw without seeding first (the
    planar notebook's ``initialize_parameters``, whose cell seeds before
    calling it): the yielded ``RandomState`` continues the global stream,
    and on exit (also after an error) the global state is left advanced by
    the draws, as the course's function leaves it.

    Yields
    ------
    rng : numpy.random.RandomState
    """
    rng = np.random.RandomState()
    rng.set_state(np.random.get_state())
    try:
        yield rng
    finally:
        np.random.set_state(rng.get_state())


def passthrough(B, names):
    """``{name: B.name}``: the backend's functions that already have the
    course's signature, return structure and numbers."""
    return {name: getattr(B, name) for name in names}


def _named(fn, name, module):
    # Adapters are closures over the backend; give them the name a
    # traceback or help() should show.
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__module__ = module
    return fn


def initialize_parameters(B, module):
    """The course's ``initialize_parameters(n_x, n_h, n_y)``: seed 1 and
    ``randn * 0.01`` (both notebooks)."""
    def initialize_parameters(n_x, n_h, n_y):
        """Parameters of LINEAR -> RELU -> LINEAR -> SIGMOID.

        As the course: ``np.random.seed(1)``, then ``W1 = randn(n_h, n_x) *
        0.01`` and ``W2 = randn(n_y, n_h) * 0.01`` from numpy's global
        generator, ``b1`` and ``b2`` zeros. The global random state is left
        where the course leaves it.

        Returns
        -------
        parameters : dict
            ``W1`` (n_h, n_x), ``b1`` (n_h, 1), ``W2`` (n_y, n_h), ``b2``
            (n_y, 1).
        """
        with course_seed(1) as rng:
            return B.initialize_parameters(n_x, n_h, n_y, seed=rng)
    return _named(initialize_parameters, "initialize_parameters", module)


def initialize_parameters_deep(B, module, seed, scale, formula):
    """The course's ``initialize_parameters_deep(layer_dims)``: ``seed``
    and ``scale`` as the notebook has them (``formula`` for the
    docstring)."""
    def initialize_parameters_deep(layer_dims):
        return _draw_deep(B, layer_dims, seed, scale)
    initialize_parameters_deep.__doc__ = (
        """Parameters of an L-layer network, ``layer_dims = [n_0, ...,
        n_L]``.

        As the notebook: ``np.random.seed(%d)``, then for each layer ``Wl =
        %s`` from numpy's global generator and ``bl`` zeros
        (n_l, 1). The global random state is left where the notebook
        leaves it.

        Returns
        -------
        parameters : dict
            ``Wl`` (n_l, n_{l-1}) and ``bl`` (n_l, 1) for l = 1 .. L.
        """ % (seed, formula))
    return _named(initialize_parameters_deep, "initialize_parameters_deep",
                  module)


def _draw_deep(B, layer_dims, seed, scale):
    with course_seed(seed) as rng:
        return B.initialize_parameters_deep(layer_dims, seed=rng,
                                            scale=scale)
