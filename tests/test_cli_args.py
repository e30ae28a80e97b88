"""The command's arguments checked before any work, and predict / evaluate
going on past bad images."""
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from fastdnn import cli, cli_data
from cli_helpers import one_error_line as _one_error_line
from cli_helpers import run_main as _main


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a command gets as far as loading the data (run
    with --debug to see this AssertionError rather than its error line)."""
    def loaded(args):
        raise AssertionError("the data was loaded before the check")
    monkeypatch.setattr(cli_data, "load", loaded)


@pytest.mark.parametrize("args,match", [
    (["train", "--out", ""], "argument --out: an empty string"),
    (["train", "--plot", ""], "argument --plot: an empty string"),
    (["train", "--data", ""], "argument --data: an empty string"),
    (["evaluate", "--model", "", "--synthetic"], "argument --model"),
    (["evaluate", "--model", "m.npz", "--data", ""], "argument --data"),
    (["evaluate", "--model", "m.npz", "--mislabeled", ""],
     "argument --mislabeled"),
    (["predict", "--model", "m.npz", ""], "argument IMAGE"),
    (["train", "--seed", str(2**32)], "from 0 to 4294967295"),
    (["train", "--seed", "-1"], "--seed"),
    (["evaluate", "--model", "m.npz", "--max-images", "0"],
     "--max-images"),
])
def test_usage_errors(capsys, no_training, args, match):
    assert match in _one_error_line(_main(capsys, *args), 2)


def test_largest_seed_is_accepted(capsys, tmp_path):
    r = _main(capsys, "train", "--synthetic", "--backend", "numpy",
              "--iterations", "1", "--seed", str(2**32 - 1))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("option", ["--out", "--plot"])
def test_unwritable_outputs_are_found_before_training(capsys, tmp_path,
                                                      no_training, option):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for target, match in [
            (tmp_path / "no" / "m", "does not exist"),
            (tmp_path, "is a folder"),
            ("/proc/fastdnn-test", "cannot be written"),  # even for root
    ]:
        line = _one_error_line(_main(capsys, "train", "--synthetic", option,
                                     target), 1)
        assert option in line and match in line
    assert not os.path.exists("/proc/fastdnn-test")
    # the check leaves an existing file as it was
    mtime = a_file.stat().st_mtime_ns
    with pytest.raises(AssertionError, match="loaded before"):
        cli.main(["train", "--debug", "--synthetic", option, str(a_file)])
    assert a_file.read_text() == "x" and a_file.stat().st_mtime_ns == mtime


def test_probe_removes_the_file_it_made(capsys, tmp_path, no_training):
    with pytest.raises(AssertionError, match="loaded before"):
        cli.main(["train", "--debug", "--synthetic", "--out",
                  str(tmp_path / "m.npz")])
    assert list(tmp_path.iterdir()) == []


def test_out_and_plot_the_same_file(capsys, tmp_path, no_training):
    line = _one_error_line(_main(capsys, "train", "--synthetic", "--out",
                                 tmp_path / "x", "--plot",
                                 tmp_path / "." / "x"), 2)
    assert "name the same file" in line


def test_mislabeled_target_is_checked_before_the_model(capsys, tmp_path):
    line = _one_error_line(_main(capsys, "evaluate", "--model",
                                 tmp_path / "missing.npz", "--synthetic",
                                 "--mislabeled", tmp_path / "no" / "w.png"),
                           1)
    assert "--mislabeled" in line and "does not exist" in line


def test_bench_out_an_existing_file_is_refused_at_once(capsys, tmp_path,
                                                       monkeypatch):
    ran = []
    import fastdnn.bench as bench
    monkeypatch.setattr(bench, "run", lambda args: ran.append(args))
    a_file = tmp_path / "results"
    a_file.write_text("x")
    line = _one_error_line(_main(capsys, "bench", "--quick", "--out",
                                 a_file), 2)
    assert "--out" in line and "is a file" in line and not ran
    assert "--out" in _one_error_line(_main(capsys, "bench", "--out", ""), 2)
    # python -m fastdnn.bench too (bench's own parser)
    with pytest.raises(SystemExit) as exc:
        bench.main(["--out", str(a_file)])
    assert exc.value.code == 2 and not ran


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.npz"
    assert cli.main(["train", "--synthetic", "--backend", "numpy",
                     "--iterations", "1", "--out", str(path)]) == 0
    return path


def test_evaluate_caps_the_mislabeled_grid(capsys, tmp_path, small_model):
    wrong = tmp_path / "w.png"
    r = _main(capsys, "evaluate", "--model", small_model, "--synthetic",
              "--mislabeled", wrong, "--max-images", "3")
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stdout.splitlines() if "Mislabeled" in ln][0]
    n = int(line.split("(")[1].split(",")[0])
    assert n > 3  # one iteration: many wrong
    assert "%d left out: --max-images 3" % (n - 3) in line
    with Image.open(wrong) as img:
        assert img.size[0] < 800  # three columns, not n


def test_default_cap(capsys, tmp_path, small_model, monkeypatch):
    seen = {}
    import fastdnn.plots as plots
    real = plots.plot_mislabeled

    def spy(*a, **kw):
        seen.update(kw)
        return real(*a, **kw)
    monkeypatch.setattr(plots, "plot_mislabeled", spy)
    monkeypatch.setattr("fastdnn.plot_mislabeled", spy, raising=False)
    r = _main(capsys, "evaluate", "--model", small_model, "--synthetic",
              "--mislabeled", tmp_path / "w.png")
    assert r.returncode == 0, r.stderr
    from fastdnn.cli_args import DEFAULT_MAX_IMAGES
    assert seen["max_images"] == DEFAULT_MAX_IMAGES == 50


def _bomb(path):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", 10**5, 10**5,
                                                  8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))
    return path


def test_predict_reports_each_bad_image_and_goes_on(tmp_path, small_model):
    """Through the real command: one stderr line per bad image, every good
    image classified, status 1 at the end."""
    rng = np.random.RandomState(0)
    good = []
    for k in range(2):
        good.append(tmp_path / ("ok%d.png" % k))
        Image.fromarray(rng.randint(0, 256, (20, 20, 3),
                                    dtype=np.uint8)).save(good[-1])
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good[0].read_bytes()[:70])
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((9, 9), 40000, np.uint16)).save(deep)
    palette = tmp_path / "pal.png"
    img = Image.new("P", (8, 8))
    img.putpalette([0, 0, 0, 255, 0, 0] * 128)
    img.save(palette, transparency=b"\x80\x40")  # Pillow warns on convert
    bomb = _bomb(tmp_path / "bomb.png")
    paths = [bomb, good[0], truncated, deep, palette, good[1],
             tmp_path / "missing.png"]
    r = subprocess.run([sys.executable, "-m", "fastdnn", "predict",
                        "--model", small_model, *paths],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    err = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr
    assert len(err) == 3, r.stderr
    assert err[0].startswith("fastdnn: error: cannot read image %s: " % bomb)
    assert err[1].startswith("fastdnn: error: cannot read image %s: "
                             % truncated)
    assert "missing.png: No such file" in err[2]
    names = [ln.split("\t")[0] for ln in r.stdout.splitlines()]
    assert names == [str(p) for p in (good[0], deep, palette, good[1])]


def test_data_folder_is_used_or_refused(capsys, tmp_path, monkeypatch):
    """--data DIR without the files is an error even when $FASTDNN_DATA
    holds them (it trained on the cat data before, status 0)."""
    import h5py
    good = tmp_path / "good"
    good.mkdir()
    rng = np.random.RandomState(0)
    for name, m in (("train", 4), ("test", 2)):
        with h5py.File(good / ("%s_catvnoncat.h5" % name), "w") as f:
            f["%s_set_x" % name] = rng.randint(0, 256, (m, 2, 2, 3)).astype(
                np.uint8)
            f["%s_set_y" % name] = np.arange(m) % 2
            f["list_classes"] = np.array([b"non-cat", b"cat"])
    monkeypatch.setenv("FASTDNN_DATA", str(good))
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _one_error_line(_main(capsys, "train", "--backend", "numpy",
                                 "--iterations", "1", "--data", empty), 1)
    assert str(empty) in line and "train_catvnoncat.h5" in line
    # a corrupt file: one line naming it and the key
    with h5py.File(good / "test_catvnoncat.h5", "a") as f:
        del f["test_set_y"]
    line = _one_error_line(_main(capsys, "train", "--backend", "numpy",
                                 "--iterations", "1"), 1)
    assert "test_catvnoncat.h5 has no dataset 'test_set_y'" in line
