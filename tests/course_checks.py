"""Checks shared by the tests of the fastdnn.course notebook namespaces."""
import inspect

import numpy as np

import fastdnn.course

# The course prints 8 decimals.
PRINTED = dict(rtol=0, atol=5e-9)


def check_parameters(got, want):
    """``got`` is a dict of ndarrays with ``want``'s keys, equal to its
    values to the printed decimals."""
    assert type(got) is dict
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert type(got[key]) is np.ndarray, key
        np.testing.assert_allclose(got[key], value, err_msg=key, **PRINTED)


def check_signatures(ns, signatures):
    """Each ``signatures`` name of the namespace ``ns`` has that signature
    (as ``str(inspect.signature)``), its own ``__name__`` and a docstring."""
    for name, want in signatures.items():
        fn = getattr(ns, name)
        assert str(inspect.signature(fn)) == want, name
        assert fn.__name__ == name and fn.__doc__, name


def check_default_namespace(name, module, notebook):
    """``module`` (the imported ``fastdnn.course.<name>``) is the numba
    namespace of the notebook titled ``notebook``, the one ``load(name)``
    gives; ``load(name, "numpy")`` is built once, with the same names."""
    assert fastdnn.course.load(name) is module
    assert getattr(fastdnn.course, name) is module
    assert module.BACKEND == "numba" and module.NOTEBOOK == notebook
    numpy_ns = fastdnn.course.load(name, "numpy")
    assert numpy_ns is fastdnn.course.load(name, "numpy")
    assert numpy_ns.BACKEND == "numpy" and numpy_ns.__all__ == module.__all__


def check_star_import(name, names):
    """``from fastdnn.course.<name> import *`` gives exactly ``names``;
    returns the namespace it filled."""
    ns = {}
    exec("from fastdnn.course.%s import *" % name, ns)
    assert sorted(n for n in ns if n != "__builtins__") == sorted(names)
    return ns
