import subprocess
import sys

import fastdnn


def _run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "fastdnn", *args],
                          capture_output=True, text=True, timeout=600, **kw)


def test_version_and_help():
    r = _run("--version")
    assert r.returncode == 0 and r.stdout.strip() == "fastdnn " + \
        fastdnn.__version__
    r = _run("--help")
    assert r.returncode == 0 and "train" in r.stdout


def test_train_without_data_says_where_to_look(tmp_path):
    env = {k: v for k, v in __import__("os").environ.items()
           if k != "FASTDNN_DATA"}
    r = _run("train", "--data", str(tmp_path), env=env)
    assert r.returncode == 1
    assert "FASTDNN_DATA" in r.stderr and "Traceback" not in r.stderr
