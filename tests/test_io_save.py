"""save_model on hostile input and interruptions: deep or cyclic metadata
is refused clearly, long file names work, and an interrupted save (an
exception, KeyboardInterrupt, SIGTERM) leaves no temporary file behind."""
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import fastdnn
from fastdnn import io as fio

_TMP = re.compile(r"^\.fastdnn-[a-z0-9_]{8}\.tmp$")


def _params(seed=0, dims=(6, 4, 3, 1)):
    return fastdnn.initialize_parameters_deep(list(dims), seed=seed)


def _nested(levels):
    """A list nested ``levels`` deep: [[...]]."""
    value = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_metadata_at_the_depth_limit_round_trips(tmp_path):
    # the metadata dict is level 1: a value may nest 31 more levels
    path = tmp_path / "m.npz"
    deep = {"a": _nested(30)}
    fastdnn.save_model(path, _params(), x=_nested(31), y=deep)
    meta = fastdnn.load_model(path)[1]
    assert meta["x"] == _nested(31) and meta["y"] == deep
    assert fio.MAX_METADATA_DEPTH == 32


@pytest.mark.parametrize("make", [
    lambda: {"x": _nested(32)},
    lambda: {"x": {"a": _nested(31)}},
    lambda: {"x": [np.zeros([1] * 32)]},
    lambda: {"x": _nested(5000)},
], ids=["list-33", "dict-33", "array-33", "list-5000"])
def test_too_deep_metadata_is_refused(tmp_path, make):
    with pytest.raises(ValueError, match=r"metadata key 'x' is nested more "
                       r"than 32 levels deep \(the limit, MAX_METADATA_"):
        fastdnn.save_model(tmp_path / "m.npz", _params(), **make())
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", ["list", "dict", "mutual"])
def test_cyclic_metadata_is_refused(tmp_path, kind):
    if kind == "list":
        cycle = []
        cycle.append(cycle)
    elif kind == "dict":
        cycle = {}
        cycle["self"] = cycle
    else:
        a, b = [], {}
        a.append(b)
        b["a"] = a
        cycle = a
    with pytest.raises(ValueError, match="metadata key 'loop' is nested "
                       "more than 32 levels.*contains itself"):
        fastdnn.save_model(tmp_path / "m.npz", _params(), ok=[1],
                           loop=cycle)
    assert os.listdir(tmp_path) == []


def test_huge_integer_metadata_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"metadata\['n'\] is an integer of "
                       "more than 4300 digits"):
        fastdnn.save_model(tmp_path / "m.npz", _params(), n=10 ** 4300)
    path = tmp_path / "ok.npz"
    fastdnn.save_model(path, _params(), n=10 ** 4300 - 1, m=-(10 ** 4299))
    meta = fastdnn.load_model(path)[1]
    assert meta["n"] == 10 ** 4300 - 1 and meta["m"] == -(10 ** 4299)


def test_name_at_the_file_system_limit(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    for length in (250, limit):
        path = tmp_path / ("m" * (length - 4) + ".npz")
        fastdnn.save_model(path, _params())  # twice: create, then replace
        fastdnn.save_model(path, _params(seed=1))
        loaded = fastdnn.load_model(path)[0]
        assert loaded["W1"].tobytes() == _params(seed=1)["W1"].tobytes()
    assert sorted(len(n) for n in os.listdir(tmp_path)) == [250, limit]


def test_temporary_name_is_short_and_in_the_same_folder(tmp_path,
                                                        monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.path.basename(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    fastdnn.save_model(tmp_path / ("x" * 200 + ".npz"), _params())
    [(folder, name)] = seen
    assert folder == str(tmp_path) and _TMP.match(name), name


def test_sigterm_handler_is_restored_and_a_program_handler_kept(tmp_path):
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    fastdnn.save_model(tmp_path / "a.npz", _params())
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    calls = []

    def handler(signum, frame):
        calls.append(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        fastdnn.save_model(tmp_path / "b.npz", _params())
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert calls == []


def test_a_folder_is_refused_before_anything_is_written(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="models is a folder; pass a "
                       "file name in it, such as .*model.npz"):
        fastdnn.save_model(folder, _params())
    assert os.listdir(tmp_path) == ["models"] and not os.listdir(folder)


@pytest.mark.parametrize("call", [
    lambda: fastdnn.save_model(None, _params()),
    lambda: fastdnn.load_model(None),
    lambda: fastdnn.load_model(3)], ids=["save-None", "load-None", "load-3"])
def test_a_path_that_is_no_file_name_is_named(call):
    with pytest.raises(TypeError, match=r"path must be a file name \(str "
                       r"or os.PathLike\), got (NoneType|int)"):
        call()


def test_save_from_another_thread(tmp_path):
    errors = []

    def work():
        try:
            fastdnn.save_model(tmp_path / "t.npz", _params())
        except BaseException as exc:  # report it in the main thread
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == []
    assert os.listdir(tmp_path) == ["t.npz"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


# A child process that overwrites an existing model and is sent SIGTERM
# in the middle of the save. In "paused" mode numpy.savez writes the whole
# archive into the temporary file and then waits, so the signal always
# lands mid-save; "replaced" is the same, but the interruption turns into
# another exception on its way out (as when numpy's savez closes a zip file
# with a member half-written); in "real" mode the child saves a 16 MB
# model in a loop and the parent signals it as soon as a temporary file
# exists.
_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import fastdnn

    path, mode = sys.argv[1], sys.argv[2]
    params = {"W1": np.full((2000, 1000), 0.5), "b1": np.zeros((2000, 1)),
              "W2": np.full((1, 2000), 0.25), "b2": np.zeros((1, 1))}
    if mode in ("paused", "replaced"):
        real_savez = np.savez

        def paused_savez(file, *args, **kwds):
            real_savez(file, *args, **kwds)
            file.flush()
            print("written", flush=True)
            try:
                # Short sleeps: Python runs a signal handler between them
                # even when the kernel gives the signal to another thread
                # (numpy's BLAS threads), which does not cut a long sleep
                # short.
                for _ in range(600):
                    time.sleep(0.1)
            except BaseException:
                if mode == "replaced":
                    raise ValueError("cannot close the archive")
                raise

        np.savez = paused_savez
        fastdnn.save_model(path, params, note="new")
    else:
        print("saving", flush=True)
        while True:
            fastdnn.save_model(path, params, note="new")
""")


def _start_child(tmp_path, mode):
    path = tmp_path / "model.npz"
    fastdnn.save_model(path, _params(), note="old")
    old = path.read_bytes()
    env = dict(os.environ, PYTHONPATH=os.path.dirname(
        os.path.dirname(os.path.abspath(fastdnn.__file__))))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), mode],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    return path, old, child


def _temp_files(folder):
    return [n for n in os.listdir(folder) if _TMP.match(n)]


def _terminate(child):
    """SIGTERM ``child``; its stderr."""
    child.send_signal(signal.SIGTERM)
    try:
        return child.communicate(timeout=60)[1]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        # whatever happened, no pipe is left open for a later test to find
        child.stdout.close()
        child.stderr.close()


@pytest.mark.parametrize("mode", ["paused", "replaced"])
def test_sigterm_mid_save_removes_the_temporary_file(tmp_path, mode):
    path, old, child = _start_child(tmp_path, mode)
    try:
        assert child.stdout.readline() == "written\n"
        assert len(_temp_files(tmp_path)) == 1  # the save is under way
    finally:
        err = _terminate(child)
    assert child.returncode == -signal.SIGTERM, err  # still killed by SIGTERM
    assert os.listdir(tmp_path) == ["model.npz"]
    assert path.read_bytes() == old


def test_sigterm_during_a_real_large_save(tmp_path):
    path, old, child = _start_child(tmp_path, "real")
    try:
        assert child.stdout.readline() == "saving\n"
        deadline = time.monotonic() + 60
        while not _temp_files(tmp_path):
            assert time.monotonic() < deadline, "no save started"
            time.sleep(0.001)
    finally:
        err = _terminate(child)
    assert child.returncode == -signal.SIGTERM, err
    assert os.listdir(tmp_path) == ["model.npz"]
    # the target is complete: the old model or a new one, never a mix
    params, meta = fastdnn.load_model(path)
    assert meta["note"] in ("old", "new")
    if meta["note"] == "old":
        assert path.read_bytes() == old
    else:
        assert params["W1"].shape == (2000, 1000)
