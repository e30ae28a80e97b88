"""Checks shared by the tests of the fastdnn.course notebook namespaces."""
import inspect

import numpy as np

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
