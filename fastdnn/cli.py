"""The ``fastdnn`` command (also ``python -m fastdnn``).

``fastdnn train``, ``predict``, ``evaluate`` and ``bench``; ``fastdnn
COMMAND --help`` describes each. Exit status: 0 on success, 2 for a usage
error, 1 for a failure (missing data, bad model file, unreadable image...),
with one line on stderr; ``--debug`` shows the traceback instead.
"""
import argparse
import os
import sys
import time

import numpy as np

import fastdnn

#: Default hidden layers: the seed's 4-layer model [n_x, 20, 7, 5, 1].
DEFAULT_LAYERS = (20, 7, 5)


class UsageError(Exception):
    """A bad combination of arguments found after parsing: exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (and exit status 2)."""

    def error(self, message):
        self.exit(2, "%s: error: %s (see '%s --help')\n"
                  % (self.prog, message, self.prog))


# ---------------------------------------------------------------- arguments

def _layers(text):
    text = text.strip()
    if not text:
        return []
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            "%r is not a comma-separated list of positive layer widths such "
            "as 20,7,5" % text)
    return sizes


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("%r is not a number > 0" % text)
    return value


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                "%r is not an integer >= %d" % (text, minimum))
        return value
    parse.__name__ = "integer"
    return parse


def _add_data_options(p, what):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data", metavar="DIR",
                   help="folder with train_catvnoncat.h5 and "
                        "test_catvnoncat.h5 (default: $FASTDNN_DATA)")
    g.add_argument("--synthetic", action="store_true",
                   help="%s on a small synthetic dataset generated in code "
                        "(16x16 cartoon cats and other shapes) instead of "
                        "the cat data" % what)


def _add_debug(p):
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of an error")


def _build_parser():
    parser = _Parser(
        prog="fastdnn",
        description="Train and use the course's L-layer neural network, "
                    "[LINEAR->RELU] x (L-1) -> LINEAR -> SIGMOID, on the cat "
                    "/ non-cat images.",
        epilog="Run 'fastdnn COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version",
                        version="fastdnn " + fastdnn.__version__)
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=_Parser)

    train = sub.add_parser(
        "train", help="train a network, print the cost and the accuracies, "
                      "save the model",
        description="Train [LINEAR->RELU] x (L-1) -> LINEAR -> SIGMOID by "
                    "full-batch gradient descent. The defaults reproduce the "
                    "course's 4-layer model [12288, 20, 7, 5, 1].")
    _add_data_options(train, "train")
    train.add_argument("--layers", type=_layers, metavar="N,N,...",
                       default=list(DEFAULT_LAYERS),
                       help="widths of the hidden ReLU layers (default "
                            "20,7,5); the input width comes from the data, "
                            "the output is one sigmoid unit")
    train.add_argument("--learning-rate", type=_positive_float,
                       default=0.0075, metavar="RATE",
                       help="gradient-descent step (default 0.0075)")
    train.add_argument("--iterations", type=_int_at_least(1), default=2500,
                       metavar="N", help="number of iterations (default "
                                         "2500)")
    train.add_argument("--backend", choices=sorted(fastdnn.BACKENDS),
                       default=fastdnn.DEFAULT_BACKEND,
                       help="implementation (default %s)"
                            % fastdnn.DEFAULT_BACKEND)
    train.add_argument("--dtype", choices=["float64", "float32"],
                       default="float64",
                       help="floating-point type (default float64)")
    train.add_argument("--solver", choices=["auto", "primal", "gram"],
                       default="auto",
                       help="the numba backend's solver (default auto)")
    train.add_argument("--seed", type=_int_at_least(0), default=1,
                       help="seed of the weight initialisation (default 1, "
                            "the course's)")
    train.add_argument("--out", metavar="MODEL.npz",
                       help="save the trained model to this file")
    train.add_argument("--plot", metavar="COSTS.png",
                       help="save the cost curve to this PNG file")
    _add_debug(train)

    predict = sub.add_parser(
        "predict", help="classify image files with a saved model",
        description="Print, for each image, its file name, the predicted "
                    "class and the probability of that class. Any size and "
                    "mode (JPEG, PNG with alpha, grayscale...) is resized "
                    "to the model's input size.")
    predict.add_argument("--model", required=True, metavar="MODEL.npz",
                         help="a model saved by 'fastdnn train --out'")
    predict.add_argument("images", nargs="+", metavar="IMAGE",
                         help="image file(s)")
    _add_debug(predict)

    evaluate = sub.add_parser(
        "evaluate", help="accuracy, confusion counts and mislabeled images "
                         "of a saved model",
        description="Print the accuracy and the confusion counts of a saved "
                    "model on the train and test sets; optionally draw the "
                    "mislabeled test images.")
    evaluate.add_argument("--model", required=True, metavar="MODEL.npz",
                          help="a model saved by 'fastdnn train --out'")
    _add_data_options(evaluate, "evaluate")
    evaluate.add_argument("--mislabeled", metavar="WRONG.png",
                          help="save a grid of the mislabeled test images, "
                               "with predicted and true class, to this PNG")
    _add_debug(evaluate)

    sub.add_parser(
        "bench", add_help=False,
        help="benchmark the backends (arguments go to fastdnn.bench; "
             "'fastdnn bench --help' lists them)")
    return parser


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


def _check_writable(path, option):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError("%s %s: folder %s does not exist"
                                % (option, path, folder))
    if os.path.isdir(path):
        raise IsADirectoryError("%s %s is a folder, not a file"
                                % (option, path))


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
    for path, option in ((args.out, "--out"), (args.plot, "--plot")):
        if path:
            _check_writable(path, option)
    (train_x, train_y, test_x, test_y, classes, image_shape,
     dataset) = _load(args)
    train_x = train_x.astype(args.dtype)
    test_x = test_x.astype(args.dtype)
    layers_dims = [train_x.shape[0]] + list(args.layers) + [1]
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
            callback=progress if progress.enabled else None, **kwargs)
    finally:
        progress.close()
    elapsed = time.perf_counter() - start

    accuracies = {}
    for name, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        p = backend.predict(x, y, parameters, print_accuracy=False)
        accuracies[name] = _accuracy(p, y)
        print("%s accuracy: %s" % (name.capitalize(), accuracies[name]))
    print("Time: %.2f s" % elapsed)

    if args.out:
        fastdnn.save_model(
            args.out, parameters, classes=classes, input_shape=image_shape,
            dataset=dataset, learning_rate=args.learning_rate,
            iterations=args.iterations, backend=args.backend,
            solver=args.solver, seed=args.seed, costs=costs,
            train_accuracy=accuracies["train"],
            test_accuracy=accuracies["test"])
        print("Model saved to %s" % args.out)
    if args.plot:
        fastdnn.plot_costs(costs, args.learning_rate, args.plot)
        print("Cost curve saved to %s" % args.plot)
    return 0


# ---------------------------------------------------------------- predict

def _load_model(path):
    parameters, meta = fastdnn.load_model(path)
    shape = meta.get("input_shape")
    classes = meta.get("classes")
    if (not isinstance(shape, list) or len(shape) != 3
            or int(np.prod(shape)) != meta["layer_dims"][0]):
        raise fastdnn.ModelFileError(
            "%s has no usable input_shape [height, width, channels] in its "
            "metadata; save it with fastdnn.save_model(..., input_shape="
            "[64, 64, 3], classes=['non-cat', 'cat'])" % path)
    if not isinstance(classes, list) or len(classes) != 2:
        raise fastdnn.ModelFileError(
            "%s has no two class names in its metadata (classes)" % path)
    return parameters, meta


def _read_image(path, shape):
    from PIL import Image

    height, width, channels = shape
    if channels != 3:
        raise ValueError("models of %d-channel images are not supported"
                         % channels)
    if height == width:
        return fastdnn.load_image(path, num_px=height)
    with Image.open(path) as img:
        img = img.convert("RGB").resize((width, height))
        pixels = np.asarray(img, dtype=np.float64)
    return pixels.reshape(-1, 1) / 255.


def _probabilities(parameters, X):
    AL, _ = fastdnn.get_backend("numpy").L_model_forward(X, parameters)
    return np.asarray(AL, dtype=np.float64).reshape(-1)


def _predict(args):
    parameters, meta = _load_model(args.model)
    classes = meta["classes"]
    failed = 0
    for path in args.images:
        try:
            x = _read_image(path, meta["input_shape"])
        except (OSError, ValueError) as exc:
            # PIL's UnidentifiedImageError is an OSError
            if args.debug:
                raise
            print("fastdnn: error: cannot read image %s: %s"
                  % (path, _describe(exc)), file=sys.stderr)
            failed += 1
            continue
        p = _probabilities(parameters, x)[0]
        label = int(p > 0.5)
        print("%s\t%s\t%.4f" % (path, classes[label],
                                p if label else 1 - p), flush=True)
    return 1 if failed else 0


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


def _evaluate(args):
    parameters, meta = _load_model(args.model)
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
        p = (_probabilities(parameters, x) > 0.5).reshape(1, -1)
        correct = int(np.sum(p == y))
        print("%s accuracy: %.4f (%d of %d images)"
              % (name.capitalize(), correct / y.shape[1], correct,
                 y.shape[1]))
        print("\n".join(_confusion(p, y, classes)))
    test_p = p  # the loop ends on the test set
    if args.mislabeled:
        _check_writable(args.mislabeled, "--mislabeled")
        fastdnn.plot_mislabeled(classes, test_x, test_y, test_p,
                                args.mislabeled,
                                image_shape=meta["input_shape"])
        print("Mislabeled test images saved to %s (%d)"
              % (args.mislabeled, int(np.sum(test_p != test_y))))
    return 0


# ---------------------------------------------------------------- bench

def _bench(argv):
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


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the
    exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
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
        parser.exit(2, "fastdnn %s: error: %s (see 'fastdnn %s --help')\n"
                    % (args.command, exc, args.command))
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("fastdnn: interrupted", file=sys.stderr)
        return 130
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
        return 1
