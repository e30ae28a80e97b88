"""fastdnn.datasets.load: the named datasets and a user's .npz, .h5 and
.csv files, in both layouts, with class names; bad files are refused with
one message naming the file."""
import os

import numpy as np
import pytest

from fastdnn import datasets
from fastdnn.datasets import files

RNG = np.random.RandomState(0)
X = RNG.rand(30, 4)
Y_NAMES = np.array(["cat", "dog", "cow"])[RNG.randint(0, 3, 30)]


def _course_and_sklearn(path, **kwargs):
    course = datasets.load(path, **kwargs)
    sk = datasets.load(path, layout="sklearn", **kwargs)
    np.testing.assert_array_equal(course.X, sk.X.T)
    np.testing.assert_array_equal(course.y.ravel(), sk.y.ravel())
    return course, sk


def test_npz_with_string_labels_and_a_test_split(tmp_path):
    path = tmp_path / "animals.npz"
    np.savez(path, X=X, y=Y_NAMES, X_test=X[:5], y_test=Y_NAMES[:5])
    d, sk = _course_and_sklearn(path)
    assert d.classes == ["cat", "cow", "dog"]
    assert d.X.shape == (4, 30) and d.y.shape == (1, 30)
    assert sk.X.shape == (30, 4) and sk.y.shape == (30,)
    np.testing.assert_array_equal(np.array(d.classes)[d.y.ravel()], Y_NAMES)
    np.testing.assert_array_equal(np.array(d.classes)[d.y_test.ravel()],
                                  Y_NAMES[:5])
    assert d.name == "animals.npz"


def test_course_layout_file_is_recognised(tmp_path):
    path = tmp_path / "columns.npz"
    labels = (X[:, 0] > 0.5).astype(np.int64)
    np.savez(path, x=X.T, Y=labels.reshape(1, -1))
    d = datasets.load(path)
    np.testing.assert_array_equal(d.X, X.T)
    np.testing.assert_array_equal(d.y.ravel(), labels)
    assert d.classes == ["0", "1"]


def test_a_square_X_needs_file_layout(tmp_path):
    path = tmp_path / "square.npz"
    np.savez(path, X=X[:4], y=np.arange(4) % 2)
    with pytest.raises(ValueError, match="file_layout='sklearn'"):
        datasets.load(path)
    d = datasets.load(path, file_layout="course")
    np.testing.assert_array_equal(d.X, X[:4])


def test_integer_labels_that_are_not_0_to_c_minus_1(tmp_path):
    path = tmp_path / "codes.npz"
    np.savez(path, X=X[:6], y=np.array([3, 7, 7, 3, 9, 3]))
    d = datasets.load(path)
    assert d.classes == ["3", "7", "9"]
    np.testing.assert_array_equal(d.y.ravel(), [0, 1, 1, 0, 2, 0])


def test_real_targets_stay_real(tmp_path):
    path = tmp_path / "regression.npz"
    targets = X @ np.array([1.0, -2.0, 0.5, 3.0])
    np.savez(path, X=X, y=targets)
    d = datasets.load(path)
    assert d.classes is None
    np.testing.assert_array_equal(d.y.ravel(), targets)
    two = np.c_[targets, -targets]
    np.savez(path, X=X, y=two)
    d = datasets.load(path)
    assert d.y.shape == (2, 30)
    np.testing.assert_array_equal(d.y, two.T)


def test_h5_images_are_flattened_and_scaled(tmp_path):
    import h5py
    path = tmp_path / "images.h5"
    pixels = RNG.randint(0, 256, (7, 3, 3, 3)).astype(np.uint8)
    with h5py.File(path, "w") as f:
        f["train_set_x"] = pixels
        f["train_set_y"] = np.arange(7) % 2
        f["list_classes"] = np.array([b"no", b"yes"])
    d = datasets.load(path)
    assert d.X.shape == (27, 7)
    np.testing.assert_allclose(d.X, pixels.reshape(7, -1).T / 255.0)
    assert d.classes == ["no", "yes"]


def test_h5_declared_size_is_checked_before_reading(tmp_path, monkeypatch):
    import h5py
    path = tmp_path / "big.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("X", shape=(1000, 1000), dtype="f8")  # no data
        f["y"] = np.zeros(1000)
    monkeypatch.setattr(files, "MAX_BYTES", 1 << 20)
    with pytest.raises(ValueError, match="declares 8000000 bytes"):
        datasets.load(path)


def test_csv_with_a_named_label_column(tmp_path):
    path = tmp_path / "table.csv"
    lines = ["a,label,b,c,d"] + [
        "%r,%s,%r,%r,%r" % (float(r[0]), name, float(r[1]), float(r[2]),
                            float(r[3]))
        for r, name in zip(X, Y_NAMES)]
    path.write_text("\n".join(lines) + "\n")
    d, _ = _course_and_sklearn(path, label_column="label")
    np.testing.assert_array_equal(d.X, X.T)
    np.testing.assert_array_equal(np.array(d.classes)[d.y.ravel()], Y_NAMES)


def test_csv_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,y\n1,2,0\n1,x,1\n")
    with pytest.raises(ValueError, match="line 3: column 'b' holds 'x'"):
        datasets.load(path)
    path.write_text("a,b,y\n1,2,0\n1,1\n")
    with pytest.raises(ValueError, match="line 3 has 2 fields"):
        datasets.load(path)
    with pytest.raises(ValueError, match="no column 'z'"):
        datasets.load(path, label_column="z")


def test_missing_arrays_and_unknown_sources(tmp_path):
    path = tmp_path / "nolabels.npz"
    np.savez(path, X=X)
    with pytest.raises(ValueError, match="no label array"):
        datasets.load(path)
    with pytest.raises(ValueError, match="no array 'features'"):
        datasets.load(path, x_key="features")
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.load(str(tmp_path / "data.txt"))
    with pytest.raises(TypeError, match="source must be"):
        datasets.load(3)
    with pytest.raises(ValueError, match="layout must be"):
        datasets.load("planar", layout="rows")


@pytest.mark.parametrize("member", ["X", "y"])
def test_pickled_npz_is_refused(tmp_path, member):
    path = tmp_path / "objects.npz"
    arrays = {"X": np.ones((3, 2)), "y": np.arange(3)}
    arrays[member] = np.array([{"a": 1}] * 3, dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="objects.npz holds pickled Python "
                       "objects .*; fastdnn reads only numeric and text "
                       "arrays from a file and never unpickles"):
        datasets.load(path)


def test_text_features_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "words.npz"
    np.savez(path, X=np.array([["a", "b"]] * 4), y=np.arange(4) % 2)
    with pytest.raises(ValueError) as bad:
        datasets.load(path)
    assert str(bad.value) == ("%s: the features must be numbers, got dtype "
                              "<U1" % path)


@pytest.mark.parametrize("shape", [(0, 3), (4, 0)])
def test_an_npz_of_no_values_is_refused(tmp_path, shape):
    path = tmp_path / "empty.npz"
    np.savez(path, X=np.zeros(shape), y=np.zeros(shape[0]))
    with pytest.raises(ValueError, match="X holds no values"):
        datasets.load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    with pytest.raises(ValueError, match="regular file"):
        datasets.load(path)


@pytest.mark.parametrize("name", ["planar", "circles", "moons"])
def test_generated_sets_are_the_generators(name):
    d = datasets.load(name, layout="sklearn")
    make = {"planar": lambda: datasets.planar(layout="sklearn"),
            "circles": lambda: datasets.circles(300, 0.05, 1,
                                                layout="sklearn"),
            "moons": lambda: datasets.moons(300, 0.2, 3,
                                            layout="sklearn")}[name]
    X_, y_ = make()
    np.testing.assert_array_equal(d.X, X_)
    np.testing.assert_array_equal(d.y, y_)
    assert len(d.classes) == 2


def test_digits_when_sklearn_is_installed():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    d = datasets.load("digits")
    assert d.X.shape == (64, 1500) and d.y.shape == (1, 1500)
    assert d.X_test.shape == (64, 297) and d.y_test.shape == (1, 297)
    digits = load_digits()
    np.testing.assert_array_equal(np.c_[d.X, d.X_test],
                                  digits.data.T / 16.0)
    np.testing.assert_array_equal(np.c_[d.y, d.y_test].ravel(),
                                  digits.target)
    assert d.classes == [str(i) for i in range(10)]
    assert 0.0 <= d.X.min() and d.X.max() == 1.0


def test_cat_is_the_course_data():
    from fastdnn.data import find_data_dir, flatten_images, load_data
    try:
        find_data_dir()
    except FileNotFoundError:
        pytest.skip("the cat files are not here (set FASTDNN_DATA)")
    d = datasets.load("cat")
    train_x, train_y, test_x, test_y, _ = load_data()
    np.testing.assert_array_equal(d.X, flatten_images(train_x))
    np.testing.assert_array_equal(d.y, train_y)
    np.testing.assert_array_equal(d.X_test, flatten_images(test_x))
    assert d.classes == ["non-cat", "cat"]


def test_an_h5_path_that_is_not_a_regular_file_is_refused(tmp_path):
    # A FIFO would block HDF5's open forever.
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        datasets.load(fifo)
