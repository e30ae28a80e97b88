"""The arguments of the ``fastdnn`` command: the parser, and the checks
of the output files made before any work (training takes minutes)."""
import argparse
import os

import numpy as np

import fastdnn

#: Default hidden layers: the seed's 4-layer model [n_x, 20, 7, 5, 1].
DEFAULT_LAYERS = (20, 7, 5)
#: The largest --seed: numpy's RandomState takes 0 .. 2**32 - 1.
SEED_MAX = 2**32 - 1
#: Default of evaluate --max-images: a grid of more takes minutes to draw.
DEFAULT_MAX_IMAGES = 50


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


def _int_at_least(minimum, maximum=None):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None
                                                and value > maximum):
            raise argparse.ArgumentTypeError(
                "%r is not an integer >= %d" % (text, minimum)
                if maximum is None else "%r is not an integer from %d to %d"
                % (text, minimum, maximum))
        return value
    parse.__name__ = "integer"
    return parse


def _path(text):
    """A file or folder name: an empty string is a usage error, not the
    option left out."""
    if not text:
        raise argparse.ArgumentTypeError(
            "an empty string is not a file or folder name")
    return text


def _add_data_options(p, what):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data", metavar="DIR", type=_path,
                   help="folder with train_catvnoncat.h5 and "
                        "test_catvnoncat.h5 (default: $FASTDNN_DATA, else "
                        "./datasets); used or refused, never replaced by "
                        "another")
    g.add_argument("--synthetic", action="store_true",
                   help="%s on a small synthetic dataset generated in code "
                        "(16x16 cartoon cats and other shapes) instead of "
                        "the cat data" % what)


def _add_debug(p):
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of an error")


def build_parser():
    parser = _Parser(
        prog="fastdnn",
        description="Train and use the course's L-layer neural network, "
                    "[LINEAR->RELU] x (L-1) -> LINEAR -> SIGMOID, on the cat "
                    "/ non-cat images.",
        epilog="Run 'fastdnn COMMAND --help' for the options of a command. "
               "Exit status: 0 success, 1 failure, 2 usage error, 130 "
               "interrupted, 141 standard output closed early.")
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
    train.add_argument("--seed", type=_int_at_least(0, SEED_MAX), default=1,
                       help="seed of the weight initialisation, 0 to 2**32-1 "
                            "(default 1, the course's)")
    train.add_argument("--out", metavar="MODEL.npz", type=_path,
                       help="save the trained model to this file (checked "
                            "before training)")
    train.add_argument("--plot", metavar="COSTS.png", type=_path,
                       help="save the cost curve to this PNG file (checked "
                            "before training)")
    _add_debug(train)

    predict = sub.add_parser(
        "predict", help="classify image files with a saved model",
        description="Print, for each image, its file name, the predicted "
                    "class and the probability of that class (a sigmoid or "
                    "softmax model), or the predicted values (a regression "
                    "model: identity output), tab-separated. Any size and "
                    "mode (JPEG, PNG with alpha, grayscale, 16-bit...) is "
                    "resized to the model's input size. An image that "
                    "cannot be read is reported on one line of stderr and "
                    "the others are still classified; the exit status is "
                    "then 1.")
    predict.add_argument("--model", required=True, metavar="MODEL.npz",
                         type=_path,
                         help="a model saved by 'fastdnn train --out'")
    predict.add_argument("images", nargs="+", metavar="IMAGE", type=_path,
                         help="image file(s)")
    _add_debug(predict)

    evaluate = sub.add_parser(
        "evaluate", help="accuracy, confusion counts and mislabeled images "
                         "of a saved model",
        description="Print the accuracy and the confusion counts of a saved "
                    "two-class model (a sigmoid output, or a softmax of two "
                    "units) on the train and test sets; optionally draw the "
                    "mislabeled test images. Other models are refused.")
    evaluate.add_argument("--model", required=True, metavar="MODEL.npz",
                          type=_path,
                          help="a model saved by 'fastdnn train --out'")
    _add_data_options(evaluate, "evaluate")
    evaluate.add_argument("--mislabeled", metavar="WRONG.png", type=_path,
                          help="save a grid of the mislabeled test images, "
                               "with predicted and true class, to this PNG")
    evaluate.add_argument("--max-images", type=_int_at_least(1),
                          default=DEFAULT_MAX_IMAGES, metavar="N",
                          help="draw at most the first N mislabeled images "
                               "(default %d); the figure and the output say "
                               "how many were left out" % DEFAULT_MAX_IMAGES)
    _add_debug(evaluate)

    sub.add_parser(
        "bench", add_help=False,
        help="benchmark the backends (arguments go to fastdnn.bench; "
             "'fastdnn bench --help' lists them)")
    return parser


# ---------------------------------------------------------------- checks

def check_writable(path, option):
    """Refuse an output file that could not be written, before any work.

    By trying: an existing file is opened for appending (its content and
    date unchanged), a new one is created and removed again. This finds a
    missing or read-only folder, a folder given as the file, a read-only
    file system... where only permission bits would miss some (or all, for
    root).
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError("%s %s: folder %s does not exist"
                                % (option, path, folder))
    if os.path.isdir(path):
        raise IsADirectoryError("%s %s is a folder, not a file"
                                % (option, path))
    existed = os.path.lexists(path)
    if existed and not os.path.isfile(path):
        # a device or a pipe: opening one could block or have effects
        if not os.access(path, os.W_OK):
            raise PermissionError("%s %s cannot be written" % (option, path))
        return
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        # the same OSError subclass, without the "[Errno N]" prefix
        raise type(exc)("%s %s cannot be written: %s"
                        % (option, path, exc.strerror)) from None
    if not existed:
        os.remove(path)


def check_outputs(*named):
    """``check_writable`` for each ``(path, option)`` given, and no two
    options naming the same file."""
    seen = {}
    for path, option in named:
        if path is None:
            continue
        key = os.path.normcase(os.path.realpath(path))
        if key in seen:
            raise UsageError("%s and %s name the same file %s"
                             % (seen[key], option, path))
        seen[key] = option
        check_writable(path, option)


def check_bench_out(argv):
    """bench's --out folder, refused before the minutes of benchmarking
    when it is empty or an existing file."""
    pre = _Parser(prog="fastdnn bench", add_help=False)
    pre.add_argument("--out", type=_path)
    known, _ = pre.parse_known_args(argv)
    if known.out is not None and os.path.exists(known.out) and \
            not os.path.isdir(known.out):
        raise UsageError("--out %s is a file: bench writes several files "
                         "into the folder --out names; give a new or "
                         "existing folder" % known.out)
