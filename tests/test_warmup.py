"""``fastdnn.warmup``'s dtype and the ``fastdnn warmup`` command.

What the warm-up compiles is checked in ``test_numba_settings`` (every
kernel and loop variant for both dtypes, after which fits compile no
loop). Here: the dtype asked for is the one every module's warm-up gets,
a bad one is refused before anything compiles, and the command prints what
it did and exits as the others do. The modules' warm-ups are replaced by
recorders: with an empty cache the real ones take minutes.
"""
import numpy as np
import pytest

import fastdnn
from fastdnn import _kernels, _primal_kernels, _toolbox
from cli_helpers import one_error_line, run_main

#: The modules whose warm-ups ``fastdnn.warmup`` runs, in its order.
MODULES = (_kernels, _primal_kernels, _toolbox)


@pytest.fixture
def calls(monkeypatch):
    """``[(module name, (dtype, ...))]``: each module warm-up's call."""
    seen = []
    for module in MODULES:
        def record(dtypes, name=module.__name__):
            seen.append((name, tuple(np.dtype(d) for d in dtypes)))
        monkeypatch.setattr(module, "warmup", record)
    return seen


def _expected(*dtypes):
    return [(module.__name__, tuple(np.dtype(d) for d in dtypes))
            for module in MODULES]


@pytest.mark.parametrize("dtype, want", [
    (None, ("float32", "float64")), ("float32", ("float32",)),
    ("float64", ("float64",)), (np.float32, ("float32",)),
    (np.dtype("float64"), ("float64",))])
def test_every_module_warms_up_the_dtypes_asked_for(calls, dtype, want):
    fastdnn.warmup(dtype)
    assert calls == _expected(*want)


def test_no_argument_is_both_dtypes(calls):
    fastdnn.warmup()
    assert calls == _expected("float32", "float64")


@pytest.mark.parametrize("dtype, error", [
    ("float16", ValueError), ("int64", ValueError), (np.int32, ValueError),
    (object(), TypeError), ([1], TypeError)])
def test_a_bad_dtype_is_refused_before_anything_compiles(calls, dtype,
                                                         error):
    with pytest.raises(error, match=r"^dtype must be 'float32' or "
                                    r"'float64', got "):
        fastdnn.warmup(dtype)
    assert calls == []


@pytest.mark.parametrize("args, dtypes, named", [
    ((), ("float32", "float64"), "float32 and float64"),
    (("--dtype", "float32"), ("float32",), "float32"),
    (("--dtype", "float64"), ("float64",), "float64")])
def test_the_command_says_what_it_warmed_up(calls, capsys, args, dtypes,
                                            named):
    r = run_main(capsys, "warmup", *args)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("every kernel compiled or loaded for %s in "
                               % named)
    assert lines[0].endswith(" s")
    assert r.stderr == ""
    assert calls == _expected(*dtypes)


def test_the_command_refuses_a_bad_dtype_with_one_line(calls, capsys):
    line = one_error_line(run_main(capsys, "warmup", "--dtype", "float16"),
                          2)
    assert "--dtype" in line and "float16" in line
    assert calls == []


def test_the_command_says_when_the_cache_is_off(calls, capsys, monkeypatch):
    from fastdnn import _numba_config
    monkeypatch.setattr(_numba_config, "CACHE", False)
    r = run_main(capsys, "warmup")
    assert r.returncode == 0
    assert "cache is off" in r.stdout.splitlines()[-1]
