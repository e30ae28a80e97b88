"""Mini-batch training on data read a chunk at a time: an HDF5 file larger
than memory.

:func:`train_streamed` trains what ``L_layer_model(X, Y, layers_dims,
mini_batch_size=...)`` trains on the loaded arrays, with the same batches in
the same order (pass ``p`` shuffles with the toolbox's
:func:`~fastdnn._toolbox_options.pass_permutation`), the same optimizer
state and the same dropout masks, but never holds more of X than
``memory_limit`` allows: each pass is cut into chunks of whole batches,
each chunk's examples read from the file (in the permutation's order) and
trained on by a :class:`fastdnn._trainer.Trainer` that takes over the
optimizer state of the chunk before it. The parameters are those of the
in-memory run, bit for bit; the pass costs equal its costs to rounding (a
pass's weighted sum of batch costs is added up chunk by chunk).
"""
import numpy as np

from ._reference_training import _check_cost, _initial_parameters, _record
from ._toolbox_options import check_toolbox, learning_rates, pass_permutation
from ._validation_scalars import (check_dtype, check_int, check_layer_dims,
                                  check_learning_rate)
from ._validation_tables import (check_output, check_output_labels,
                                 check_output_units, check_training_options)

#: The default bound on the bytes of X held at once: 256 MiB.
DEFAULT_MEMORY_LIMIT = 256 << 20


def chunk_bytes_per_example(n_x, n_y, stored_itemsize, dtype):
    """Bytes one example of a chunk costs at the peak: its stored values
    and their float64 conversion while it is read, the training-dtype copy
    and the numba solver's transposed copy, its labels and its order."""
    itemsize = np.dtype(dtype).itemsize
    return (n_x * (stored_itemsize + 8 + 2 * itemsize)
            + n_y * (8 + 2 * itemsize) + 16)


def chunk_examples(m, mini_batch_size, per_example, memory_limit):
    """Examples per chunk: whole batches, as many as ``memory_limit`` holds
    (at least one batch; ``ValueError`` if one does not fit)."""
    batch = min(mini_batch_size, m)
    need = batch * per_example
    if need > memory_limit:
        raise ValueError(
            "memory_limit must hold one batch: %d bytes for %d examples, "
            "got %d; raise memory_limit or lower mini_batch_size"
            % (need, batch, memory_limit))
    batches = memory_limit // need
    return int(min(m, batches * batch))


def _open(source):
    from .datasets.h5_stream import H5Examples, open_h5

    if isinstance(source, H5Examples):
        return source, False
    try:
        return open_h5(source), True
    except TypeError:
        raise TypeError("source must be an H5Examples (from "
                        "fastdnn.datasets.open_h5) or the path of an HDF5 "
                        "file, got %s" % type(source).__name__) from None


def _check_labels(y, n_y, m, dtype, output, per_chunk):
    # Every label checked before any training, a chunk at a time (one-hot
    # labels of the whole set could outgrow the limit).
    for a in range(0, m, per_chunk):
        b = min(m, a + per_chunk)
        check_output_labels(y[:, a:b], (n_y, b - a), dtype, output, "y")


def train_streamed(source, layers_dims, learning_rate=0.0075,
                   num_iterations=1, print_cost=False, *, mini_batch_size,
                   memory_limit=DEFAULT_MEMORY_LIMIT, backend="numba",
                   callback=None, seed=1, activation="relu",
                   output="sigmoid", initialization="xavier", scale=None,
                   optimizer="gd", beta=0.9, beta1=0.9, beta2=0.999,
                   epsilon=1e-8, lambd=0.0, keep_prob=1.0, decay=None,
                   decay_rate=1.0, dtype="float64"):
    """Train on an HDF5 file with mini-batches, reading a chunk at a time.

    Parameters
    ----------
    source : H5Examples or str or os.PathLike
        :func:`fastdnn.datasets.open_h5`'s result (left open), or a file's
        path (opened and closed here). Its examples are X (n_x, m) as
        :func:`fastdnn.datasets.load` would give them, its labels y
        (1, m) or (n_y, m).
    layers_dims : list of int
        ``[n_x, n_1, ..., n_L]``.
    learning_rate, num_iterations, print_cost
        As ``L_layer_model``; an iteration is a pass over the file.
    mini_batch_size : int >= 1
        Required: a full batch would be the whole file.
    memory_limit : int
        Bytes of examples held at once (default 256 MiB); each pass reads
        chunks of as many whole batches as fit
        (:func:`chunk_bytes_per_example`).
    backend : {"numba", "numpy"}
        Which backend trains each chunk.
    callback, seed, activation, output, initialization, scale, optimizer, \
beta, beta1, beta2, epsilon, lambd, keep_prob, decay, decay_rate
        As ``L_layer_model``.
    dtype : {"float64", "float32"}
        Training dtype.

    Returns
    -------
    parameters : dict
        ``W1, b1, ..., WL, bL`` in ``dtype``.
    costs : list of 0-d ndarray
        The pass cost every 100 passes, as ``L_layer_model`` records it.

    Raises
    ------
    TypeError, ValueError
        Bad arguments or labels, before anything is trained.
    FloatingPointError
        When the cost stops being finite (the run diverged).
    """
    from ._trainer import Trainer

    data, opened = _open(source)
    try:
        output = check_output(output)
        dims = check_layer_dims(layers_dims, "layers_dims")
        check_output_units(dims, output)
        if dims[0] != data.n_x:
            raise ValueError("layers_dims[0] must be the number of features, "
                             "%d, got %d" % (data.n_x, dims[0]))
        learning_rate = check_learning_rate(learning_rate)
        num_iterations = check_int(num_iterations, "num_iterations", 0)
        if mini_batch_size is None:
            raise ValueError("mini_batch_size must be an int >= 1: a "
                             "streamed file trains in mini-batches")
        acts, initialization, scale = check_training_options(
            dims, activation, initialization, scale)
        toolbox = check_toolbox(
            seed=seed, m=data.m, optimizer=optimizer, beta=beta, beta1=beta1,
            beta2=beta2, epsilon=epsilon, mini_batch_size=mini_batch_size,
            lambd=lambd, keep_prob=keep_prob, decay=decay,
            decay_rate=decay_rate)
        if backend not in ("numba", "numpy"):
            raise ValueError("backend must be 'numba' or 'numpy', got %r"
                             % (backend,))
        dtype = check_dtype(dtype)
        memory_limit = check_int(memory_limit, "memory_limit", 1)
        per_chunk = chunk_examples(
            data.m, toolbox.mini_batch_size,
            chunk_bytes_per_example(data.n_x, dims[-1], data.itemsize,
                                    dtype),
            memory_limit)
        _check_labels(data.y, dims[-1], data.m, dtype, output, per_chunk)
        rates = learning_rates(learning_rate, num_iterations, toolbox)
        parameters = _initial_parameters(dims, seed, scale, initialization,
                                         acts, dtype)
        return _passes(data, parameters, acts, output, toolbox, rates,
                       backend, dtype, per_chunk, print_cost, callback,
                       Trainer)
    finally:
        if opened:
            data.close()


def _passes(data, parameters, acts, output, toolbox, rates, backend, dtype,
            per_chunk, print_cost, callback, trainer_class):
    m, n_y = data.m, parameters["W%d" % (len(parameters) // 2)].shape[0]
    # per_chunk is whole batches: every chunk's own batches are the pass's.
    cuts = list(range(0, m, per_chunk)) + [m]
    state, costs = None, []
    num_iterations = rates.shape[0]
    for p in range(num_iterations):
        order = pass_permutation(toolbox.seed, p, m)
        total = 0.0
        for a, b in zip(cuts[:-1], cuts[1:]):
            index = order[a:b]
            X = data.columns(index, dtype)
            Y = check_output_labels(data.y[:, index], (n_y, b - a), dtype,
                                    output, "y")
            trainer = trainer_class(backend, X, Y, parameters, acts, output,
                                    toolbox, state=state)
            del X  # the trainer holds what it needs
            cost = trainer.run(rates[p:p + 1],
                               np.arange(b - a, dtype=np.int64)[None])[0]
            if not np.isfinite(cost):
                _check_cost(cost, p, rates[0])
            parameters = trainer.parameters()
            state = trainer.state()
            del trainer, Y
            total += float(cost) * (b - a)
        pass_cost = np.array(total / m, dtype=dtype)
        _check_cost(pass_cost, p, rates[0])
        _record(p, num_iterations, pass_cost, costs, print_cost, callback)
    return parameters, costs
