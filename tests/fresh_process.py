"""A new Python process with an empty numba cache of its own, for the tests
that read what a run compiles: there, every kernel is compiled by that run
(nothing comes from this process or from an earlier run's cache)."""
import json
import os
import subprocess
import sys


def run_json_script(script, argument, cache_dir, timeout=600, env=None):
    """Run ``script`` (Python source) as ``python -c script ARG``, ARG the
    JSON of ``argument``, with ``NUMBA_CACHE_DIR=cache_dir`` (give it an
    empty directory) and two numba threads over ``env`` (default
    ``os.environ``); return the JSON object it printed on its last line of
    output. A process that fails shows the end of its stderr."""
    env = dict(os.environ if env is None else env,
               NUMBA_CACHE_DIR=str(cache_dir), NUMBA_NUM_THREADS="2")
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(argument)], env=env,
        capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
