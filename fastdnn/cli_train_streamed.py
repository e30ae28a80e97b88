"""``fastdnn train`` on an HDF5 file larger than ``--memory-limit``, with
``--batch-size``: trained a chunk at a time
(:func:`fastdnn.streaming.train_streamed`) and scored a block at a time,
the features never read whole."""
import contextlib
import os
import time

import numpy as np

from . import cli_data
from .cli_args import UsageError
from .cli_train_args import infer_output

#: The file endings streamed.
H5_EXTENSIONS = (".h5", ".hdf5")


def applies(args):
    """Whether ``args`` train on an HDF5 file whose features outgrow
    ``--memory-limit``, with mini-batches."""
    source = getattr(args, "dataset", None)
    if args.batch_size is None or not source or \
            os.path.splitext(source)[1].lower() not in H5_EXTENSIONS or \
            not os.path.isfile(source):
        return False
    from .datasets import open_h5

    try:
        with open_h5(source) as data:
            return data.nbytes > args.memory_limit * (1 << 20)
    except (OSError, ValueError):
        return False  # the normal loader reports what is wrong


def _scores(backend, parameters, network, source, dtype, block):
    """:func:`fastdnn.cli_train.scores` of ``source``, a block of examples
    at a time."""
    from .cli_train import labels

    output = network["output"]
    y = source.y
    correct, ss_res = 0, np.zeros(y.shape[0])
    for a in range(0, source.m, block):
        b = min(source.m, a + block)
        AL, _ = backend.L_model_forward(source.block(a, b, dtype),
                                        parameters, **network)
        AL = np.asarray(AL, dtype=np.float64)
        if output == "identity":
            ss_res += np.sum((y[:, a:b] - AL) ** 2, axis=1)
        else:
            correct += int(np.sum(labels(output, AL) == y[:, a:b]))
    if output != "identity":
        return {"accuracy": correct / source.m}
    ss_tot = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, 0.0)
    return {"mse": float(np.sum(ss_res) / y.size), "r2": float(np.mean(r2))}


def _open_test(path, classes):
    from .datasets import open_h5

    try:
        return open_h5(path, split="test", classes=classes)
    except ValueError as exc:
        if "no test" in str(exc):
            return None
        raise


def train(args, backend, toolbox, activation):
    """Train, score, save and plot as ``train`` does; the exit status."""
    from .cli_train import _announce, _Progress, _report
    from .datasets import open_h5
    from .streaming import chunk_bytes_per_example, train_streamed

    if args.boundary:
        raise UsageError("--boundary draws data held in memory, and %s is "
                         "streamed (its features outgrow --memory-limit %d "
                         "MiB): raise --memory-limit"
                         % (args.dataset, args.memory_limit))
    if args.solver == "gram":
        raise UsageError("--solver gram needs the data in memory, and %s is "
                         "streamed (its features outgrow --memory-limit %d "
                         "MiB): use --solver primal or auto"
                         % (args.dataset, args.memory_limit))
    if getattr(args, "early_stopping", False):
        raise UsageError("--early-stopping holds a validation set in "
                         "memory, and %s is streamed (its features outgrow "
                         "--memory-limit %d MiB): raise --memory-limit"
                         % (args.dataset, args.memory_limit))
    with contextlib.ExitStack() as files:
        source = files.enter_context(open_h5(args.dataset))
        # The test split opened first: a bad one is reported before the
        # training, not after it.
        test = _open_test(args.dataset, source.classes)
        if test is not None:
            files.enter_context(test)
        output, n_out = infer_output(args, source.classes, source.y)
        dims = [source.n_x] + list(args.layers) + [n_out]
        network = {"activation": activation, "output": output}
        _announce(args, dims, source.m, source.name, activation, output,
                  toolbox)
        limit = args.memory_limit * (1 << 20)
        print("Streamed from %s in chunks within %d MiB"
              % (args.dataset, args.memory_limit))
        options = {k: v for k, v in toolbox.items()
                   if k != "mini_batch_size"}
        if args.init is not None:
            options["initialization"] = args.init
        progress = _Progress(args.iterations)
        start = time.perf_counter()
        try:
            parameters, costs = train_streamed(
                source, dims, args.learning_rate, args.iterations,
                not progress.enabled, mini_batch_size=args.batch_size,
                memory_limit=limit, backend=args.backend,
                callback=progress if progress.enabled else None,
                seed=args.seed, dtype=args.dtype, **network, **options)
        finally:
            progress.close()
        elapsed = time.perf_counter() - start
        block = max(1, limit // chunk_bytes_per_example(
            source.n_x, n_out, source.itemsize, args.dtype))
        results = {"train": _scores(backend, parameters, network, source,
                                    args.dtype, block)}
        if test is not None:
            results["test"] = _scores(backend, parameters, network, test,
                                      args.dtype, block)
        data = cli_data.CliData(
            None, source.y, None, None, source.classes, source.image_shape,
            source.name, os.path.abspath(args.dataset), None, None)
    _report(args, backend, parameters, network, data, costs, results,
            toolbox, elapsed)
    return 0
