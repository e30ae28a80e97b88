"""Save and load trained models as ``.npz`` files.

A fastdnn model file is an ordinary ``.npz`` archive (``numpy.savez``) that
holds only numeric arrays, ``W1``, ``b1``, ..., ``WL``, ``bL``, plus one
JSON string, ``__fastdnn__``, with the metadata: the layer sizes, the
activations, the dtype, the fastdnn version and whatever the caller adds
(the input image shape, the class names, the training settings...).

It is read with ``numpy.load(..., allow_pickle=False)``: loading a model
file never unpickles, so never executes, anything.
"""
import json
import numbers
import os
import re
import tempfile
import zipfile

import numpy as np

from . import _validation as v

#: Value of the ``format`` metadata key of every fastdnn model file.
FORMAT = "fastdnn-model"
#: Version of the file layout; :func:`load_model` refuses newer ones.
FORMAT_VERSION = 1
#: Name of the archive member that holds the JSON metadata.
METADATA_KEY = "__fastdnn__"
#: Metadata keys that :func:`save_model` computes itself.
RESERVED_KEYS = ("format", "format_version", "fastdnn_version", "layer_dims",
                 "activations", "dtype")

_PARAM_NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")
_ZIP_MAGIC = b"PK\x03\x04"


class ModelFileError(ValueError):
    """A file that is not a readable fastdnn model (truncated, corrupt,
    another format, or holding pickled objects)."""


def _jsonable(value, where):
    """``value`` with numpy scalars/arrays, tuples and bytes made JSON-native.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not np.isfinite(value):
            raise ValueError("metadata %s is %r; JSON has no NaN or infinity"
                             % (where, value))
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), where)
    if isinstance(value, (list, tuple)):
        return [_jsonable(x, "%s[%d]" % (where, i))
                for i, x in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, x in value.items():
            if not isinstance(k, str):
                raise TypeError("metadata %s has a key %r that is not a "
                                "string" % (where, k))
            out[k] = _jsonable(x, "%s[%r]" % (where, k))
        return out
    raise TypeError("metadata %s is a %s, which cannot be stored as JSON; "
                    "use numbers, strings, bytes, lists and dicts"
                    % (where, type(value).__name__))


def _check_parameters(parameters):
    L, Ws, bs = v.check_parameters(parameters)
    arrays = {}
    for l in range(1, L + 1):
        arrays["W%d" % l] = Ws[l - 1]
        arrays["b%d" % l] = bs[l - 1]
    dims = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
    return arrays, dims, Ws[0].dtype


def save_model(path, parameters, **metadata):
    """Write a trained network and its metadata to the ``.npz`` file ``path``.

    The file is written atomically: to a temporary file in the same folder,
    then renamed over ``path`` with :func:`os.replace`. A crash or an error
    mid-write leaves whatever was at ``path`` before untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write; used exactly as given (no ``.npz`` is appended).
    parameters : dict
        ``{"W1": ..., "b1": ..., ..., "WL": ..., "bL": ...}`` as returned by
        ``L_layer_model``; stored in their float dtype (float32 or float64),
        bit for bit.
    **metadata
        Anything JSON can hold, e.g. ``classes=["non-cat", "cat"]``,
        ``input_shape=[64, 64, 3]``. numpy numbers and arrays become numbers
        and lists, tuples become lists, bytes are decoded as UTF-8. The keys
        ``format``, ``format_version``, ``fastdnn_version``, ``layer_dims``,
        ``activations`` and ``dtype`` are filled in by fastdnn and cannot be
        passed.

    Returns
    -------
    path : str
        The path written.
    """
    from . import __version__

    arrays, dims, dtype = _check_parameters(parameters)
    clash = sorted(set(metadata) & set(RESERVED_KEYS))
    if clash:
        raise ValueError("metadata key(s) %s are computed by save_model and "
                         "cannot be passed" % ", ".join(clash))
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fastdnn_version": __version__,
        "layer_dims": dims,
        "activations": ["relu"] * (len(dims) - 2) + ["sigmoid"],
        "dtype": dtype.name,
    }
    meta.update(_jsonable(metadata, "metadata"))
    text = json.dumps(meta, sort_keys=True, allow_nan=False)
    arrays[METADATA_KEY] = np.array(text)

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        _set_mode(tmp, path)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _set_mode(tmp, path):
    # mkstemp creates the file 0600; give the model the mode of the file it
    # replaces, or the usual 0666 minus the umask for a new one.
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def load_model(path):
    """Read a model written by :func:`save_model`.

    Nothing is unpickled (``numpy.load(..., allow_pickle=False)``), so a
    malicious file cannot execute code.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    parameters : dict
        ``{"W1": ..., "b1": ..., ..., "WL": ..., "bL": ...}``, bit for bit
        the arrays that were saved, in their saved dtype; ready for
        ``predict`` and ``L_model_forward``.
    metadata : dict
        The JSON metadata: ``layer_dims``, ``activations``, ``dtype``,
        ``fastdnn_version``, ``format``, ``format_version``, plus the keys
        given to :func:`save_model`.

    Raises
    ------
    OSError
        The file is missing or unreadable (e.g. ``FileNotFoundError``).
    ModelFileError
        The file is not a valid fastdnn model: truncated, corrupt, another
        format, a newer format version, or holding pickled objects.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:  # OSError for a missing/unreadable file
        arrays = _read_arrays(path, f)
    meta = _read_metadata(path, arrays.pop(METADATA_KEY))
    parameters = _read_parameters(path, arrays, meta)
    return parameters, meta


def _read_arrays(path, f):
    # np.load gets an open file, closed by the caller whatever happens (it
    # leaks its own file handle when the zip directory is unreadable).
    if f.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
        raise ModelFileError("%s is not a fastdnn model file (not an .npz "
                             "archive)" % path)
    f.seek(0)
    try:
        with np.load(f, allow_pickle=False) as archive:
            if METADATA_KEY not in archive.files:
                raise ModelFileError(
                    "%s is an .npz archive but not a fastdnn model file (no "
                    "%s metadata)" % (path, METADATA_KEY))
            return {name: archive[name] for name in archive.files}
    except ModelFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelFileError(
                "%s holds pickled Python objects; fastdnn model files hold "
                "only numeric arrays and are never unpickled" % path) from None
        raise ModelFileError("%s is corrupt: %s" % (path, exc)) from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile,
            NotImplementedError, RuntimeError) as exc:
        raise ModelFileError("%s is truncated or corrupt: %s"
                             % (path, exc)) from None


def _read_metadata(path, raw):
    if raw.shape != () or raw.dtype.kind != "U":
        raise ModelFileError("%s: the %s member is not a JSON string"
                             % (path, METADATA_KEY))
    try:
        meta = json.loads(str(raw))
    except ValueError as exc:
        raise ModelFileError("%s: the metadata is not valid JSON (%s)"
                             % (path, exc)) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError("%s is not a fastdnn model file (metadata format "
                             "is not %r)" % (path, FORMAT))
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError("%s: bad format_version %r" % (path, version))
    if version > FORMAT_VERSION:
        raise ModelFileError(
            "%s was written in model format %d by fastdnn %s; this fastdnn "
            "reads format %d or older: upgrade fastdnn"
            % (path, version, meta.get("fastdnn_version", "?"),
               FORMAT_VERSION))
    return meta


def _read_parameters(path, arrays, meta):
    bad = sorted(n for n in arrays if not _PARAM_NAME.match(n))
    if bad:
        raise ModelFileError("%s: unexpected array(s) %s in a fastdnn model "
                             "file" % (path, ", ".join(bad)))
    L = len(arrays) // 2
    order = ["%s%d" % (k, l) for l in range(1, L + 1) for k in "Wb"]
    if L < 1 or sorted(arrays) != sorted(order):
        raise ModelFileError("%s: the parameters are not W1, b1, ..., WL, bL "
                             "(found %s)" % (path, ", ".join(sorted(arrays))))
    parameters = {name: arrays[name] for name in order}
    dtypes = {a.dtype for a in parameters.values()}
    if len(dtypes) != 1 or dtypes.pop() not in v.FLOAT_DTYPES:
        raise ModelFileError("%s: the parameters must all be float32 or all "
                             "float64" % path)
    try:
        _, dims, dtype = _check_parameters(parameters)
    except (TypeError, ValueError) as exc:
        raise ModelFileError("%s: invalid parameters: %s"
                             % (path, exc)) from None
    if meta.get("layer_dims") != dims or meta.get("dtype") != dtype.name:
        raise ModelFileError(
            "%s: the metadata (layer_dims %s, dtype %s) does not match the "
            "arrays (%s, %s)" % (path, meta.get("layer_dims"),
                                 meta.get("dtype"), dims, dtype.name))
    return parameters
