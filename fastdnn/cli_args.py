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

def layers(text):
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


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("%r is not a number > 0" % text)
    return value


def int_at_least(minimum, maximum=None):
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


def path(text):
    """A file or folder name: an empty string is a usage error, not the
    option left out."""
    if not text:
        raise argparse.ArgumentTypeError(
            "an empty string is not a file or folder name")
    return text


def _add_data_options(p, what):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data", metavar="DIR", type=path,
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
    from .cli_train_args import add_train_options

    parser = _Parser(
        prog="fastdnn",
        description="Train and use an L-layer neural network, the course's "
                    "[LINEAR->RELU] x (L-1) -> LINEAR -> SIGMOID by default, "
                    "on the cat / non-cat images or any other dataset.",
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
        description="Train an L-layer network on a dataset. The defaults "
                    "reproduce the course's 4-layer model [12288, 20, 7, 5, "
                    "1] on the cat images: ReLU hidden layers, a sigmoid "
                    "output, full-batch gradient descent.")
    _add_data_options(train, "train")
    add_train_options(train)
    _add_debug(train)

    predict = sub.add_parser(
        "predict", help="classify image files, or the rows of a data file, "
                        "with a saved model",
        description="Print, for each image (or each example of --data-file),"
                    " its file name (or row number, from 0), the predicted "
                    "class and the probability of that class (a sigmoid or "
                    "softmax model), or the predicted values (a regression "
                    "model: identity output), tab-separated. Any image size "
                    "and mode (JPEG, PNG with alpha, grayscale, 16-bit...) "
                    "is resized to the model's input size. An image that "
                    "cannot be read is reported on one line of stderr and "
                    "the others are still classified; the exit status is "
                    "then 1.")
    predict.add_argument("--model", required=True, metavar="MODEL.npz",
                         type=path,
                         help="a model saved by 'fastdnn train --out'")
    predict.add_argument("--data-file", metavar="FILE", type=path,
                         help="a .csv file (a header row; the model's "
                              "feature columns, found by name, or exactly "
                              "its number of columns) or a .npz file (an "
                              "array X) instead of images")
    predict.add_argument("images", nargs="*", metavar="IMAGE", type=path,
                         help="image file(s)")
    _add_debug(predict)

    evaluate = sub.add_parser(
        "evaluate", help="accuracy, confusion matrix and mislabeled images "
                         "of a saved model",
        description="Print the accuracy and the confusion matrix of a saved "
                    "classifier (any number of classes), or the mean "
                    "squared error and R^2 of a regression model, on the "
                    "train and test sets of the dataset it was trained on "
                    "(recorded in the model file) or of --dataset; "
                    "optionally draw the mislabeled test images.")
    evaluate.add_argument("--model", required=True, metavar="MODEL.npz",
                          type=path,
                          help="a model saved by 'fastdnn train --out'")
    _add_data_options(evaluate, "evaluate")
    evaluate.add_argument("--dataset", metavar="NAME|FILE", type=path,
                          help="the data to score on (default: the model's "
                               "own, recorded in its file)")
    evaluate.add_argument("--mislabeled", metavar="WRONG.png", type=path,
                          help="save a grid of the mislabeled test images "
                               "(image data), with predicted and true class, "
                               "to this PNG")
    evaluate.add_argument("--boundary", metavar="BOUNDARY.png", type=path,
                          help="save the decision boundary of a classifier "
                               "of 2-D data, over its training examples, to "
                               "this PNG")
    evaluate.add_argument("--max-images", type=int_at_least(1),
                          default=DEFAULT_MAX_IMAGES, metavar="N",
                          help="draw at most the first N mislabeled images "
                               "(default %d); the figure and the output say "
                               "how many were left out" % DEFAULT_MAX_IMAGES)
    _add_debug(evaluate)

    warmup = sub.add_parser(
        "warmup", help="compile every kernel now, so that later runs start "
                       "without compiling",
        description="Compile every numba kernel and training-loop variant "
                    "for float32 and float64 (or --dtype only) into numba's "
                    "on-disk cache, where every later process loads them: "
                    "minutes with an empty cache, on one core; seconds "
                    "once cached.")
    warmup.add_argument("--dtype", choices=["float64", "float32"],
                        help="the training dtype to compile for (default: "
                             "both)")
    _add_debug(warmup)

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
    pre.add_argument("--out", type=path)
    known, _ = pre.parse_known_args(argv)
    if known.out is not None and os.path.exists(known.out) and \
            not os.path.isdir(known.out):
        raise UsageError("--out %s is a file: bench writes several files "
                         "into the folder --out names; give a new or "
                         "existing folder" % known.out)
