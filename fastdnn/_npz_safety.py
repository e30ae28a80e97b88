"""Read ``.npz`` archives that may have been crafted to do harm.

``numpy.load`` trusts an archive's declared sizes and decompresses a member
before looking at it, so a 1.5 MB file can make it allocate gigabytes, and a
member that is not an ``.npy`` array comes back as raw bytes. This module
reads an archive in steps, each bounded by what the previous one checked:

0. the zip end-of-directory record: the directory's declared entry count
   and size;
1. the zip central directory: member names, count, flags, compression
   methods, declared sizes (against the file's real size) and positions
   (members must not overlap);
2. each member's ``.npy`` header, parsed here: magic, version, a capped
   header length, a Python literal dict read with :func:`ast.literal_eval`,
   a plain numeric or Unicode dtype (never an object dtype: nothing is ever
   unpickled), and a shape whose byte count equals the member's declared
   size;
3. only then the data, with reads that never ask for more bytes than were
   declared, into one buffer of exactly that size.

Problems raise :class:`NpzError` with a message that reads after a file
name ("x.npz is truncated or corrupt: ...").
"""
import ast
import collections
import os
import stat
import struct
import zipfile
import zlib

import numpy as np

#: At most this many archive members (a model of 1000 layers has 2001).
MAX_MEMBERS = 2001
#: Largest zip central directory read: 1 kB per member on average (a
#: model's entries take about 100 bytes each).
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 1024
#: Longest ``.npy`` header accepted, in bytes (numpy's own default cap).
MAX_HEADER_LEN = 10000
#: Most dimensions an array may declare.
MAX_NDIM = 32
#: The members may declare at most this many times the file's size...
MAX_EXPANSION = 16
#: ...plus this many bytes (small files of well-compressed zeros).
EXPANSION_SLACK = 1 << 20
# Deflate cannot expand by more than about 1032:1; a member claiming more
# is lying about its size.
_DEFLATE_MAX_RATIO = 1032
_NPY_MAGIC = b"\x93NUMPY"
_CHUNK = 1 << 20
# Zip local file header: fixed part before the name and extra field.
_LOCAL_HEADER_LEN = 30
# Errors the zipfile module raises for a damaged archive or member.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
               struct.error, zlib.error, KeyError, IndexError, OverflowError,
               ValueError, NotImplementedError, RuntimeError)

#: One member that passed steps 1 and 2: its zip entry and its array layout.
Member = collections.namedtuple(
    "Member", "info dtype shape fortran_order header_len nbytes")


class NpzError(ValueError):
    """An archive that is not a safe, well-formed ``.npz`` of plain arrays.
    """


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _require_regular(st):
    if not stat.S_ISREG(st.st_mode):
        raise NpzError("is %s, not a regular file; a model file must be a "
                       "regular file" % _kind(st.st_mode))


def open_regular(path):
    """Open ``path`` for binary reading if it is a regular file.

    A FIFO would block the reader forever, a device could be endless, a
    directory or a socket cannot be read: all are refused by their
    ``stat`` before reading. The open itself is non-blocking, so a FIFO
    swapped in after the ``stat`` cannot hang it either (the second,
    ``fstat`` check then refuses it).

    Returns
    -------
    f : file object
        The open file, positioned at its start; the caller closes it.
    size : int
        The file's size in bytes.

    Raises
    ------
    OSError
        ``path`` is missing (``FileNotFoundError``) or unreadable.
    NpzError
        ``path`` is not a regular file.
    """
    _require_regular(os.stat(path))
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        _require_regular(st)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return f, st.st_size


def _check_end_record(f):
    """Step 0: refuse a central directory too large to parse.

    ``zipfile.ZipFile`` reads the whole directory and makes an object per
    entry before anything can be checked: a few MB of tiny entries would
    cost hundreds of MB. The end-of-directory record (found the way
    ``zipfile`` finds it, with its own ``_EndRecData``) declares the
    directory's entry count and size, and is checked first.
    """
    find = getattr(zipfile, "_EndRecData", None)
    if find is None:  # a zipfile without it: its parse is still bounded
        return        # by the file's size
    endrec = find(f)
    f.seek(0)
    if endrec is None:
        return  # no end record: ZipFile reports it
    count = endrec[getattr(zipfile, "_ECD_ENTRIES_TOTAL", 4)]
    size = endrec[getattr(zipfile, "_ECD_SIZE", 5)]
    if count > MAX_MEMBERS or size > MAX_DIRECTORY_BYTES:
        raise NpzError("has a zip directory of %d entries in %d bytes; at "
                       "most %d entries in %d bytes are read"
                       % (count, size, MAX_MEMBERS, MAX_DIRECTORY_BYTES))


def _check_directory(zf, file_size):
    """Step 1: refuse a central directory that is malformed or a bomb."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise NpzError("has %d archive members; at most %d are read"
                       % (len(infos), MAX_MEMBERS))
    seen = set()
    for info in infos:
        name = info.filename
        if name in seen:
            raise NpzError("has two archive members named %r" % name)
        seen.add(name)
        if info.is_dir() or stat.S_ISDIR(info.external_attr >> 16):
            raise NpzError("has a directory entry %r; only .npy arrays are "
                           "expected" % name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise NpzError("has a symbolic link %r; only .npy arrays are "
                           "expected" % name)
        stem = name[:-len(".npy")]
        if (not name.endswith(".npy") or not stem or "/" in stem
                or "\\" in stem or "\0" in stem):
            raise NpzError("has an archive member %r that is not an .npy "
                           "array (the name must be <name>.npy)" % name)
        if info.flag_bits & 0x1:
            raise NpzError("has an encrypted member %r" % name)
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise NpzError("is corrupt: stored member %r declares %d "
                               "bytes but holds %d" % (name, info.file_size,
                                                       info.compress_size))
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 64:
                raise NpzError(
                    "is corrupt: member %r declares %d bytes from %d "
                    "compressed ones, more than deflate can produce"
                    % (name, info.file_size, info.compress_size))
        else:
            raise NpzError("has member %r compressed with zip method %d; "
                           "only stored and deflate members are read"
                           % (name, info.compress_type))
    declared = sum(info.file_size for info in infos)
    limit = MAX_EXPANSION * file_size + EXPANSION_SLACK
    if declared > limit:
        raise NpzError(
            "declares %d bytes of arrays in a file of %d bytes, more than "
            "%d times its size plus %d: refused before decompressing (a "
            "decompression bomb or a corrupt file)"
            % (declared, file_size, MAX_EXPANSION, EXPANSION_SLACK))
    # Members must lie one after the other before the central directory:
    # overlapping members would let one compressed block count many times.
    end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < end:
            raise NpzError("is corrupt: archive member %r overlaps the one "
                           "before it" % info.filename)
        end = info.header_offset + _LOCAL_HEADER_LEN + info.compress_size
    if end > zf.start_dir:
        raise NpzError("is truncated or corrupt: the archive members run "
                       "past the start of the central directory")
    return infos


def _read_exact(fp, n, name):
    data = fp.read(n)
    if len(data) != n:
        raise NpzError("is truncated or corrupt: member %r ends early"
                       % name)
    return data


def _parse_descr(descr, name):
    """The dtype of a plain numeric or Unicode ``descr`` string."""
    if not isinstance(descr, str):
        raise NpzError("member %r has a structured dtype; only plain "
                       "numeric arrays are read" % name)
    body = descr.lstrip("<>|=")
    if body[:1] == "O" and body[1:] in ("", "4", "8"):
        raise NpzError("holds pickled Python objects (member %r has an "
                       "object dtype); fastdnn reads only numeric and text "
                       "arrays from a file and never unpickles" % name)
    ok = len(descr) - len(body) <= 1 and (
        (body[:1] in ("f",) and body[1:] in ("2", "4", "8"))
        or (body[:1] in ("i", "u") and body[1:] in ("1", "2", "4", "8"))
        or (body[:1] == "U" and body[1:].isdigit()
            and len(body[1:]) <= 9 and int(body[1:]) > 0))
    if not ok:
        raise NpzError("member %r has dtype %r; only plain float, integer "
                       "and Unicode arrays are read" % (name, descr))
    return np.dtype(descr)


def _read_header(fp, name):
    """Step 2: parse one ``.npy`` header; return (dtype, shape, fortran,
    header length in bytes)."""
    lead = _read_exact(fp, 8, name)
    if lead[:6] != _NPY_MAGIC:
        raise NpzError("has a member %r that is not an .npy array (no .npy "
                       "magic number)" % name)
    version = (lead[6], lead[7])
    if version == (1, 0):
        (hlen,) = struct.unpack("<H", _read_exact(fp, 2, name))
        start, encoding = 10, "latin1"
    elif version in ((2, 0), (3, 0)):
        (hlen,) = struct.unpack("<I", _read_exact(fp, 4, name))
        start = 12
        encoding = "latin1" if version == (2, 0) else "utf8"
    else:
        raise NpzError("member %r has unknown .npy format version %d.%d"
                       % ((name,) + version))
    if hlen > MAX_HEADER_LEN:
        raise NpzError("member %r has an .npy header of %d bytes; at most %d "
                       "are read" % (name, hlen, MAX_HEADER_LEN))
    try:
        text = _read_exact(fp, hlen, name).decode(encoding)
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError,
            RecursionError):
        raise NpzError("member %r has a corrupt .npy header" % name) \
            from None
    if (not isinstance(header, dict)
            or set(header) != {"descr", "fortran_order", "shape"}):
        raise NpzError("member %r has a corrupt .npy header (not a dict of "
                       "descr, fortran_order and shape)" % name)
    shape, fortran = header["shape"], header["fortran_order"]
    if (not isinstance(shape, tuple) or len(shape) > MAX_NDIM
            or not all(type(n) is int and n >= 0 for n in shape)
            or not isinstance(fortran, bool)):
        raise NpzError("member %r has a corrupt .npy header (shape %r, "
                       "fortran_order %r)" % (name, shape, fortran))
    dtype = _parse_descr(header["descr"], name)
    return dtype, shape, fortran, start + hlen


def inspect(zf, file_size):
    """Steps 1 and 2 for every member of the open archive ``zf``.

    Nothing beyond the ``.npy`` headers is decompressed.

    Parameters
    ----------
    zf : zipfile.ZipFile
    file_size : int
        The real size of the file, the base of the size caps.

    Returns
    -------
    members : dict
        ``{name without .npy: Member}`` in archive order.
    """
    members = {}
    for info in _check_directory(zf, file_size):
        name = info.filename
        with zf.open(info) as fp:
            dtype, shape, fortran, hlen = _read_header(fp, name)
        nbytes = dtype.itemsize
        for n in shape:
            nbytes *= n
        if hlen + nbytes != info.file_size:
            raise NpzError(
                "member %r declares shape %s of %s (%d bytes of data) but "
                "the archive holds %d bytes for it" % (
                    name, shape, dtype.str, nbytes,
                    max(info.file_size - hlen, 0)))
        members[name[:-len(".npy")]] = Member(info, dtype, shape, fortran,
                                              hlen, nbytes)
    return members


def read_array(zf, member):
    """Step 3: the array of a member checked by :func:`inspect`.

    Reads exactly the declared bytes, in chunks, into one buffer of that
    size; a member whose data ends early or fails its CRC is refused.
    """
    name = member.info.filename
    buf = bytearray(member.nbytes)
    view = memoryview(buf)
    with zf.open(member.info) as fp:
        _read_exact(fp, member.header_len, name)
        pos = 0
        while pos < member.nbytes:
            chunk = fp.read(min(_CHUNK, member.nbytes - pos))
            if not chunk:
                raise NpzError("is truncated or corrupt: member %r ends "
                               "early" % name)
            view[pos:pos + len(chunk)] = chunk
            pos += len(chunk)
        if fp.read(1):  # also makes zipfile check the CRC at the end
            raise NpzError("is corrupt: member %r is longer than declared"
                           % name)
    view.release()
    if member.dtype.kind == "U":
        # numpy turns invalid code points into a SystemError when read.
        codec = "utf-32-be" if member.dtype.byteorder == ">" else "utf-32-le"
        try:
            buf.decode(codec)
        except UnicodeDecodeError as exc:
            raise NpzError("member %r is not valid Unicode text (%s)"
                           % (name, exc.reason)) from None
    shape = member.shape[::-1] if member.fortran_order else member.shape
    array = np.frombuffer(buf, dtype=member.dtype).reshape(shape)
    return array.T if member.fortran_order else array


def read_npz(f, file_size, check=None):
    """Every array of the ``.npz`` open as ``f``, read safely.

    Parameters
    ----------
    f : binary file object
    file_size : int
    check : callable, optional
        Called with the ``{name: Member}`` dict of :func:`inspect` before
        any data is read, to refuse unwanted members early.

    Returns
    -------
    arrays : dict
        ``{name: ndarray}``, writable arrays in archive order.
    """
    try:
        _check_end_record(f)
        with zipfile.ZipFile(f) as zf:
            members = inspect(zf, file_size)
            if check is not None:
                check(members)
            return {name: read_array(zf, m) for name, m in members.items()}
    except NpzError:
        raise
    except _ZIP_ERRORS as exc:
        raise NpzError("is truncated or corrupt: %s" % (exc,)) from None
