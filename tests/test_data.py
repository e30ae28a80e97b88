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


def test_missing_data_names_files_and_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    with pytest.raises(FileNotFoundError) as exc:
        fastdnn.load_data(tmp_path)
    msg = str(exc.value)
    for part in ("train_catvnoncat.h5", "test_catvnoncat.h5", "FASTDNN_DATA",
                 str(tmp_path)):
        assert part in msg
    with pytest.raises(FileNotFoundError, match="FASTDNN_DATA is not set"):
        fastdnn.load_data()


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
