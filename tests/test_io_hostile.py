"""load_model on hostile model files: every corrupt or foreign file is a
ModelFileError naming the file and the problem, found without running code,
without allocating much more than the file's size and without hanging.

The files are assembled byte by byte (``_zip``) so that every field a
hostile user controls (names, flags, declared sizes, offsets, ``.npy``
headers) can be set to anything.
"""
import json
import os
import socket
import stat
import struct
import threading
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import fastdnn
from fastdnn import _npz_safety
from fastdnn import io as fio


def _params(dtype=np.float64, dims=(6, 4, 3, 1), seed=0):
    p = fastdnn.initialize_parameters_deep(list(dims), seed=seed)
    return {k: v.astype(dtype) for k, v in p.items()}


def _meta_text(**change):
    meta = {"format": "fastdnn-model", "format_version": 1,
            "layer_dims": [6, 4, 3, 1], "dtype": "float64",
            "activations": ["relu", "relu", "sigmoid"]}
    meta.update(change)
    return json.dumps(meta)


def _npy(array=None, header=None, version=(1, 0), magic=b"\x93NUMPY",
         data=None):
    """The bytes of an ``.npy`` file: ``array``'s, or a hand-written header
    dict text and data."""
    if header is None:
        header = repr({"descr": array.dtype.str, "fortran_order": False,
                       "shape": array.shape})
    if data is None:
        data = array.tobytes() if array is not None else b""
    text = header.encode("latin1")
    fmt = "<H" if version == (1, 0) else "<I"
    return magic + bytes(version) + struct.pack(fmt, len(text)) + text + data


def _member(name, raw, method=zipfile.ZIP_STORED, **fields):
    """One archive member: ``raw`` (uncompressed) bytes stored or deflated;
    ``fields`` override what the central directory declares
    (file_size, compress_size, crc, flags, external_attr, offset)."""
    if method == zipfile.ZIP_DEFLATED:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        payload = c.compress(raw) + c.flush()
    else:
        payload = raw
    m = {"name": name, "payload": payload, "method": method,
         "file_size": len(raw), "compress_size": len(payload),
         "crc": zlib.crc32(raw), "flags": 0, "external_attr": 0o644 << 16}
    m.update(fields)
    return m


def _zip(members, count=None):
    """A zip archive of ``members`` (from ``_member``), byte by byte; the
    end record declares ``count`` entries (default: the true number)."""
    out, central, size = [], [], 0
    for m in members:
        name = m["name"].encode("utf-8")
        offset = m.get("offset", size)
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, m["flags"],
                            m["method"], 0, 0x21, m["crc"],
                            m["compress_size"] & 0xFFFFFFFF,
                            m["file_size"] & 0xFFFFFFFF, len(name), 0)
        if "offset" not in m:
            out.append(local + name + m["payload"])
            size += len(out[-1])
        central.append(struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", (3 << 8) | 20, 20, m["flags"],
            m["method"], 0, 0x21, m["crc"], m["compress_size"] & 0xFFFFFFFF,
            m["file_size"] & 0xFFFFFFFF, len(name), 0, 0, 0, 0,
            m["external_attr"], offset) + name)
    central = b"".join(central)
    count = len(members) if count is None else count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count,
                      len(central), size, 0)
    return b"".join(out) + central + end


def _model_members(params=None, meta=None, method=zipfile.ZIP_STORED):
    params = _params() if params is None else params
    members = [_member(k + ".npy", _npy(np.ascontiguousarray(v)), method)
               for k, v in params.items()]
    text = _meta_text() if meta is None else meta
    members.append(_member(fio.METADATA_KEY + ".npy",
                           _npy(np.array(text)), method))
    return members


def _write(tmp_path, data, name="hostile.npz"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _refused(path, match):
    with pytest.raises(fastdnn.ModelFileError, match=match) as info:
        fastdnn.load_model(path)
    assert str(path) in str(info.value)  # names the file
    return info.value


def test_hand_assembled_model_loads(tmp_path):
    # the baseline of every hostile file below: without the damage it loads
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = _write(tmp_path, _zip(_model_members(method=method)))
        params, meta = fastdnn.load_model(path)
        for k, v in _params().items():
            assert params[k].tobytes() == v.tobytes()
        assert meta["layer_dims"] == [6, 4, 3, 1]


def test_compressed_and_fortran_order_files_still_load(tmp_path):
    # numpy.savez_compressed files (deflate) and Fortran-ordered arrays, as
    # numpy writes them, load bit for bit, writable like numpy.load's
    params = _params()
    params["W1"] = np.asfortranarray(params["W1"])
    path = tmp_path / "m.npz"
    np.savez_compressed(path, **params,
                        __fastdnn__=np.array(_meta_text()))
    loaded, _ = fastdnn.load_model(path)
    for k, v in params.items():
        assert loaded[k].shape == v.shape
        np.testing.assert_array_equal(loaded[k], v)
        assert loaded[k].flags.writeable
    assert loaded["W1"].flags.f_contiguous


def _bad_header(text):
    return _npy(header=text, data=b"\0" * 8)


def _replace(name, raw, **fields):
    """The model's members with ``name`` replaced (or added)."""
    members = [m for m in _model_members() if m["name"] != name]
    return members + [_member(name, raw, **fields)]


_W1 = _params()["W1"]
_SYMLINK = (stat.S_IFLNK | 0o777) << 16
_DIR = (stat.S_IFDIR | 0o755) << 16

#: (id, archive members, message). Every row loaded, or failed with another
#: exception than ModelFileError, or allocated without bound, before.
HOSTILE = [
    ("no-npy-magic", _replace("W1.npy", b"not an npy file at all" * 20),
     "not an .npy array"),
    ("corrupted-magic", _replace("W1.npy", _npy(_W1, magic=b"\x93NUMPX")),
     "not an .npy array"),
    ("name-without-npy", _replace("W9", _npy(_W1)), "not an .npy array"),
    ("unknown-non-npy-member", _replace("README.txt", b"hello"),
     "not an .npy array"),
    ("path-in-name", _replace("../W9.npy", _npy(_W1)), "not an .npy array"),
    ("duplicate-member", _model_members() + [_member("W1.npy", _npy(_W1))],
     "two archive members named 'W1.npy'"),
    ("symlink-member", [dict(m, external_attr=_SYMLINK) if m["name"] ==
                        "W1.npy" else m for m in _model_members()],
     "symbolic link"),
    ("directory-member", _model_members() + [
        _member("W9.npy/", b"", external_attr=_DIR)], "directory entry"),
    ("encrypted-member", [dict(m, flags=1) if m["name"] == "b1.npy" else m
                          for m in _model_members()], "encrypted"),
    ("bzip2-member", _replace("W1.npy", _npy(_W1), method=12),
     "compressed with zip method 12"),
    ("stored-size-lie", _replace("W1.npy", _npy(_W1),
                                 file_size=len(_npy(_W1)) + 8),
     "declares .* bytes but holds"),
    ("overlapping-members", _model_members() + [
        _member("W7.npy", _npy(_W1), offset=0)], "overlaps"),
    ("npy-version-9", _replace("W1.npy", _npy(_W1, version=(9, 0))),
     "unknown .npy format version"),
    ("header-too-long", _replace("W1.npy", _npy(_W1, version=(2, 0),
                                                header=" " * 20000)),
     "at most 10000"),
    ("header-not-literal", _replace("W1.npy", _bad_header(
        "{'descr': __import__('os').getcwd()}")), "corrupt .npy header"),
    ("header-deep-nesting", _replace("W1.npy", _bad_header(
        "-" * 9000 + "1")), "corrupt .npy header"),
    ("header-not-dict", _replace("W1.npy", _bad_header("[1, 2]")),
     "corrupt .npy header"),
    ("header-extra-key", _replace("W1.npy", _bad_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}")),
     "corrupt .npy header"),
    ("header-negative-shape", _replace("W1.npy", _bad_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}")),
     "corrupt .npy header"),
    ("structured-dtype", _replace("W1.npy", _bad_header(
        "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}")),
     "structured dtype"),
    ("datetime-dtype", _replace("W1.npy", _bad_header(
        "{'descr': '<M8[s]', 'fortran_order': False, 'shape': (1,)}")),
     "only plain float"),
    ("object-dtype", _replace("W1.npy", _bad_header(
        "{'descr': '|O', 'fortran_order': False, 'shape': (1,)}")),
     "pickled"),
    ("huge-shape-tiny-file", _replace("W1.npy", _bad_header(
        "{'descr': '<f8', 'fortran_order': False, "
        "'shape': (100000, 100000)}")), "declares shape"),
    ("huge-declared-size", _replace("W1.npy", _npy(_W1),
                                    method=zipfile.ZIP_DEFLATED,
                                    file_size=2 ** 31),
     "more than deflate can produce"),
    ("metadata-not-string", _replace(fio.METADATA_KEY + ".npy",
                                     _npy(np.ones(3))), "not a JSON string"),
    ("metadata-bad-code-point", _replace(
        fio.METADATA_KEY + ".npy",
        _npy(header="{'descr': '<U1', 'fortran_order': False, "
             "'shape': ()}", data=b"\xff\xff\xff\xff")),
     "not valid Unicode"),
]


@pytest.mark.parametrize("members,match", [row[1:] for row in HOSTILE],
                         ids=[row[0] for row in HOSTILE])
def test_hostile_archive_is_refused(tmp_path, members, match):
    _refused(_write(tmp_path, _zip(members)), match)


def _metadata_file(tmp_path, text):
    return _write(tmp_path, _zip(_model_members(meta=text)))


_GOOD = _meta_text()[:-1]  # without its closing brace, to append keys


@pytest.mark.parametrize("text,match", [
    ("[" * 100000 + "]" * 100000, "100000 levels deep"),
    (_GOOD + ', "x": ' + "[" * 32 + "]" * 32 + "}", "33 levels deep"),
    (_GOOD + ', "x": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
     "41 levels deep"),
    (_GOOD + ', "x": ' + "[" * 5000 + '"unterminated', "5001 levels deep"),
    (_GOOD + ', "x": "' + "[" * 5000, "not valid JSON"),
    (_GOOD + ', "x": NaN}', "NaN is not a number"),
    (_GOOD + ', "x": [Infinity]}', "Infinity is not a number"),
    (_GOOD + ', "x": -Infinity}', "-Infinity is not a number"),
    (_GOOD + ', "x": 1e999}', "does not fit a float"),
    (_GOOD + ', "x": ' + "9" * 5000 + "}", "5000 digits"),
    (_GOOD + ', "x": "\\ud800"}', "not valid Unicode"),
], ids=["deep-100000", "deep-33", "deep-dicts", "deep-unterminated",
        "unterminated", "nan",
        "infinity", "minus-infinity", "overflow", "huge-int",
        "lone-surrogate"])
def test_hostile_metadata_is_refused(tmp_path, text, match):
    _refused(_metadata_file(tmp_path, text), match)


def test_metadata_at_the_depth_limit_loads(tmp_path):
    # the metadata dict is level 1, so 31 more levels are allowed
    text = _GOOD + ', "x": ' + "[" * 31 + "]" * 31 + "}"
    meta = fastdnn.load_model(_metadata_file(tmp_path, text))[1]
    assert meta["x"] == json.loads("[" * 31 + "]" * 31)


def test_brackets_inside_strings_do_not_count(tmp_path):
    text = _GOOD + ', "x": "' + "[{" * 100 + '\\"[[[", "y": [["\\\\"]]}'
    meta = fastdnn.load_model(_metadata_file(tmp_path, text))[1]
    assert meta["x"] == "[{" * 100 + '"[[[' and meta["y"] == [["\\"]]


def _zeros_npy_deflated(nbytes, shape=None):
    """A deflated ``.npy`` header for ``shape`` (default: all the data)
    followed by ``nbytes`` zero bytes, compressed in chunks (the test itself
    never holds the uncompressed data)."""
    shape = (nbytes // 8,) if shape is None else shape
    head = _npy(header=repr({"descr": "<f8", "fortran_order": False,
                             "shape": shape}))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(head)
    payload = c.compress(head)
    chunk = bytes(1 << 20)
    for _ in range(nbytes >> 20):
        payload += c.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    payload += c.flush()
    return {"name": "W1.npy", "payload": payload,
            "method": zipfile.ZIP_DEFLATED, "file_size": len(head) + nbytes,
            "compress_size": len(payload), "crc": crc, "flags": 0,
            "external_attr": 0o644 << 16}


def test_decompression_bomb_is_refused_before_decompressing(tmp_path):
    # 128 MB of zeros in a file of about 130 kB: refused from the central
    # directory, without decompressing (the old numpy.load path allocated
    # the whole 128 MB first)
    members = [m for m in _model_members() if m["name"] != "W1.npy"]
    path = _write(tmp_path, _zip(members + [_zeros_npy_deflated(128 << 20)]))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        start = time.perf_counter()
        _refused(path, "refused before decompressing")
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    assert elapsed < 5


def test_bomb_under_the_cap_reads_only_what_it_declares(tmp_path):
    # a member whose deflate stream expands far beyond its declared size:
    # reading stops at the declared size (then the CRC, computed over the
    # whole stream, does not match)
    bomb = _zeros_npy_deflated(64 << 20, shape=_W1.shape)
    bomb["file_size"] = len(_npy(_W1))
    members = [m for m in _model_members() if m["name"] != "W1.npy"]
    path = _write(tmp_path, _zip(members + [bomb]))
    tracemalloc.start()
    try:
        with pytest.raises(fastdnn.ModelFileError):
            fastdnn.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak


@pytest.mark.parametrize("keep", [30, 200, 0.3, 0.6, 0.9, -23, -1])
def test_truncated_archive_is_refused(tmp_path, keep):
    data = _zip(_model_members(method=zipfile.ZIP_DEFLATED))
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    _refused(_write(tmp_path, data[:n]), "truncated or corrupt|not an .npz")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED,
                                    zipfile.ZIP_DEFLATED])
def test_every_single_byte_corruption_is_a_model_file_error(tmp_path,
                                                            method):
    # flip each byte of a small file in turn: the result loads or is a
    # ModelFileError, never another exception
    data = _zip(_model_members(params=_params(dims=(2, 1)),
                               meta=_meta_text(layer_dims=[2, 1],
                                               activations=["sigmoid"]),
                               method=method))
    path = tmp_path / "flip.npz"
    for i in range(len(data)):
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xA5]) + data[i + 1:])
        try:
            fastdnn.load_model(path)
        except fastdnn.ModelFileError as exc:
            assert str(path) in str(exc)


def test_too_many_members_is_refused(tmp_path):
    extra = [_member("x%d.npy" % i, b"") for i in range(2100)]
    _refused(_write(tmp_path, _zip(_model_members() + extra)),
             "at most 2001 entries")


def test_huge_central_directory_is_refused_before_parsing(tmp_path):
    # 60000 empty entries (3.4 MB of directory) behind an end record that
    # declares 7: zipfile would build 60000 ZipInfo objects (tens of MB)
    extra = [_member("x%05d.npy" % i, b"") for i in range(60000)]
    path = _write(tmp_path, _zip(_model_members() + extra, count=7))
    tracemalloc.start()
    try:
        _refused(path, "zip directory of 7 entries in .* bytes; at most "
                 "2001 entries")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_unknown_npy_member_refused_before_reading_data(tmp_path,
                                                        monkeypatch):
    read = []
    monkeypatch.setattr(_npz_safety, "read_array",
                        lambda zf, m: read.append(m) or np.zeros(1))
    path = _write(tmp_path, _zip(_model_members()
                                 + [_member("extra.npy", _npy(_W1))]))
    _refused(path, "unexpected array.*extra")
    assert read == []


# ------------------------------------------------ what the path points to

def test_directory_is_refused(tmp_path):
    _refused(tmp_path, "is a directory, not a regular file")


def test_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "fifo.npz"
    os.mkfifo(path)

    done = threading.Event()

    def unblock():
        # a reader blocked in open() (or read()) of the FIFO goes on once a
        # writer opens and closes it: without this, a regression would hang
        # the test session instead of failing
        if not done.wait(5):
            os.close(os.open(path, os.O_RDWR))

    t = threading.Thread(target=unblock, daemon=True)
    t.start()
    start = time.perf_counter()
    try:
        _refused(path, r"is a FIFO \(named pipe\), not a regular file")
    finally:
        done.set()
    assert time.perf_counter() - start < 4
    t.join()


def test_character_device_is_refused(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    _refused("/dev/zero", "is a character device, not a regular file")


def test_socket_is_refused(tmp_path):
    path = os.path.join(str(tmp_path), "s.npz")
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(path)
        _refused(path, "is a socket, not a regular file")
    finally:
        s.close()


def test_symlink_to_a_model_loads_and_missing_path_is_oserror(tmp_path):
    path = tmp_path / "real.npz"
    fastdnn.save_model(path, _params())
    link = tmp_path / "link.npz"
    link.symlink_to(path)
    assert fastdnn.load_model(link)[1]["layer_dims"] == [6, 4, 3, 1]
    (tmp_path / "dangling.npz").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):
        fastdnn.load_model(tmp_path / "dangling.npz")
