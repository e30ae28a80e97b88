"""fastdnn's numba settings: fastmath never assumes finite values, the
cache switch and its fallback for a read-only package, and
:func:`fastdnn.warmup`, which compiles every kernel for both dtypes and
every variant of the training loops."""
import os
import subprocess
import sys

import numba
import numpy as np

import fastdnn
from fastdnn import _kernels as K
from fastdnn import _numba_config, jit
from fastdnn._kernel_dispatch import compiled_signatures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(code, **env):
    full = dict(os.environ, PYTHONPATH=ROOT + os.pathsep
                + os.environ.get("PYTHONPATH", ""), **env)
    for k, v in env.items():
        if v is None:
            full.pop(k)
    return subprocess.run([sys.executable, "-c", code], env=full, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_fastmath_keeps_nan_and_inf_semantics():
    for flags in (_numba_config.FASTMATH_SUM,
                  _numba_config.FASTMATH_ELEMENTWISE):
        assert not set(flags) & {"nnan", "ninf", "fast"}, flags
    assert _numba_config.JIT_KW["cache"] == _numba_config.CACHE


def test_cache_switch_and_read_only_fallback():
    code = ("import os, fastdnn._numba_config as c; "
            "print(c.CACHE, os.environ.get('NUMBA_CACHE_DIR'))")
    r = _python(code, FASTDNN_NUMBA_CACHE="0", NUMBA_CACHE_DIR=None)
    assert r.stdout.split()[0] == "False", r.stderr
    r = _python(code, FASTDNN_NUMBA_CACHE=None, NUMBA_CACHE_DIR="/x/y")
    assert r.stdout.split() == ["True", "/x/y"], r.stderr
    # A read-only package directory: os.access says no, so a user cache
    # directory is chosen (simulated; root can write anywhere).
    code = ("import os; real = os.access; os.access = lambda p, m: False; "
            "import fastdnn._numba_config as c; os.access = real; "
            "print(c.CACHE, os.environ.get('NUMBA_CACHE_DIR'))")
    r = _python(code, NUMBA_CACHE_DIR=None, XDG_CACHE_HOME="/tmp/xdg")
    assert r.stdout.split() == ["True", "/tmp/xdg/fastdnn/numba"], r.stderr


def test_warmup_compiles_every_kernel_for_both_dtypes():
    fastdnn.warmup()
    kernels = [f for f in vars(K).values()
               if isinstance(f, numba.core.registry.CPUDispatcher)
               and not f.__name__.startswith("_")]
    assert len(kernels) >= 10
    for f in kernels:
        dtypes = {str(t.dtype) for sig in compiled_signatures(f) for t in sig
                  if isinstance(t, numba.types.Array)}
        assert {"float32", "float64"} <= dtypes, f.__name__
    # Every variant of the training loops: the fits of networks of every
    # kind compile no loop afterwards.
    from fastdnn import _primal_kernels, _toolbox_kernels
    loops = (_primal_kernels.train, _toolbox_kernels.train_steps)
    before = [len(f.signatures) for f in loops]
    rng = np.random.RandomState(0)
    for dims, m, batch in (((2, 3, 1), 5, None), ((64, 64, 64, 32), 96, 32),
                           ((64, 64, 64, 32), 104, 32),
                           ((512, 8, 1), 64, None), ((64, 64, 8), 512, 128),
                           ((2048, 2, 1), 3, None)):
        for dtype in (np.float32, np.float64):
            X = rng.rand(dims[0], m)
            if dims[-1] == 1:
                Y, output = (rng.rand(1, m) > 0.5).astype(float), "sigmoid"
            else:
                Y = np.eye(dims[-1])[:, rng.randint(0, dims[-1], m)]
                output = "softmax"
            kw = dict(dtype=dtype, solver="primal", output=output)
            for optimizer in ("gd", "adam"):
                jit.L_layer_model(X, Y, list(dims), 0.01, 1,
                                  optimizer=optimizer, mini_batch_size=batch,
                                  **kw)
            jit.L_layer_model(X, Y, list(dims), 0.01, 1, **kw)
    assert [len(f.signatures) for f in loops] == before
