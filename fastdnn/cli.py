"""The ``fastdnn`` command (also ``python -m fastdnn``).

``fastdnn train``, ``predict``, ``evaluate`` and ``bench``; ``fastdnn
COMMAND --help`` describes each. Exit status: 0 on success, 2 for a usage
error, 1 for a failure (missing data, bad model file, unreadable image,
standard output not writable...), 130 when interrupted (Ctrl-C), 141 when
standard output is closed early (``| head``); each with one line on stderr
(none for 141), never a traceback: ``--debug`` shows it instead. See
:mod:`fastdnn.cli_exit`.
"""
import sys
import time

import numpy as np

import fastdnn
from .cli_exit import (EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_INTERRUPTED,
                       EXIT_USAGE, INTERRUPTED_LINE, CheckedStdout,
                       StdoutError, silence_stdout)
from .cli_args import (  # noqa: F401 (UsageError, DEFAULT_LAYERS: API)
    DEFAULT_LAYERS, UsageError, build_parser, check_bench_out,
    check_outputs)


# ---------------------------------------------------------------- data

def _load(args):
    """``(train_x, train_y, test_x, test_y, classes, image_shape, name)``
    with X flattened to (n_x, m)."""
    if args.synthetic:
        from ._synthetic import load_synthetic
        data, name = load_synthetic(), "synthetic"
    else:
        try:
            data = fastdnn.load_data(args.data)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                "%s; or try the tool on generated images with --synthetic"
                % exc) from None
        name = "cat"
    train_x_orig, train_y, test_x_orig, test_y, classes = data
    return (fastdnn.flatten_images(train_x_orig), train_y,
            fastdnn.flatten_images(test_x_orig), test_y,
            [c.decode("utf-8") if isinstance(c, bytes) else str(c)
             for c in classes],
            list(train_x_orig.shape[1:]), name)


def _accuracy(p, y):
    return float(np.mean(p == y))


# ---------------------------------------------------------------- train

def _is_tty(*streams):
    try:
        return all(s is not None and s.isatty() for s in streams)
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class _Progress:
    """Drives a tqdm bar from L_layer_model's ``callback(i, cost)``."""

    def __init__(self, total):
        from tqdm.auto import tqdm

        # Only on a terminal: with stdout or stderr redirected (a log file,
        # a pipe, a test), the course's "Cost after iteration" lines instead.
        self.bar = tqdm(total=total, desc="Training", unit="it",
                        disable=not _is_tty(sys.stdout, sys.stderr),
                        dynamic_ncols=True, leave=True,
                        mininterval=0)  # updates come every 100 its only
        self.done = 0

    @property
    def enabled(self):
        return not self.bar.disable

    def __call__(self, i, cost):
        # The course's line too, above the bar, so that the terminal keeps
        # the whole cost curve the README promises.
        self.bar.write("Cost after iteration %d: %s" % (i, cost))
        self.bar.set_postfix(cost="%.6f" % cost, refresh=False)
        self.bar.update(i + 1 - self.done)
        self.done = i + 1

    def close(self):
        self.bar.close()


def _train(args):
    from ._train_options import training_kwargs

    backend = fastdnn.get_backend(args.backend)
    try:
        kwargs = training_kwargs(backend, args.backend, args.dtype,
                                 args.solver, args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_outputs((args.out, "--out"), (args.plot, "--plot"))
    (train_x, train_y, test_x, test_y, classes, image_shape,
     dataset) = _load(args)
    train_x = train_x.astype(args.dtype)
    test_x = test_x.astype(args.dtype)
    layers_dims = [train_x.shape[0]] + list(args.layers) + [1]
    # The course's network; the model file records it (other networks'
    # options are not part of the command yet).
    network = {"activation": "relu", "output": "sigmoid"}
    print("Training %s on %d %s images (backend %s, %s)"
          % (layers_dims, train_x.shape[1], dataset, args.backend,
             args.dtype), flush=True)

    progress = _Progress(args.iterations)
    start = time.perf_counter()
    try:
        parameters, costs = backend.L_layer_model(
            train_x, train_y, layers_dims, learning_rate=args.learning_rate,
            num_iterations=args.iterations,
            print_cost=not progress.enabled,
            callback=progress if progress.enabled else None, **network,
            **kwargs)
    finally:
        progress.close()
    elapsed = time.perf_counter() - start

    accuracies = {}
    for name, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        p = backend.predict(x, y, parameters, print_accuracy=False,
                            **network)
        accuracies[name] = _accuracy(p, y)
        print("%s accuracy: %s" % (name.capitalize(), accuracies[name]))
    print("Time: %.2f s" % elapsed)

    if args.out:
        fastdnn.save_model(
            args.out, parameters, **network, classes=classes,
            input_shape=image_shape,
            dataset=dataset, learning_rate=args.learning_rate,
            iterations=args.iterations, backend=args.backend,
            solver=args.solver, seed=args.seed, costs=costs,
            train_accuracy=accuracies["train"],
            test_accuracy=accuracies["test"])
        print("Model saved to %s" % args.out)
    if args.plot:
        fastdnn.plot_costs(costs, args.learning_rate, args.plot,
                           output=network["output"])
        print("Cost curve saved to %s" % args.plot)
    return 0


# ---------------------------------------------------------------- predict

def _n_classes(meta):
    """How many class names the model's output needs: 2 for sigmoid, C
    for a C-unit softmax, None for identity (a regression: no classes)."""
    return {"sigmoid": 2, "softmax": meta["layer_dims"][-1]}.get(
        meta["output"])


def _load_model(path):
    parameters, meta = fastdnn.load_model(path)
    shape = meta.get("input_shape")
    classes = meta.get("classes")
    if (not isinstance(shape, list) or len(shape) != 3
            or not all(isinstance(s, int) and s >= 1 for s in shape)
            or int(np.prod(shape)) != meta["layer_dims"][0]):
        raise fastdnn.ModelFileError(
            "%s has no usable input_shape [height, width, channels] in its "
            "metadata; save it with fastdnn.save_model(..., input_shape="
            "[64, 64, 3], classes=['non-cat', 'cat'])" % path)
    n = _n_classes(meta)
    if n is not None and (not isinstance(classes, list)
                          or len(classes) != n):
        raise fastdnn.ModelFileError(
            "%s has no %d class names in its metadata (classes), one per "
            "class of its %s output" % (path, n, meta["output"]))
    return parameters, meta


def _read_image(path, shape):
    from .images import read_image

    height, width, channels = shape
    if channels != 3:
        raise ValueError("models of %d-channel images are not supported"
                         % channels)
    return read_image(path, height, width)


def _image_error(path, exc):
    """One line for an image that could not be read."""
    if isinstance(exc, ValueError) and str(exc).startswith("cannot read"):
        return str(exc)  # fastdnn.images names the file already
    if isinstance(exc, OSError) and exc.strerror:
        return "cannot read image %s: %s" % (path, exc.strerror)
    return "cannot read image %s: %s" % (path, _describe(exc))


def _outputs(parameters, meta, X):
    """The network's output AL, (n_L, m) float64, through the activations
    the model was saved with."""
    AL, _ = fastdnn.get_backend("numpy").L_model_forward(
        X, parameters, activation=meta["activation"], output=meta["output"])
    return np.asarray(AL, dtype=np.float64)


def _prediction_line(path, AL, meta):
    """``path``, then the class and its probability (sigmoid, softmax) or
    the predicted values (identity), tab-separated."""
    a = AL[:, 0]
    if meta["output"] == "identity":
        return "\t".join([path] + ["%.6g" % x for x in a])
    if meta["output"] == "softmax":
        label = int(np.argmax(a))
        p = a[label]
    else:
        label = int(a[0] > 0.5)
        p = a[0] if label else 1 - a[0]
    return "%s\t%s\t%.4f" % (path, meta["classes"][label], p)


def _predict(args):
    parameters, meta = _load_model(args.model)
    failed = 0
    for path in args.images:
        try:
            x = _read_image(path, meta["input_shape"])
        except StdoutError:
            raise
        except Exception as exc:
            # Whatever the file did to the decoder, it concerns this image
            # only: report it and go on with the others.
            if args.debug:
                raise
            print("fastdnn: error: %s" % _image_error(path, exc).replace(
                "\n", " "), file=sys.stderr, flush=True)
            failed += 1
            continue
        print(_prediction_line(path, _outputs(parameters, meta, x), meta),
              flush=True)
    return EXIT_FAILURE if failed else 0


# ---------------------------------------------------------------- evaluate

def _confusion(p, y, classes):
    """Confusion counts as lines of a small table (rows: true class)."""
    p = p.reshape(-1).astype(int)
    y = y.reshape(-1).astype(int)
    w = max(9, max(len(c) for c in classes) + 2)
    head = "true \\ predicted"
    first = max(len(head), w)
    lines = ["  %-*s%*s%*s" % (first, head, w, classes[0], w, classes[1])]
    for t in (0, 1):
        counts = [int(np.sum((y == t) & (p == k))) for k in (0, 1)]
        lines.append("  %-*s%*d%*d"
                     % (first, classes[t], w, counts[0], w, counts[1]))
    return lines


def _check_evaluable(path, meta):
    """Refuse a model whose output cannot classify the cat (or synthetic)
    images' two classes, rather than score something meaningless."""
    n = _n_classes(meta)
    if n == 2:
        return
    what = ("a regression model (identity output)" if n is None
            else "a %d-class softmax model" % n)
    raise ValueError(
        "evaluate scores two-class models on the cat or --synthetic images, "
        "and %s is %s; score it in Python: fastdnn.predict(X, y, "
        "parameters, activation=meta['activation'], output=meta['output'])"
        % (path, what))


def _class_predictions(parameters, meta, X):
    """(1, m) 0/1 labels of a two-class model (sigmoid or 2-unit
    softmax)."""
    AL = _outputs(parameters, meta, X)
    if meta["output"] == "softmax":
        return np.argmax(AL, axis=0).reshape(1, -1)
    return (AL > 0.5).reshape(1, -1)


def _evaluate(args):
    check_outputs((args.mislabeled, "--mislabeled"))
    parameters, meta = _load_model(args.model)
    _check_evaluable(args.model, meta)
    (train_x, train_y, test_x, test_y, _, image_shape,
     dataset) = _load(args)
    if train_x.shape[0] != meta["layer_dims"][0]:
        raise ValueError(
            "the model takes %s images (%d inputs) but the %s data has %s "
            "images (%d)%s" % (
                "x".join(map(str, meta["input_shape"])),
                meta["layer_dims"][0], dataset,
                "x".join(map(str, image_shape)), train_x.shape[0],
                "; was it trained with --synthetic?"
                if meta.get("dataset") == "synthetic" else ""))
    classes = meta["classes"]
    for name, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        p = _class_predictions(parameters, meta, x)
        correct = int(np.sum(p == y))
        print("%s accuracy: %.4f (%d of %d images)"
              % (name.capitalize(), correct / y.shape[1], correct,
                 y.shape[1]))
        print("\n".join(_confusion(p, y, classes)))
    test_p = p  # the loop ends on the test set
    if args.mislabeled:
        wrong = int(np.sum(test_p != test_y))
        fastdnn.plot_mislabeled(classes, test_x, test_y, test_p,
                                args.mislabeled,
                                image_shape=meta["input_shape"],
                                max_images=args.max_images)
        left_out = max(0, wrong - args.max_images)
        print("Mislabeled test images saved to %s (%d%s)"
              % (args.mislabeled, wrong,
                 ", %d left out: --max-images %d" % (left_out,
                                                     args.max_images)
                 if left_out else ""))
    return 0


# ---------------------------------------------------------------- bench

def _bench(argv):
    if "--worker" not in argv:
        check_bench_out(argv)
    try:
        from . import bench
    except ModuleNotFoundError as exc:
        if exc.name == "fastdnn.bench":
            raise RuntimeError("the bench command is not available: this "
                               "fastdnn has no fastdnn.bench module") from None
        raise RuntimeError(
            "the bench command needs %s, which is not installed; install "
            "the extra: pip install 'fastdnn[bench]'" % exc.name) from None
    status = bench.main(argv)
    return 0 if status is None else status


# ---------------------------------------------------------------- main

def _describe(exc):
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return "%s: %s" % (exc.filename, exc.strerror)
    return str(exc) or type(exc).__name__


def _split_bench(argv):
    """``(global_options, bench_argv)`` if the command is bench, else None.

    bench's arguments are not parsed here: they all go to fastdnn.bench.
    """
    for k, arg in enumerate(argv):
        if not arg.startswith("-"):
            return (argv[:k], argv[k + 1:]) if arg == "bench" else None
    return None


def _main(argv):
    """Parse ``argv`` and run the command: its exit status, or one error
    line and 1 or 2. argparse's errors and --help raise SystemExit."""
    parser = build_parser()
    bench_split = _split_bench(argv)
    if bench_split is not None:
        args = parser.parse_args(bench_split[0] + ["bench"])
        run = lambda: _bench(bench_split[1])  # noqa: E731
    else:
        args = parser.parse_args(argv)
        commands = {"train": _train, "predict": _predict,
                    "evaluate": _evaluate}
        if args.command is None:
            parser.error("a command is required: train, predict, evaluate "
                         "or bench")
        run = lambda: commands[args.command](args)  # noqa: E731
    try:
        return run()
    except UsageError as exc:
        if args.debug:
            raise
        parser.exit(EXIT_USAGE, "fastdnn %s: error: %s (see 'fastdnn %s "
                    "--help')\n" % (args.command, exc, args.command))
    except (KeyboardInterrupt, StdoutError):
        raise  # main's
    except Exception as exc:
        if args.debug:
            raise
        known = (OSError, ValueError, TypeError, RuntimeError,
                 FloatingPointError, MemoryError)
        msg = _describe(exc)
        if not isinstance(exc, known):
            msg = "%s: %s (rerun with --debug for the traceback)" % (
                type(exc).__name__, msg)
        print("fastdnn: error: %s" % msg.replace("\n", " "), file=sys.stderr)
        return EXIT_FAILURE


def _stderr_line(text):
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed too: the status says it
        pass


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the
    exit status (see :mod:`fastdnn.cli_exit`).

    Errors writing standard output (a closed pipe, a full disk), Ctrl-C
    and argparse's exits are handled here too, so that the process always
    ends with at most one line on stderr and a documented status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    bench_split = _split_bench(argv)
    # before parsing, which may be what is interrupted
    debug = "--debug" in (argv if bench_split is None else bench_split[0])
    stdout = sys.stdout
    sys.stdout = CheckedStdout(stdout)
    try:
        try:
            status = _main(argv)
        except SystemExit as exc:  # argparse: usage error, --help
            status = exc.code if isinstance(exc.code, int) else (
                0 if exc.code is None else EXIT_FAILURE)
        sys.stdout.flush()  # here, not at exit where its error is a mess
        return status
    except KeyboardInterrupt:
        if debug:
            raise
        _stderr_line(INTERRUPTED_LINE)
        return EXIT_INTERRUPTED
    except StdoutError as exc:
        if debug:
            raise
        silence_stdout(stdout)
        if exc.broken_pipe:
            return EXIT_BROKEN_PIPE
        _stderr_line("fastdnn: error: %s" % exc)
        return EXIT_FAILURE
    finally:
        sys.stdout = stdout
