"""Save and load trained models as ``.npz`` files.

A fastdnn model file is an ordinary ``.npz`` archive (``numpy.savez``) that
holds only numeric arrays, ``W1``, ``b1``, ..., ``WL``, ``bL``, plus one
JSON string, ``__fastdnn__``, with the metadata: the layer sizes, the
network's activations (``activation``, one name per hidden layer, and
``output``, the output layer's, as the training functions take them), the
dtype, the fastdnn version and whatever the caller adds (the input image
shape, the class names, the training settings...).

A loaded model predicts with the activations it was saved with::

    parameters, meta = fastdnn.load_model("model.npz")
    p = fastdnn.predict(X, None, parameters, activation=meta["activation"],
                        output=meta["output"])

Model files may come from anyone, so :func:`load_model` trusts nothing in
them: it reads only regular files, checks the zip directory, every ``.npy``
header and the declared sizes before decompressing anything
(:mod:`fastdnn._npz_safety`), never unpickles (so never executes) anything,
allocates at most a small multiple of the file's size, and refuses every
problem with :class:`ModelFileError`.
"""
import json
import numbers
import os
import re

import numpy as np

from . import _atomic_write, _npz_safety
from . import _validation as v

#: Value of the ``format`` metadata key of every fastdnn model file.
FORMAT = "fastdnn-model"
#: Version of the file layout; :func:`load_model` refuses newer ones.
#: Version 2 added the ``activation`` and ``output`` keys. :func:`save_model`
#: writes version 1 for the course's network (ReLU hidden layers, sigmoid
#: output), which fastdnn 0.1 reads and predicts correctly, and version 2 for
#: any other, so that a fastdnn that knows only relu/sigmoid refuses it
#: ("upgrade fastdnn") instead of predicting it with the wrong activations.
FORMAT_VERSION = 2
#: The network of every file that has no ``activation``/``output`` keys
#: (format 1, written before they existed): the course's.
DEFAULT_ACTIVATION = "relu"
DEFAULT_OUTPUT = "sigmoid"
#: Name of the archive member that holds the JSON metadata.
METADATA_KEY = "__fastdnn__"
#: Metadata keys that :func:`save_model` computes itself.
RESERVED_KEYS = ("format", "format_version", "fastdnn_version", "layer_dims",
                 "activations", "activation", "output", "dtype")

#: Deepest nesting of lists and dicts in the metadata, counting the
#: metadata dict itself as level 1. :func:`save_model` refuses deeper (or
#: cyclic) metadata and :func:`load_model` refuses files holding deeper.
MAX_METADATA_DEPTH = 32
#: Most decimal digits of an integer in the metadata (Python's default
#: ``sys.get_int_max_str_digits()``; longer ones take quadratic time).
MAX_INT_DIGITS = 4300

_PARAM_NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")
_ZIP_MAGIC = b"PK\x03\x04"
_INT_LIMIT = 10 ** MAX_INT_DIGITS
# A JSON string (escapes included), a bracket, or the quote that opens an
# unterminated string; every match is linear and never backtracks far.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}"]', re.S)


class ModelFileError(ValueError):
    """A file that is not a readable fastdnn model (not a regular file,
    truncated, corrupt, another format, holding pickled objects, sizes out
    of proportion to the file, or metadata that is invalid or too deep).
    The message names the file and the problem."""


def _jsonable(value, where, depth=1, key=None):
    """``value`` with numpy scalars/arrays, tuples and bytes made JSON-native.

    ``depth`` is the nesting level of ``value`` if it is a list or dict, and
    ``key`` the top-level metadata key it belongs to, named when ``value`` is
    nested too deep.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        value = int(value)
        if abs(value) >= _INT_LIMIT:
            raise ValueError("metadata %s is an integer of more than %d "
                             "digits (MAX_INT_DIGITS); store it as a string"
                             % (where, MAX_INT_DIGITS))
        return value
    if isinstance(value, numbers.Real):
        value = float(value)
        if not np.isfinite(value):
            raise ValueError("metadata %s is %r; JSON has no NaN or infinity"
                             % (where, value))
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, (np.ndarray, list, tuple, dict)) \
            and depth > MAX_METADATA_DEPTH:
        raise ValueError(
            "metadata key %r is nested more than %d levels deep (the limit, "
            "MAX_METADATA_DEPTH, counts the metadata dict as level 1); a "
            "list or dict that contains itself cannot be saved either"
            % (key, MAX_METADATA_DEPTH))
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), where, depth, key)
    if isinstance(value, (list, tuple)):
        return [_jsonable(x, "%s[%d]" % (where, i), depth + 1, key)
                for i, x in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, x in value.items():
            if not isinstance(k, str):
                raise TypeError("metadata %s has a key %r that is not a "
                                "string" % (where, k))
            out[k] = _jsonable(x, "%s[%r]" % (where, k), depth + 1,
                               k if key is None else key)
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


def _network(dims, activation, output):
    """``(acts, output)``: the checked names of a network of ``dims``,
    refusing an output layer width the output cannot have (a C-class
    softmax model saved with the default sigmoid output would be predicted
    as C independent sigmoids)."""
    acts, output = v.check_model_names(activation, output, len(dims) - 1)
    v.check_output_units(dims, output, "the parameters' layer sizes")
    return list(acts), output


def _is_course_network(acts, output):
    return output == DEFAULT_OUTPUT and all(a == DEFAULT_ACTIVATION
                                            for a in acts)


def save_model(path, parameters, *, activation=DEFAULT_ACTIVATION,
               output=DEFAULT_OUTPUT, **metadata):
    """Write a trained network and its metadata to the ``.npz`` file ``path``.

    The file is written atomically: to a temporary file with a short name
    (``.fastdnn-XXXXXXXX.tmp``) in the same folder, flushed to disk, then
    renamed over ``path`` with :func:`os.replace`. A crash or an error
    mid-write leaves whatever was at ``path`` before untouched, and an
    exception, ``KeyboardInterrupt`` or (in the main thread, when SIGTERM has
    its default action) SIGTERM also removes the temporary file; the process
    then still terminates on SIGTERM, as it would have.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write; used exactly as given (no ``.npz`` is appended).
    parameters : dict
        ``{"W1": ..., "b1": ..., ..., "WL": ..., "bL": ...}`` as returned by
        ``L_layer_model``; stored in their float dtype (float32 or float64),
        bit for bit.
    activation : str or sequence of str, default "relu"
        The hidden layers' activation the network was trained with: one name
        for all, or one per hidden layer (L - 1 names), as ``L_layer_model``
        takes it. Stored as the list of L - 1 names ``activation``.
    output : {"sigmoid", "softmax", "identity"}, default "sigmoid"
        The output layer the network was trained with; it must suit the last
        layer's width (1 unit for sigmoid, C >= 2 for softmax). Stored as
        ``output``; ``activations`` holds the same names, one per layer.
    **metadata
        Anything JSON can hold, e.g. ``classes=["non-cat", "cat"]``,
        ``input_shape=[64, 64, 3]``. numpy numbers and arrays become numbers
        and lists, tuples become lists, bytes are decoded as UTF-8. The keys
        ``format``, ``format_version``, ``fastdnn_version``, ``layer_dims``,
        ``activations``, ``activation``, ``output`` and ``dtype`` are filled
        in by fastdnn and cannot be passed. Lists and dicts may nest
        :data:`MAX_METADATA_DEPTH` (32) levels deep, counting the metadata
        itself as level 1, and integers have at most :data:`MAX_INT_DIGITS`
        digits. ``fastdnn predict`` needs ``input_shape=[height, width, 3]``
        and, for a classifier, ``classes`` (2 names for a sigmoid output, C
        for a softmax one).

    Returns
    -------
    path : str
        The path written.

    Raises
    ------
    TypeError, ValueError
        Bad parameters, activation names or metadata (e.g. nested too deep,
        or cyclic); nothing is written.
    """
    from . import __version__

    arrays, dims, dtype = _check_parameters(parameters)
    acts, output = _network(dims, activation, output)
    clash = sorted(set(metadata) & set(RESERVED_KEYS))
    if clash:
        raise ValueError("metadata key(s) %s are computed by save_model and "
                         "cannot be passed" % ", ".join(clash))
    meta = {
        "format": FORMAT,
        "format_version": 1 if _is_course_network(acts, output)
        else FORMAT_VERSION,
        "fastdnn_version": __version__,
        "layer_dims": dims,
        "activation": acts,
        "output": output,
        "activations": acts + [output],
        "dtype": dtype.name,
    }
    meta.update(_jsonable(metadata, "metadata"))
    text = json.dumps(meta, sort_keys=True, allow_nan=False)
    arrays[METADATA_KEY] = np.array(text)

    path = _file_path(path)
    _atomic_write.write_atomically(path, lambda f: np.savez(f, **arrays))
    return path


def _file_path(path):
    # os.fspath's own message names neither the argument nor the fix.
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError("path must be a file name (str or os.PathLike), "
                        "got %s" % type(path).__name__)
    return os.fspath(path)


def load_model(path):
    """Read a model written by :func:`save_model`.

    The file is treated as untrusted: only a regular file is read; the zip
    directory, every ``.npy`` header and the declared sizes are checked
    before anything is decompressed; reads never go past the declared
    sizes, so memory stays within a small multiple of the file's size;
    nothing is ever unpickled, so a malicious file cannot execute code.

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
        The JSON metadata: ``layer_dims``, ``activation`` (the L - 1 hidden
        layers' names), ``output``, ``activations`` (one name per layer),
        ``dtype``, ``fastdnn_version``, ``format``, ``format_version``, plus
        the keys given to :func:`save_model`. ``activation`` and ``output``
        are always there: a file written before they existed holds the
        course's network, ``"relu"`` hidden layers and a ``"sigmoid"``
        output (or what its ``activations`` list says). Predict with them::

            fastdnn.predict(X, None, parameters,
                            activation=metadata["activation"],
                            output=metadata["output"])

    Raises
    ------
    OSError
        The file is missing or unreadable (e.g. ``FileNotFoundError``).
    ModelFileError
        The file is not a valid fastdnn model: not a regular file (a
        directory, FIFO, device or socket), truncated, corrupt, another
        format, a newer format version, holding pickled objects, non-numeric
        arrays, unknown members, sizes out of proportion to the file (a
        decompression bomb), or metadata that is not valid JSON, nests more
        than :data:`MAX_METADATA_DEPTH` levels, holds NaN or infinity, or
        activation names that are unknown, not one per layer, or do not
        suit the layer sizes.
    """
    path = _file_path(path)
    try:
        # OSError for a missing/unreadable file
        f, size = _npz_safety.open_regular(path)
    except _npz_safety.NpzError as exc:
        raise ModelFileError("%s %s" % (path, exc)) from None
    with f:
        arrays = _read_arrays(path, f, size)
    meta = _read_metadata(path, arrays.pop(METADATA_KEY))
    parameters = _read_parameters(path, arrays, meta)
    _read_network(path, meta)
    return parameters, meta


def _check_members(members):
    # Refuses what is not a fastdnn model from the headers alone, before
    # any array data is decompressed.
    if METADATA_KEY not in members:
        raise _npz_safety.NpzError(
            "is an .npz archive but not a fastdnn model file (no %s "
            "metadata)" % METADATA_KEY)
    bad = sorted(n for n in members
                 if n != METADATA_KEY and not _PARAM_NAME.match(n))
    if bad:
        raise _npz_safety.NpzError("has unexpected array(s) %s in a fastdnn "
                                   "model file" % ", ".join(bad))
    meta = members[METADATA_KEY]
    if meta.shape != () or meta.dtype.kind != "U":
        raise _npz_safety.NpzError("has a %s member that is not a JSON "
                                   "string" % METADATA_KEY)


def _read_arrays(path, f, size):
    if f.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
        raise ModelFileError("%s is not a fastdnn model file (not an .npz "
                             "archive)" % path)
    f.seek(0)
    try:
        return _npz_safety.read_npz(f, size, check=_check_members)
    except _npz_safety.NpzError as exc:
        raise ModelFileError("%s %s" % (path, exc)) from None


def _json_depth(text):
    """How deeply lists and dicts nest in the JSON ``text``, counted in
    linear time and without recursion (``json.loads`` recurses once per
    level and would raise ``RecursionError``)."""
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
        elif token == '"':
            break  # unterminated string: json.loads reports it
    return deepest


def _refuse_constant(name):
    raise ValueError("%s is not a number fastdnn metadata may hold" % name)


def _finite_float(text):
    value = float(text)
    if not np.isfinite(value):
        raise ValueError("the number %.40s does not fit a float" % text)
    return value


def _bounded_int(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("an integer of %d digits; at most %d are read"
                         % (len(text.lstrip("-")), MAX_INT_DIGITS))
    return int(text)


def _read_metadata(path, raw):
    if raw.shape != () or raw.dtype.kind != "U":
        raise ModelFileError("%s: the %s member is not a JSON string"
                             % (path, METADATA_KEY))
    text = str(raw[()])
    depth = _json_depth(text)
    if depth > MAX_METADATA_DEPTH:
        raise ModelFileError(
            "%s: the metadata nests lists and dicts %d levels deep; at most "
            "%d (MAX_METADATA_DEPTH) are read" % (path, depth,
                                                  MAX_METADATA_DEPTH))
    try:
        meta = json.loads(text, parse_constant=_refuse_constant,
                          parse_float=_finite_float, parse_int=_bounded_int)
    except ValueError as exc:
        raise ModelFileError("%s: the metadata is not valid JSON (%s)"
                             % (path, exc)) from None
    try:
        # a \ud800 escape decodes to a lone surrogate, which no UTF-8 text
        # (a terminal, a file) can hold
        json.dumps(meta, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ModelFileError("%s: the metadata is not valid Unicode text (a "
                             "lone surrogate escape)" % path) from None
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


def _read_network(path, meta):
    """Check the metadata's activation names against the (already checked)
    ``layer_dims`` and fill in ``activation`` and ``output``."""
    dims = meta["layer_dims"]
    L = len(dims) - 1
    per_layer = meta.get("activations")
    if per_layer is None:
        hidden, output = DEFAULT_ACTIVATION, DEFAULT_OUTPUT
    elif not isinstance(per_layer, list) or len(per_layer) != L:
        raise ModelFileError(
            "%s: the metadata's activations is not a list of %d names, one "
            "per layer (layer_dims %s): %.200r" % (path, L, dims, per_layer))
    else:
        hidden, output = per_layer[:-1], per_layer[-1]
    hidden = meta.get("activation", hidden)
    output = meta.get("output", output)
    try:
        acts, output = _network(dims, hidden, output)
    except (TypeError, ValueError) as exc:
        raise ModelFileError("%s: the metadata's activation/output do not "
                             "describe this network: %s"
                             % (path, exc)) from None
    if per_layer is not None and per_layer != acts + [output]:
        raise ModelFileError(
            "%s: the metadata's activations %.200r disagree with its "
            "activation %r and output %r" % (path, per_layer, acts, output))
    meta["activation"] = acts
    meta["output"] = output
