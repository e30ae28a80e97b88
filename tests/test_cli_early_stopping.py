"""``fastdnn train --early-stopping``: the held-out split, the toolbox's
training on the rest, scikit-learn's stopping rule, the best pass kept, the
validation score on the progress bar of a terminal."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastdnn
from fastdnn import cli_early_stopping, datasets
from fastdnn.cli import build_parser
from fastdnn.cli_args import UsageError
from fastdnn.cli_train import _Progress

ARGS = ["train", "--dataset", "moons", "--layers", "8", "--optimizer",
        "adam", "--learning-rate", "0.01", "--batch-size", "32",
        "--early-stopping", "--validation-fraction", "0.2"]


def test_split_is_seeded_sorted_and_disjoint():
    train, val = cli_early_stopping.split(50, 0.2, seed=3)
    assert len(val) == 10 and len(train) == 40
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert sorted(np.concatenate([train, val])) == list(range(50))
    np.testing.assert_array_equal(cli_early_stopping.split(50, 0.2, 3)[1],
                                  val)
    assert not np.array_equal(cli_early_stopping.split(50, 0.2, 4)[1], val)
    with pytest.raises(UsageError, match="leaves no training set"):
        cli_early_stopping.split(3, 0.9, 0)


def _train(argv, capsys):
    args = build_parser().parse_args(argv)
    d = datasets.load("moons")
    X = d.X.astype(args.dtype)
    dims = [2, 8, 1]
    network = {"activation": "relu", "output": "sigmoid"}
    toolbox = dict(optimizer="adam", beta1=0.9, beta2=0.999, epsilon=1e-8,
                   mini_batch_size=32)
    progress = _Progress(args.iterations)
    try:
        out = cli_early_stopping.train(
            args, fastdnn.get_backend(args.backend), X, d.y, dims, network,
            toolbox, progress)
    finally:
        progress.close()
    return args, d, out, capsys.readouterr().out


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_passes_are_the_toolbox_training_of_the_kept_examples(capsys,
                                                              backend):
    # Never stopping (n_iter_no_change above the passes): the costs are
    # L_layer_model's on the examples not held out.
    argv = ARGS + ["--iterations", "201", "--n-iter-no-change", "1000",
                   "--backend", backend]
    args, d, (params, costs, best), out = _train(argv, capsys)
    train, val = cli_early_stopping.split(300, 0.2, 1)
    _, expected = fastdnn.get_backend(backend).L_layer_model(
        d.X[:, train], d.y[:, train], [2, 8, 1], learning_rate=0.01,
        num_iterations=201, optimizer="adam", mini_batch_size=32)
    assert len(costs) == 3
    np.testing.assert_allclose(np.array(costs, float),
                               np.array(expected, float), rtol=1e-12)
    assert "stopped" not in out
    # The parameters kept score the best validation accuracy seen.
    AL, _ = fastdnn.L_model_forward(d.X[:, val], params)
    assert np.mean((AL > 0.5) == d.y[:, val]) == best["accuracy"]


def test_stops_after_n_iter_no_change_passes_without_improvement(capsys):
    argv = ARGS + ["--iterations", "500", "--n-iter-no-change", "3",
                   "--tol", "0.5"]  # no pass improves by 0.5: stop at once
    _, _, (_, costs, best), out = _train(argv, capsys)
    assert "did not improve more than tol=0.5 for 3 consecutive passes: " \
           "stopped after pass 4" in out  # pass 0 sets the best
    assert len(costs) == 1 and 0 < best["accuracy"] <= 1


def test_the_command_saves_the_validation_score(tmp_path):
    model = tmp_path / "m.npz"
    r = subprocess.run([sys.executable, "-m", "fastdnn", *ARGS,
                        "--iterations", "400", "--out", str(model)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stdout.splitlines()
            if ln.startswith("Validation accuracy:")]
    assert len(line) == 1
    _, meta = fastdnn.load_model(model)
    assert meta["validation_accuracy"] == float(line[0].split(": ")[1])


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal")
def test_the_terminal_bar_shows_the_validation_score():
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    # A terminal 100 columns wide (a new pty has none: an empty bar).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastdnn", *ARGS, "--iterations", "30",
         "--n-iter-no-change", "100"], stdin=subprocess.DEVNULL,
        stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=600) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "30/30" in text and "accuracy=" in text and "cost=" in text
    assert "Cost after iteration 29:" in text
