import os

import numpy as np
import pytest
from PIL import Image

import fastdnn
from fastdnn import data


def test_load_data_shapes(data_dir):
    train_x, train_y, test_x, test_y, classes = fastdnn.load_data(data_dir)
    assert train_x.shape == (209, 64, 64, 3) and train_x.dtype == np.uint8
    assert test_x.shape == (50, 64, 64, 3)
    assert train_y.shape == (1, 209) and test_y.shape == (1, 50)
    assert list(classes) == [b"non-cat", b"cat"]
    # The seed: image 10 is a non-cat, its first pixels 17 31 56 22 33.
    assert train_y[0, 10] == 0
    X = fastdnn.flatten_images(train_x)
    assert X.shape == (12288, 209) and X.dtype == np.float64
    np.testing.assert_array_equal(train_x.reshape(209, -1).T[:5, 0],
                                  [17, 31, 56, 22, 33])
    np.testing.assert_allclose(X[:5, 0], [0.06666667, 0.12156863, 0.21960784,
                                          0.08627451, 0.12941176], atol=5e-9)


def test_load_data_uses_environment(data_dir, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, data_dir)
    assert fastdnn.load_data()[0].shape == (209, 64, 64, 3)


def _write_h5(path, **datasets):
    import h5py
    with h5py.File(path, "w") as f:
        for key, value in datasets.items():
            if value is GROUP:
                f.create_group(key)
            else:
                f[key] = value


GROUP = object()


def _course_files(folder, train=None, test=None, m=(6, 3), px=4):
    """Small dataset files in the course's layout; ``train`` / ``test``
    override (or, with None values, remove) some of their datasets."""
    rng = np.random.RandomState(0)
    folder.mkdir(parents=True, exist_ok=True)
    parts = {}
    for name, n, over in (("train", m[0], train), ("test", m[1], test)):
        d = {"%s_set_x" % name: rng.randint(0, 256, (n, px, px, 3))
             .astype(np.uint8),
             "%s_set_y" % name: (np.arange(n) % 2).astype(np.int64)}
        if name == "test":
            d["list_classes"] = np.array([b"non-cat", b"cat"])
        d.update(over or {})
        d = {k: val for k, val in d.items() if val is not None}
        _write_h5(folder / ("%s_catvnoncat.h5" % name), **d)
        parts[name] = d
    return parts


def test_small_files_load_in_the_course_layout(tmp_path):
    parts = _course_files(tmp_path)
    train_x, train_y, test_x, test_y, classes = fastdnn.load_data(tmp_path)
    np.testing.assert_array_equal(train_x, parts["train"]["train_set_x"])
    assert train_y.shape == (1, 6) and test_y.shape == (1, 3)
    assert test_x.shape == (3, 4, 4, 3) and test_x.dtype == np.uint8
    assert list(classes) == [b"non-cat", b"cat"]


def test_explicit_path_is_used_or_refused(tmp_path, monkeypatch):
    """A folder without the files is refused, even when $FASTDNN_DATA or
    ./datasets holds them: no silent fall-back to other data."""
    good = tmp_path / "good"
    _course_files(good)
    monkeypatch.setenv(data.DATA_ENV, str(good))
    monkeypatch.chdir(tmp_path)
    _course_files(tmp_path / "datasets")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as exc:
        fastdnn.load_data(empty)
    msg = str(exc.value)
    for part in ("train_catvnoncat.h5", "test_catvnoncat.h5", str(empty),
                 "FASTDNN_DATA", "./datasets"):
        assert part in msg
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fastdnn.load_data(tmp_path / "nowhere")
    # one file only: the message names the missing one
    half = tmp_path / "half"
    _course_files(half)
    (half / "test_catvnoncat.h5").unlink()
    with pytest.raises(FileNotFoundError, match="has no test_catvnoncat.h5"):
        fastdnn.load_data(half)
    with pytest.raises(ValueError, match="empty string"):
        fastdnn.load_data("")


def test_environment_is_used_or_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _course_files(tmp_path / "datasets", m=(5, 2))
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="FASTDNN_DATA = .*empty"):
        fastdnn.load_data()


def test_default_is_datasets_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as exc:
        fastdnn.load_data()
    msg = str(exc.value)
    for part in ("FASTDNN_DATA is not set", "datasets", "--data",
                 "train_catvnoncat.h5"):
        assert part in msg
    _course_files(tmp_path / "datasets", m=(5, 2))
    assert fastdnn.load_data()[0].shape == (5, 4, 4, 3)
    monkeypatch.setenv(data.DATA_ENV, "")  # empty: as if not set
    assert fastdnn.load_data()[1].shape == (1, 5)


@pytest.mark.parametrize("train,test,match", [
    ({"train_set_x": None}, {}, "train_catvnoncat.h5 has no dataset "
                                "'train_set_x'"),
    ({}, {"list_classes": None}, "test_catvnoncat.h5 has no dataset "
                                 "'list_classes'"),
    ({"train_set_y": GROUP}, {}, "'train_set_y' is a group"),
    ({"train_set_x": np.zeros((6, 4, 4), np.uint8)}, {},
     "'train_set_x' must have the shape"),
    ({"train_set_x": np.zeros((6, 4, 4, 4), np.uint8)}, {},
     "'train_set_x' must have the shape"),
    ({"train_set_x": np.zeros((6, 4, 4, 3))}, {},
     "'train_set_x' must hold uint8 pixels"),
    ({"train_set_x": np.zeros((0, 4, 4, 3), np.uint8),
      "train_set_y": np.zeros(0, np.int64)}, {}, "'train_set_x' holds no "
                                                 "images"),
    ({"train_set_y": np.zeros(5, np.int64)}, {},
     r"'train_set_y' must hold one label per image of 'train_set_x' \(6\)"),
    ({}, {"test_set_y": np.zeros((3, 2), np.int64)},
     "'test_set_y' must hold one label per image"),
    ({"train_set_y": np.full(6, 0.5)}, {}, "'train_set_y' must hold "
                                           "integer"),
    ({"train_set_y": np.arange(6)}, {}, "only 0 and 1 labels"),
    ({}, {"list_classes": np.array([b"a", b"b", b"c"])},
     "'list_classes' must hold the two class names"),
    ({}, {"test_set_x": np.zeros((3, 5, 5, 3), np.uint8)},
     "differ in size"),
])
def test_corrupt_files_are_refused_on_load(tmp_path, train, test, match):
    _course_files(tmp_path, train, test)
    with pytest.raises(ValueError, match=match) as exc:
        fastdnn.load_data(tmp_path)
    assert str(tmp_path) in str(exc.value) or "differ" in str(exc.value)


def test_a_file_that_is_not_hdf5(tmp_path):
    _course_files(tmp_path)
    (tmp_path / "test_catvnoncat.h5").write_text("not hdf5")
    with pytest.raises(OSError, match="cannot read .*test_catvnoncat.h5 as "
                                      "an HDF5 file"):
        fastdnn.load_data(tmp_path)


def test_a_dataset_declared_too_large_is_refused_before_it_is_read(tmp_path):
    # A file of a few kilobytes can declare any size: its chunks unwritten,
    # they read as zeros. It is refused from its declared size.
    import h5py
    from fastdnn.datasets.files import MAX_BYTES
    _course_files(tmp_path)
    n = MAX_BYTES // (64 * 64 * 3) + 1
    with h5py.File(tmp_path / "train_catvnoncat.h5", "w") as f:
        f.create_dataset("train_set_x", shape=(n, 64, 64, 3), dtype=np.uint8,
                         chunks=(1, 64, 64, 3))
        f["train_set_y"] = np.zeros(1, np.int64)
    assert (tmp_path / "train_catvnoncat.h5").stat().st_size < 1 << 20
    with pytest.raises(ValueError, match=r"'train_set_x' declares \d+ bytes, "
                       "more than the"):
        fastdnn.load_data(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_in_place_of_a_file_is_refused_without_waiting(tmp_path):
    _course_files(tmp_path)
    (tmp_path / "train_catvnoncat.h5").unlink()
    os.mkfifo(tmp_path / "train_catvnoncat.h5")
    with pytest.raises(FileNotFoundError, match="has no "
                                                "train_catvnoncat.h5"):
        fastdnn.load_data(tmp_path)


def test_print_mislabeled_images_is_the_course_helper():
    from matplotlib.figure import Figure
    X = np.random.RandomState(0).rand(4 * 4 * 3, 5)
    y = np.array([[1, 0, 1, 0, 1]])
    p = np.array([[1, 1, 0, 0, 1]])
    fig = data.print_mislabeled_images(np.array([b"non-cat", b"cat"]), X, y,
                                       p)
    assert isinstance(fig, Figure)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == [
        "Prediction: cat \n Class: non-cat",
        "Prediction: non-cat \n Class: cat"]
    np.testing.assert_allclose(shown[1].images[0].get_array(),
                               X[:, 2].reshape(4, 4, 3))
    fig = data.print_mislabeled_images(["no", "yes"], X, y, p, max_images=1)
    assert len([ax for ax in fig.axes if ax.images]) == 1
    assert "1 left out" in fig.get_suptitle()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_load_image_any_mode_and_size(tmp_path, mode):
    img = Image.new(mode, (37, 20))
    path = tmp_path / ("x." + ("png" if mode != "RGB" else "jpg"))
    img.save(path)
    x = fastdnn.load_image(path, num_px=8)
    assert x.shape == (8 * 8 * 3, 1) and x.dtype == np.float64
    assert 0 <= x.min() and x.max() <= 1


def test_load_image_seed_photo():
    import pathlib
    photo = pathlib.Path(__file__).parents[1] / ".." / "shared" / "images"
    path = photo / "cat_in_iran.jpg"
    if not path.exists():
        pytest.skip("no ../shared/images beside the checkout")
    x = fastdnn.load_image(path)
    assert x.shape == (12288, 1)
    assert 0 < x.mean() < 1
