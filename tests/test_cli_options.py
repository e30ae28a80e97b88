"""``fastdnn train``'s general-model options, in this process: parsing,
what reaches ``L_layer_model``, the checks made before any data is read,
evaluate/predict of a regression and of other datasets, the pictures."""
import functools

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import fastdnn
from fastdnn import cli, cli_data, cli_train, cli_train_args
from fastdnn.cli_args import UsageError, build_parser
from fastdnn.plots import plot_decision_boundary, plot_mislabeled
from cli_helpers import one_error_line as _one_error_line
from cli_helpers import run_main as _main


def _train_args(*argv):
    return build_parser().parse_args(["train", *argv])


# ---------------------------------------------------------------- parsing

def test_epochs_is_iterations_and_the_defaults_are_the_course():
    assert _train_args("--epochs", "7").iterations == 7
    assert _train_args("--iterations", "7").iterations == 7
    args = _train_args()
    assert args.iterations == 2500 and args.layers == [20, 7, 5]
    assert args.dataset is None and args.output is None
    # plain full-batch gradient descent: no toolbox keyword at all, so the
    # backends run today's code path
    assert cli_train_args.toolbox_kwargs(args, fastdnn.jit) == {}
    assert cli_train_args.hidden_activation(args) == "relu"


@pytest.mark.parametrize("argv,expected", [
    (["--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99",
      "--epsilon", "1e-7", "--beta", "0.5"],
     dict(optimizer="adam", beta1=0.8, beta2=0.99, epsilon=1e-7)),
    (["--optimizer", "momentum", "--beta", "0.5"],
     dict(optimizer="momentum", beta=0.5)),
    (["--optimizer", "nesterov"], dict(optimizer="nesterov", beta=0.9)),
    (["--optimizer", "rmsprop", "--beta2", "0.9"],
     dict(optimizer="rmsprop", beta2=0.9, epsilon=1e-8)),
    (["--batch-size", "32", "--lambd", "0.7", "--keep-prob", "0.8"],
     dict(mini_batch_size=32, lambd=0.7, keep_prob=0.8)),
])
def test_toolbox_keywords(argv, expected):
    assert cli_train_args.toolbox_kwargs(_train_args(*argv),
                                         fastdnn.jit) == expected


@pytest.mark.parametrize("name,rate,values", [
    ("inverse", 0.5, {0: 0.1, 1: 0.1 / 1.5, 4: 0.1 / 3}),
    ("scheduled", 2.0, {0: 0.1, 999: 0.1, 1000: 0.1 / 3, 2500: 0.1 / 5}),
])
def test_decay(name, rate, values):
    kw = cli_train_args.toolbox_kwargs(
        _train_args("--decay", name, "--decay-rate", str(rate)), fastdnn.jit)
    assert kw["decay_rate"] == rate
    for epoch, lr in values.items():
        assert kw["decay"](0.1, epoch, rate) == pytest.approx(lr, rel=1e-15)
    # the default rate is 1, as the course's
    kw = cli_train_args.toolbox_kwargs(_train_args("--decay", name),
                                       fastdnn.jit)
    assert kw["decay_rate"] == 1.0


def test_decay_formulas_match_the_references():
    """This module's copies agree with fastdnn's own functions, where the
    reference exports them."""
    from fastdnn import reference
    for name in ("update_lr", "schedule_lr_decay"):
        theirs = getattr(reference, name, None)
        if theirs is None:
            continue
        mine = getattr(cli_train_args, name)
        for epoch in (0, 1, 10, 999, 1000, 4321):
            assert mine(0.3, epoch, 0.7) == pytest.approx(
                theirs(0.3, epoch, 0.7), rel=1e-15)


def test_output_inference():
    args = _train_args()
    y = np.zeros((1, 5))
    assert cli_train_args.infer_output(args, ["a", "b"], y) == ("sigmoid", 1)
    assert cli_train_args.infer_output(args, list("abc"), y) == \
        ("softmax", 3)
    assert cli_train_args.infer_output(args, None, y) == ("identity", 1)
    assert cli_train_args.infer_output(args, None, np.zeros((2, 5))) == \
        ("identity", 2)
    args = _train_args("--output", "softmax")
    assert cli_train_args.infer_output(args, ["a", "b"], y) == \
        ("softmax", 2)
    with pytest.raises(UsageError, match="needs class labels"):
        cli_train_args.infer_output(args, None, y)
    with pytest.raises(UsageError, match="use --output softmax"):
        cli_train_args.infer_output(_train_args("--output", "sigmoid"),
                                    list("abc"), y)


@pytest.fixture
def spy(monkeypatch):
    """The keywords each backend's L_layer_model was called with."""
    calls = []
    for backend in (fastdnn.jit, fastdnn.reference):
        real = backend.L_layer_model

        @functools.wraps(real)
        def wrapper(*a, _real=real, **kw):
            calls.append(kw)
            return _real(*a, **kw)
        monkeypatch.setattr(backend, "L_layer_model", wrapper)
    return calls


def test_options_reach_the_training(capsys, spy):
    r = _main(capsys, "train", "--dataset", "planar", "--layers", "4,3",
              "--activation", "tanh,leaky_relu", "--init", "he",
              "--optimizer", "momentum", "--beta", "0.7", "--batch-size",
              "50", "--lambd", "0.2", "--keep-prob", "0.9", "--decay",
              "inverse", "--decay-rate", "0.3", "--seed", "4",
              "--iterations", "3", "--learning-rate", "0.02")
    assert r.returncode == 0, r.stderr
    kw = spy[-1]
    assert kw["activation"] == ["tanh", "leaky_relu"]
    assert kw["output"] == "sigmoid" and kw["initialization"] == "he"
    assert (kw["optimizer"], kw["beta"], kw["mini_batch_size"], kw["lambd"],
            kw["keep_prob"], kw["decay_rate"], kw["seed"]) == (
        "momentum", 0.7, 50, 0.2, 0.9, 0.3, 4)
    assert kw["decay"](1.0, 2, 0.5) == 0.5
    assert kw["num_iterations"] == 3 and kw["learning_rate"] == 0.02
    assert "Network: tanh,leaky_relu hidden layers, sigmoid output, he " \
        "initialization" in r.stdout


def test_default_run_prints_and_passes_what_it_always_did(capsys, spy):
    r = _main(capsys, "train", "--synthetic", "--iterations", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Training [768, 20, 7, 5, 1] on 209 "
                               "synthetic images (backend ")
    assert lines[1].startswith("Cost after iteration 0: ")
    assert set(spy[-1]) <= {"learning_rate", "num_iterations", "print_cost",
                            "callback", "activation", "output", "solver",
                            "dtype"}


def test_progress_bar_with_mini_batches(monkeypatch, capsys):
    monkeypatch.setattr(cli_train, "_is_tty", lambda *streams: True)
    r = _main(capsys, "train", "--dataset", "moons", "--layers", "5",
              "--optimizer", "adam", "--batch-size", "64", "--epochs",
              "120", "--learning-rate", "0.01")
    assert r.returncode == 0, r.stderr
    bar = r.stderr.replace("\r", "\n").splitlines()
    assert any("120/120" in ln and "cost=0." in ln for ln in bar), r.stderr
    assert "Test accuracy: " in r.stdout  # moons has a test split


# ---------------------------------------------------------------- errors

@pytest.fixture
def no_data(monkeypatch):
    def loaded(*args):
        raise AssertionError("the data was loaded before the check")
    monkeypatch.setattr(cli_data, "load", loaded)


@pytest.mark.parametrize("argv,match", [
    (["--optimizer", "adagrad"], "argument --optimizer"),
    (["--batch-size", "0"], "argument --batch-size"),
    (["--keep-prob", "0"], "argument --keep-prob"),
    (["--keep-prob", "1.01"], "argument --keep-prob"),
    (["--lambd", "-1"], "argument --lambd"),
    (["--lambd", "inf"], "argument --lambd"),
    (["--beta", "1"], "argument --beta"),
    (["--beta2", "-0.1"], "argument --beta2"),
    (["--epsilon", "0"], "argument --epsilon"),
    (["--decay", "exp"], "argument --decay"),
    (["--decay-rate", "-2", "--decay", "inverse"], "argument --decay-rate"),
    (["--decay-rate", "0.5"], "--decay-rate needs --decay"),
    (["--activation", "relu,swish"], "argument --activation"),
    (["--activation", "relu,tanh"], "2 activations and --layers 3"),
    (["--output", "tanh"], "argument --output"),
    (["--init", "orthogonal"], "argument --init"),
    (["--epochs", "0"], "argument --iterations/--epochs"),
    (["--synthetic", "--dataset", "planar"], "both name the data"),
    (["--data", "/tmp", "--dataset", "moons"], "--dataset cat only"),
    (["--solver", "gram", "--optimizer", "rmsprop"], "--solver gram"),
    (["--dataset", ""], "argument --dataset: an empty string"),
    (["--boundary", ""], "argument --boundary: an empty string"),
])
def test_usage_errors_before_the_data(capsys, no_data, argv, match):
    line = _one_error_line(_main(capsys, "train", *argv), 2)
    assert match in line


def test_boundary_and_out_the_same_file(capsys, no_data, tmp_path):
    line = _one_error_line(_main(capsys, "train", "--dataset", "planar",
                                 "--out", tmp_path / "x", "--boundary",
                                 tmp_path / "x"), 2)
    assert "--out and --boundary name the same file" in line


@pytest.mark.parametrize("argv,match", [
    (["--dataset", "planar", "--output", "identity"],
     "--output identity is for real-valued targets"),
    (["--synthetic", "--boundary", "b.png"],
     "--boundary draws 2-D data, and the synthetic data has 768"),
    (["--dataset", "flower"], "unknown dataset 'flower'"),
])
def test_usage_errors_that_need_the_data(capsys, argv, match, tmp_path,
                                         spy):
    argv = [str(tmp_path / a) if a.endswith(".png") else a for a in argv]
    line = _one_error_line(_main(capsys, "train", *argv), 2)
    assert match in line and not spy  # refused before training


@pytest.fixture
def files(tmp_path):
    f = {}
    f["letters"] = tmp_path / "letters.csv"
    f["letters"].write_text("a,b,y\n1,2,0\n3,oops,1\n")
    f["short"] = tmp_path / "short.csv"
    f["short"].write_text("a,b,y\n1,2,0\n3,1\n")
    f["header"] = tmp_path / "header.csv"
    f["header"].write_text("a,b,y\n")
    f["zip"] = tmp_path / "corrupt.npz"
    f["zip"].write_bytes(b"PK\x03\x04 not really")
    f["keys"] = tmp_path / "keys.npz"
    np.savez(f["keys"], foo=np.ones(3))
    f["h5"] = tmp_path / "junk.h5"
    f["h5"].write_text("junk")
    f["missing"] = tmp_path / "missing.csv"
    return f


@pytest.mark.parametrize("kind,match", [
    ("letters", "line 3: column 'b' holds 'oops', not a number"),
    ("short", "line 3 has 2 fields, the header 3"),
    ("header", "needs a header row and at least one example"),
    ("zip", "corrupt.npz"),
    ("keys", "has no feature array"),
    ("h5", "cannot read"),
    ("missing", "No such file"),
])
def test_bad_data_files_exit_1(capsys, files, kind, match):
    line = _one_error_line(_main(capsys, "train", "--dataset", files[kind],
                                 "--iterations", "1"), 1)
    assert match in line and str(files[kind].name) in line


# ---------------------------------------------------------------- models

@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regression")
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, (80, 2))
    t = 1.5 * X[:, 0] - X[:, 1] + 0.3
    path = folder / "line.csv"
    rows = ["%r,%r,%r" % (float(a), float(b), float(c))
            for (a, b), c in zip(X, t)]
    path.write_text("u,v,t\n" + "\n".join(rows) + "\n")
    model = folder / "line.npz"
    assert cli.main(["train", "--dataset", str(path), "--layers", "4",
                     "--activation", "tanh", "--optimizer", "adam",
                     "--learning-rate", "0.02", "--iterations", "300",
                     "--out", str(model)]) == 0
    return path, model, X, t


def test_regression_evaluate_and_predict(capsys, regression):
    path, model, X, t = regression
    capsys.readouterr()
    parameters, meta = fastdnn.load_model(model)
    assert meta["output"] == "identity" and "classes" not in meta
    AL, _ = fastdnn.L_model_forward(X.T, parameters, activation="tanh",
                                    output="identity")
    mse = np.mean((AL[0] - t) ** 2)
    r2 = 1 - np.sum((AL[0] - t) ** 2) / np.sum((t - t.mean()) ** 2)
    assert r2 > 0.9  # learnt the plane
    r = _main(capsys, "evaluate", "--model", model)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Train MSE: %.6g, R^2: %.4f (80 examples)" % (
        mse, r2)
    assert meta["train_mse"] == pytest.approx(mse, rel=1e-12)
    assert meta["train_r2"] == pytest.approx(r2, rel=1e-12)
    r = _main(capsys, "predict", "--model", model, "--data-file", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:3] == ["%d\t%.6g" % (j, AL[0, j])
                                         for j in range(3)]
    # a regression has no mislabeled images and no decision boundary
    for option in ("--mislabeled", "--boundary"):
        line = _one_error_line(_main(capsys, "evaluate", "--model", model,
                                     option, path.with_suffix(".png")), 2)
        assert option in line


def test_evaluate_when_the_recorded_file_is_gone(capsys, regression,
                                                 tmp_path):
    path, _, _, _ = regression
    copy = tmp_path / "copy.csv"
    copy.write_text(path.read_text())
    model = tmp_path / "m.npz"
    assert _main(capsys, "train", "--dataset", copy, "--iterations", "1",
                 "--out", model).returncode == 0
    assert _main(capsys, "evaluate", "--model", model).returncode == 0
    copy.unlink()
    line = _one_error_line(_main(capsys, "evaluate", "--model", model), 1)
    assert "was trained on %s, which no longer exists: give its data with " \
        "--dataset FILE" % copy in line
    # --dataset names it again
    r = _main(capsys, "evaluate", "--model", model, "--dataset", path)
    assert r.returncode == 0 and "(80 examples)" in r.stdout, r.stderr


def test_evaluate_on_another_dataset(capsys, tmp_path):
    model = tmp_path / "moons.npz"
    r = _main(capsys, "train", "--dataset", "moons", "--layers", "6",
              "--iterations", "50", "--learning-rate", "0.1", "--out",
              model)
    assert r.returncode == 0, r.stderr
    boundary = tmp_path / "b.png"
    r = _main(capsys, "evaluate", "--model", model, "--dataset", "circles",
              "--boundary", boundary)
    assert r.returncode == 0, r.stderr
    assert "of 300 examples)" in r.stdout and "of 100 examples)" in \
        r.stdout and "outer" not in r.stdout  # the model's class names
    assert r.stdout.splitlines()[-1] == "Decision boundary saved to %s" \
        % boundary
    with Image.open(boundary) as img:
        assert img.format == "PNG" and img.size[0] > 400
    line = _one_error_line(_main(capsys, "evaluate", "--model", model,
                                 "--synthetic"), 1)
    assert "takes 2 features per example but the synthetic data has 768" \
        in line
    line = _one_error_line(_main(capsys, "evaluate", "--model", model,
                                 "--dataset", "planar", "--synthetic"), 2)
    assert "both name the data" in line
    line = _one_error_line(_main(capsys, "predict", "--model", model,
                                 "photo.jpg"), 1)
    assert "input_shape" in line


def test_digits_mislabeled_grid(capsys, tmp_path):
    pytest.importorskip("sklearn")
    model, wrong = tmp_path / "digits.npz", tmp_path / "wrong.png"
    r = _main(capsys, "train", "--dataset", "digits", "--layers", "16",
              "--optimizer", "adam", "--batch-size", "256", "--epochs", "3",
              "--learning-rate", "0.01", "--out", model)
    assert r.returncode == 0, r.stderr
    assert "Training [64, 16, 10] on 1500 digits examples" in r.stdout
    r = _main(capsys, "evaluate", "--model", model, "--mislabeled", wrong,
              "--max-images", "4")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].split()[3:] == [str(d) for d in range(10)]
    # Train and test (the last 297 digits): a line and a 10-class matrix
    # each, then the grid's line.
    assert len(lines) == 2 * (1 + 11) + 1
    assert lines[12].startswith("Test accuracy:") and "of 297" in lines[12]
    n = int(lines[-1].split("(")[1].split(",")[0])
    assert n > 4 and "%d left out: --max-images 4" % (n - 4) in lines[-1]
    with Image.open(wrong) as img:
        assert img.size[0] < 1000


# ---------------------------------------------------------------- plots

def test_decision_boundary_figure(tmp_path):
    X = np.array([[-1.0, 1.0, -1.0, 1.0, 0.2], [0.0, 0.0, 2.0, 2.0, 1.0]])
    y = np.array([[0, 1, 0, 2, 1]])
    seen = []

    def classify(points):
        seen.append(points.shape)
        return np.digitize(points[0], [-0.5, 0.5])  # three vertical bands
    fig = plot_decision_boundary(classify, X, y, tmp_path / "b.png",
                                 classes=["a", "b", "c"], resolution=40)
    assert isinstance(fig, Figure) and seen == [(2, 1600)]
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["a", "b", "c"]
    x0, x1 = ax.get_xlim()
    assert x0 < -1 and x1 > 1  # the margin around the data
    with open(tmp_path / "b.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="2 features"):
        plot_decision_boundary(classify, np.ones((3, 4)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="returned 3 labels for 1600"):
        plot_decision_boundary(lambda P: [0, 1, 0], X, y, resolution=40,
                               classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="class indices from 0 to 1"):
        plot_decision_boundary(classify, X, y, classes=["a", "b"])


def test_mislabeled_grid_of_several_classes():
    X = np.linspace(0, 1, 16 * 4).reshape(16, 4)  # four 4x4 images
    y = np.array([0, 1, 2, 2])
    p = np.array([0, 2, 1, 2])
    fig = plot_mislabeled(["zero", "one", "two"], X, y, p)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["#1\nPrediction: two\nClass: one",
                      "#2\nPrediction: one\nClass: two"]
    with pytest.raises(ValueError, match="class indices from 0 to 2"):
        plot_mislabeled(["zero", "one", "two"], X, y, [0, 3, 1, 2])


def test_digits_without_scikit_learn(capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    line = _one_error_line(_main(capsys, "train", "--dataset", "digits"), 1)
    assert line.startswith("fastdnn: error: the digits dataset is "
                           "scikit-learn's: pip install")
