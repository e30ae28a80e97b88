"""plot_costs and plot_mislabeled: PNG files, Figure objects, no pyplot."""
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import fastdnn

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        return img.size


def test_plot_costs_writes_png_and_returns_figure(tmp_path):
    costs = list(0.7 * np.exp(-np.arange(25) / 8))
    path = tmp_path / "costs.png"
    fig = fastdnn.plot_costs(costs, 0.0075, path)
    assert isinstance(fig, Figure)
    w, h = _png_size(path)
    assert w > 400 and h > 250
    ax = fig.axes[0]
    assert ax.get_title() == "Learning rate = 0.0075"
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(25) * 100)
    np.testing.assert_allclose(y, costs)


def test_plot_costs_without_path_and_one_point(tmp_path):
    fig = fastdnn.plot_costs([0.69], 0.1)
    assert isinstance(fig, Figure)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="empty"):
        fastdnn.plot_costs([], 0.1)


def test_plot_costs_of_a_diverged_run_stops_at_its_last_finite_cost():
    costs = [0.7, 0.5, 0.4, 3.0, np.inf, np.nan]
    fig = fastdnn.plot_costs(costs, 0.5, every=10)
    ax = fig.axes[0]
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, [0, 10, 20, 30])
    np.testing.assert_array_equal(y, costs[:4])
    assert "cost not finite from iteration 40" in [t.get_text()
                                                   for t in ax.texts]
    assert ax.lines[1].get_xdata()[0] == 40  # the dashed line
    with pytest.raises(ValueError, match=r"costs\[0\] is nan: the training "
                       "diverged before its first recorded cost"):
        fastdnn.plot_costs([np.nan, 1.0], 0.5)


@pytest.mark.parametrize("costs", [["a", "b"], None, "0.5"])
def test_plot_costs_refuses_what_is_not_numbers(costs):
    with pytest.raises(TypeError, match="costs must be a sequence of "
                                        "numbers"):
        fastdnn.plot_costs(costs, 0.1)


def test_plot_costs_shows_negative_costs():
    ax = fastdnn.plot_costs([-1.0, -2.0], 0.1).axes[0]
    assert ax.get_ylim()[0] <= -2.0


def _images(m=12, px=8, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(px * px * 3, m)


def test_plot_mislabeled_grid(tmp_path):
    X = _images()
    y = np.array([[0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0]])
    p = y.copy()
    wrong = [1, 4, 5, 10]
    p[0, wrong] = 1 - p[0, wrong]
    path = tmp_path / "wrong.png"
    fig = fastdnn.plot_mislabeled(np.array([b"non-cat", b"cat"]), X, y, p,
                                  path)
    assert isinstance(fig, Figure)
    _png_size(path)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == len(wrong)
    titles = [ax.get_title() for ax in shown]
    assert "Prediction: non-cat\nClass: cat" in titles[0]
    assert "Prediction: cat\nClass: non-cat" in titles[2]
    np.testing.assert_allclose(shown[0].images[0].get_array(),
                               X[:, 1].reshape(8, 8, 3))
    assert "4 mislabeled images of 12" in fig.get_suptitle()


def test_plot_mislabeled_options_and_none_wrong(tmp_path):
    X = _images(m=3, px=4)
    y = np.array([[1, 0, 1]])
    fig = fastdnn.plot_mislabeled(["no", "yes"], X, y, y, tmp_path / "a.png")
    _png_size(tmp_path / "a.png")
    assert "No mislabeled images" in fig.texts[0].get_text()
    fig = fastdnn.plot_mislabeled(["no", "yes"], X, y, 1 - y, max_images=2,
                                  image_shape=(4, 4, 3))
    assert len([ax for ax in fig.axes if ax.images]) == 2
    gray = np.random.RandomState(0).rand(25, 2)
    fig = fastdnn.plot_mislabeled(["no", "yes"], gray, [[0, 1]], [[1, 1]])
    assert fig.axes[0].images[0].get_array().shape == (5, 5)


def test_plot_mislabeled_refuses_bad_input():
    X = _images(m=3, px=4)
    with pytest.raises(ValueError, match="one label per column"):
        fastdnn.plot_mislabeled(["a", "b"], X, [[0, 1]], [[0, 1, 1]])
    with pytest.raises(ValueError, match="two classes"):
        fastdnn.plot_mislabeled(["a"], X, [[0, 1, 0]], [[0, 1, 1]])
    # 0 would draw "No mislabeled images" over two wrong ones
    with pytest.raises(ValueError, match="max_images must be >= 1"):
        fastdnn.plot_mislabeled(["a", "b"], X, [[0, 1, 0]], [[1, 0, 0]],
                                max_images=0)
    with pytest.raises(ValueError, match="image_shape"):
        fastdnn.plot_mislabeled(["a", "b"], np.ones((7, 3)), [[0, 1, 0]],
                                [[0, 1, 1]])


def test_no_pyplot_and_lazy_imports():
    """``import fastdnn`` imports neither matplotlib nor scikit-learn; the
    plots never import pyplot (no global state, no GUI backend)."""
    code = "\n".join([
        "import sys, tempfile, os",
        "import fastdnn",
        "assert 'matplotlib' not in sys.modules, 'import fastdnn: mpl'",
        "assert 'sklearn' not in sys.modules, 'import fastdnn: sklearn'",
        "d = tempfile.mkdtemp()",
        "fastdnn.plot_costs([0.7, 0.5], 0.01, os.path.join(d, 'c.png'))",
        "fastdnn.plot_mislabeled(['a', 'b'], [[0.1, 0.2, 0.3]] * 3,",
        "                        [[0, 1, 1]], [[1, 1, 0]],",
        "                        os.path.join(d, 'm.png'))",
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'",
        "print('ok')",
    ])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
