"""The ``fastdnn`` command, run for real in a subprocess."""
import json
import os
import pathlib
import subprocess
import sys
import types
import zipfile

import numpy as np
import pytest
from PIL import Image

import fastdnn
from fastdnn import cli, cli_train
from cli_helpers import one_error_line as _one_error_line
from cli_helpers import run_main as _main

IMAGES = pathlib.Path(__file__).parents[1] / ".." / "shared" / "images"
PHOTOS = [IMAGES / "cat_in_iran.jpg", IMAGES / "gargouille.jpg"]


def _run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "fastdnn", *map(str, args)],
                          capture_output=True, text=True, timeout=600, **kw)


def _env_without_data():
    return {k: v for k, v in os.environ.items() if k != "FASTDNN_DATA"}


def _valid_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        return img.size


def _valid_model(path):
    assert zipfile.is_zipfile(path)
    return fastdnn.load_model(path)


def _photos():
    if not all(p.exists() for p in PHOTOS):
        pytest.skip("no ../shared/images beside the checkout")
    return PHOTOS


def test_version_and_help():
    r = _run("--version")
    assert r.returncode == 0 and r.stdout.strip() == "fastdnn " + \
        fastdnn.__version__
    r = _run("--help")
    assert r.returncode == 0
    for command in ("train", "predict", "evaluate", "warmup", "bench"):
        assert command in r.stdout
    for command in ("train", "predict", "evaluate"):
        r = _run(command, "--help")
        assert r.returncode == 0 and "--debug" in r.stdout


def test_train_without_data_says_where_to_look(tmp_path):
    r = _run("train", "--data", str(tmp_path), env=_env_without_data())
    line = _one_error_line(r, 1)
    assert "FASTDNN_DATA" in line and "--data" in line
    assert "--synthetic" in line
    r = _run("train", env=_env_without_data())
    line = _one_error_line(r, 1)
    assert "FASTDNN_DATA" in line and "--data" in line


# ------------------------------------------------------------ end to end

@pytest.mark.data
def test_train_predict_evaluate_on_cats(data_dir, tmp_path):
    """The README's walkthrough, through the real command line."""
    photos = _photos()
    model, costs, wrong = (tmp_path / "model.npz", tmp_path / "costs.png",
                           tmp_path / "wrong.png")
    r = _run("train", "--data", data_dir, "--iterations", "30",
             "--out", model, "--plot", costs)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Training [12288, 20, 7, 5, 1] on 209 cat images" in out
    # not a terminal: no bar, the course's cost lines instead
    assert "Cost after iteration 0: 0.7717493284237" in out
    assert "Cost after iteration 29: " in out
    assert "Train accuracy: " in out and "Test accuracy: " in out
    assert "Time: " in out
    parameters, meta = _valid_model(model)
    assert meta["layer_dims"] == [12288, 20, 7, 5, 1]
    assert meta["classes"] == ["non-cat", "cat"]
    assert meta["input_shape"] == [64, 64, 3]
    assert meta["dtype"] == "float64" and len(meta["costs"]) == 1
    assert _valid_png(costs)[0] > 300

    r = _run("predict", "--model", model, *photos)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2
    for line, photo in zip(lines, photos):
        name, label, proba = line.split("\t")
        assert name == str(photo)
        assert label in ("cat", "non-cat") and 0.5 <= float(proba) <= 1
    # the same numbers as the library
    x = fastdnn.load_image(photos[0])
    AL, _ = fastdnn.L_model_forward(x, parameters)
    p_cat = float(AL[0, 0])
    name, label, proba = lines[0].split("\t")
    assert label == ("cat" if p_cat > 0.5 else "non-cat")
    assert float(proba) == pytest.approx(max(p_cat, 1 - p_cat), abs=1e-4)

    r = _run("evaluate", "--model", model, "--data", data_dir,
             "--mislabeled", wrong)
    assert r.returncode == 0, r.stderr
    assert "Train accuracy: " in r.stdout and "of 209 images)" in r.stdout
    assert "of 50 images)" in r.stdout
    assert "true \\ predicted" in r.stdout
    assert "Mislabeled test images saved to" in r.stdout
    w, h = _valid_png(wrong)
    assert w > 300 and h > 200


@pytest.mark.slow
@pytest.mark.data
def test_default_training_reproduces_the_course(data_dir, tmp_path):
    r = _run("train", "--data", data_dir, "--out", tmp_path / "m.npz")
    assert r.returncode == 0, r.stderr
    assert "Cost after iteration 2400: 0.0928782152" in r.stdout
    assert "Train accuracy: 0.985645933014" in r.stdout
    assert "Test accuracy: 0.8\n" in r.stdout
    _, meta = _valid_model(tmp_path / "m.npz")
    assert meta["test_accuracy"] == 0.8 and len(meta["costs"]) == 25


def test_synthetic_end_to_end(tmp_path):
    """--synthetic: the whole tool without the dataset files."""
    env = _env_without_data()
    model, costs, wrong = (tmp_path / "syn.npz", tmp_path / "c.png",
                           tmp_path / "w.png")
    r = _run("train", "--synthetic", "--iterations", "120",
             "--learning-rate", "0.05", "--layers", "8,4", "--out", model,
             "--plot", costs, env=env)
    assert r.returncode == 0, r.stderr
    assert "Training [768, 8, 4, 1] on 209 synthetic images" in r.stdout
    _, meta = _valid_model(model)
    assert meta["input_shape"] == [16, 16, 3]
    assert meta["dataset"] == "synthetic"
    assert meta["backend"] == fastdnn.DEFAULT_BACKEND
    # the course's network, recorded for load_model's callers
    assert meta["activation"] == ["relu", "relu"]
    assert meta["output"] == "sigmoid"
    assert meta["activations"] == ["relu", "relu", "sigmoid"]
    assert meta["format_version"] == 1
    _valid_png(costs)

    # any size and mode: RGBA PNG, grayscale, palette, a small JPEG
    from fastdnn._synthetic import load_synthetic
    imgs = load_synthetic()[0]
    paths = []
    for k, mode in enumerate(["RGBA", "L", "P", "RGB"]):
        img = Image.fromarray(imgs[k]).resize((50 + k, 37)).convert(mode)
        path = tmp_path / ("img%d.%s" % (k, "jpg" if mode == "RGB" else
                                         "png"))
        img.save(path)
        paths.append(path)
    r = _run("predict", "--model", model, *paths, env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert [ln.split("\t")[0] for ln in lines] == [str(p) for p in paths]

    r = _run("evaluate", "--model", model, "--synthetic", "--mislabeled",
             wrong, env=env)
    assert r.returncode == 0, r.stderr
    assert "of 209 images" in r.stdout and "of 50 images" in r.stdout
    _valid_png(wrong)


@pytest.mark.parametrize("backend", sorted(fastdnn.BACKENDS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_train_options_reach_the_model(tmp_path, backend, dtype):
    model = tmp_path / "m.npz"
    args = ["train", "--synthetic", "--iterations", "3", "--backend",
            backend, "--dtype", dtype, "--seed", "5", "--out", model]
    if backend == "numba":
        args += ["--solver", "primal"]
    r = _run(*args)
    assert r.returncode == 0, r.stderr
    parameters, meta = _valid_model(model)
    assert meta["dtype"] == dtype and meta["seed"] == 5
    assert parameters["W1"].dtype == np.dtype(dtype)
    # the seed reached the initialisation: seed 1's first cost is 0.74269
    assert "Cost after iteration 0: " in r.stdout
    assert "Cost after iteration 0: 0.7426" not in r.stdout


def test_progress_bar_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(cli_train, "_is_tty", lambda *streams: True)
    r = _main(capsys, "train", "--synthetic", "--iterations", "150")
    assert r.returncode == 0
    # The course's lines stay above the bar, so the cost curve is kept.
    costs = [ln.split(":")[0] for ln in r.stdout.splitlines()
             if ln.startswith("Cost after")]
    assert costs == ["Cost after iteration %d" % i for i in (0, 100, 149)]
    assert "Test accuracy: " in r.stdout
    bar = r.stderr.replace("\r", "\n").splitlines()
    assert any("150/150" in ln and "cost=0." in ln for ln in bar), r.stderr
    assert any("101/150" in ln for ln in bar)


# ------------------------------------------------------------ errors

@pytest.mark.parametrize("args,match", [
    ([], "a command is required"),
    (["fly"], "invalid choice"),
    (["train", "--layers", "20,x"], "--layers"),
    (["train", "--layers", "20,0"], "--layers"),
    (["train", "--iterations", "0"], "--iterations"),
    (["train", "--learning-rate", "-1"], "--learning-rate"),
    (["train", "--learning-rate", "nan"], "--learning-rate"),
    (["train", "--backend", "cuda"], "--backend"),
    (["train", "--dtype", "float16"], "--dtype"),
    (["train", "--seed", "-3"], "--seed"),
    (["train", "--data", "x", "--synthetic"], "not allowed with"),
    (["train", "--synthetic", "--backend", "numpy", "--solver", "gram"],
     "solver='gram' needs the numba backend"),
    (["train", "--bogus"], "unrecognized arguments"),
    (["predict"], "required"),
    (["predict", "--model", "m.npz"], "IMAGE"),
    (["evaluate"], "--model"),
])
def test_usage_errors_exit_2_with_one_line(args, match, capsys):
    line = _one_error_line(_main(capsys, *args), 2)
    assert match in line


@pytest.mark.parametrize("args", [
    ["train", "--layers", "20,x"], ["predict"], [],
    ["train", "--synthetic", "--backend", "numpy", "--solver", "gram"]])
def test_usage_errors_in_a_subprocess(args):
    _one_error_line(_run(*args), 2)


@pytest.fixture
def bad_models(tmp_path):
    good = tmp_path / "good.npz"
    fastdnn.save_model(good, fastdnn.initialize_parameters_deep([12, 2, 1]),
                       classes=["non-cat", "cat"], input_shape=[2, 2, 3])
    data = good.read_bytes()
    files = {}
    files["missing"] = tmp_path / "missing.npz"
    files["text"] = tmp_path / "text.npz"
    files["text"].write_text("not a model\n")
    files["truncated"] = tmp_path / "truncated.npz"
    files["truncated"].write_bytes(data[:len(data) // 2])
    files["foreign"] = tmp_path / "foreign.npz"
    np.savez(files["foreign"], a=np.ones(3))
    files["pickle"] = tmp_path / "pickle.npz"
    np.savez(files["pickle"], W1=np.array([{"x": 1}], dtype=object),
             __fastdnn__=np.array(json.dumps({"format": "fastdnn-model"})))
    files["folder"] = tmp_path
    files["no_metadata_for_cli"] = tmp_path / "bare.npz"
    fastdnn.save_model(files["no_metadata_for_cli"],
                       fastdnn.initialize_parameters_deep([12, 2, 1]))
    return files


@pytest.mark.parametrize("kind,match", [
    ("missing", "No such file"), ("text", "not a fastdnn model"),
    ("truncated", "truncated or corrupt"), ("foreign", "not a fastdnn model"),
    ("pickle", "pickled"), ("folder", "directory"),
    ("no_metadata_for_cli", "input_shape")])
def test_bad_model_files_exit_1_with_one_line(capsys, bad_models, kind,
                                              match):
    photo = _photos()[0]
    line = _one_error_line(_run("predict", "--model", bad_models[kind],
                                photo), 1)
    assert match in line
    line = _one_error_line(_main(capsys, "evaluate", "--model",
                                 bad_models[kind], "--synthetic"), 1)
    # evaluate reads no image files: it needs the class names only
    assert (match if kind != "no_metadata_for_cli" else "class names") \
        in line


def test_debug_shows_the_traceback(bad_models):
    r = _run("predict", "--debug", "--model", bad_models["text"], "x.jpg")
    assert r.returncode == 1 and "Traceback" in r.stderr
    assert "ModelFileError" in r.stderr
    r = _run("--debug", "evaluate", "--model", bad_models["text"])
    assert r.returncode == 1 and "Traceback" in r.stderr


def test_bad_images_and_outputs(tmp_path):
    model = tmp_path / "m.npz"
    r = _run("train", "--synthetic", "--iterations", "2", "--out", model)
    assert r.returncode == 0, r.stderr
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("hello")
    good = tmp_path / "ok.png"
    Image.new("RGB", (20, 20), "orange").save(good)
    r = _run("predict", "--model", model, not_image, good,
             tmp_path / "nope.png")
    assert r.returncode == 1
    err = r.stderr.strip().splitlines()
    assert len(err) == 2 and "Traceback" not in r.stderr
    assert "cannot read image %s" % not_image in err[0]
    assert "nope.png" in err[1] and "No such file" in err[1]
    assert r.stdout.startswith(str(good) + "\t")  # the good one still done
    # a bad --out folder is reported before training
    r = _run("train", "--synthetic", "--out", tmp_path / "no" / "m.npz")
    line = _one_error_line(r, 1)
    assert "does not exist" in line and "Training" not in r.stdout
    # a model of other images than the data
    r = _run("evaluate", "--model", model, "--data", "/nonexistent",
             env=_env_without_data())
    _one_error_line(r, 1)


@pytest.mark.data
def test_evaluate_with_the_wrong_data(tmp_path, data_dir):
    model = tmp_path / "m.npz"
    _run("train", "--synthetic", "--iterations", "1", "--out", model)
    line = _one_error_line(_run("evaluate", "--model", model, "--data",
                                data_dir), 1)
    assert "16x16x3" in line and "--synthetic" in line


# ------------------------------------------------------------ bench

def test_bench_forwards_every_argument(monkeypatch):
    seen = []
    fake = types.ModuleType("fastdnn.bench")
    fake.main = lambda argv: seen.append(argv) or 7
    monkeypatch.setitem(sys.modules, "fastdnn.bench", fake)
    monkeypatch.setattr(fastdnn, "bench", fake, raising=False)
    assert cli.main(["bench", "--help", "--sizes", "1,2", "train"]) == 7
    assert cli.main(["--debug", "bench"]) == 7
    assert seen == [["--help", "--sizes", "1,2", "train"], []]


def test_bench_missing_module(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fastdnn.bench", None)
    monkeypatch.delattr(fastdnn, "bench", raising=False)
    assert cli.main(["bench", "--quick"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bench" in err[0] and "not available" in err[0]


def test_bench_real_module_help():
    try:
        import fastdnn.bench  # noqa: F401
    except ImportError as exc:
        pytest.skip("fastdnn.bench is not importable here: %s" % exc)
    r = _run("bench", "--help")
    assert r.returncode == 0, r.stderr
