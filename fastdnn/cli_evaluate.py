"""``fastdnn evaluate`` and ``fastdnn predict``: a saved model scored on a
dataset, or applied to images or to the rows of a data file."""
import os
import sys

import numpy as np

import fastdnn
from . import cli_data
from .cli_args import UsageError, check_outputs
from .cli_exit import EXIT_FAILURE, StdoutError
from .cli_train import labels, scores


def n_classes(meta):
    """How many class names the model's output needs: 2 for sigmoid, C
    for a C-unit softmax, None for identity (a regression: no classes)."""
    return {"sigmoid": 2, "softmax": meta["layer_dims"][-1]}.get(
        meta["output"])


def _check_classes(path, meta):
    n = n_classes(meta)
    classes = meta.get("classes")
    if n is not None and (not isinstance(classes, list)
                          or len(classes) != n):
        raise fastdnn.ModelFileError(
            "%s has no %d class names in its metadata (classes), one per "
            "class of its %s output" % (path, n, meta["output"]))


def _check_image_shape(path, meta):
    shape = meta.get("input_shape")
    if shape is None and meta.get("features"):
        raise fastdnn.ModelFileError(
            "%s was trained on the columns of a data file, not on images: "
            "give the examples with --data-file FILE" % path)
    if (not isinstance(shape, list) or len(shape) != 3
            or not all(isinstance(s, int) and s >= 1 for s in shape)
            or int(np.prod(shape)) != meta["layer_dims"][0]):
        raise fastdnn.ModelFileError(
            "%s has no usable input_shape [height, width, channels] in its "
            "metadata; save it with fastdnn.save_model(..., input_shape="
            "[64, 64, 3], classes=['non-cat', 'cat'])" % path)


def load_model(path, images=False):
    """The model file, checked for what the command needs: the image size
    (to read images) and one class name per class."""
    parameters, meta = fastdnn.load_model(path)
    if images:
        _check_image_shape(path, meta)
    _check_classes(path, meta)
    return parameters, meta


def outputs(parameters, meta, X):
    """The network's output AL, (n_L, m) float64, through the activations
    the model was saved with."""
    AL, _ = fastdnn.get_backend("numpy").L_model_forward(
        X, parameters, activation=meta["activation"], output=meta["output"])
    return np.asarray(AL, dtype=np.float64)


# ---------------------------------------------------------------- predict

def _prediction_line(name, a, meta):
    """``name``, then the class and its probability (sigmoid, softmax) or
    the predicted values (identity), tab-separated; ``a`` is the output
    column of one example."""
    if meta["output"] == "identity":
        return "\t".join([name] + ["%.6g" % x for x in a])
    if meta["output"] == "softmax":
        label = int(np.argmax(a))
        p = a[label]
    else:
        label = int(a[0] > 0.5)
        p = a[0] if label else 1 - a[0]
    return "%s\t%s\t%.4f" % (name, meta["classes"][label], p)


def _read_image(path, shape):
    from .images import read_image

    height, width, channels = shape
    if channels != 3:
        raise ValueError("models of %d-channel images are not supported"
                         % channels)
    return read_image(path, height, width)


def _image_error(path, exc, describe):
    """One line for an image that could not be read."""
    if isinstance(exc, ValueError) and str(exc).startswith("cannot read"):
        return str(exc)  # fastdnn.images names the file already
    if isinstance(exc, OSError) and exc.strerror:
        return "cannot read image %s: %s" % (path, exc.strerror)
    return "cannot read image %s: %s" % (path, describe(exc))


def predict(args, describe):
    """The ``predict`` command; its exit status."""
    if bool(args.images) == bool(args.data_file):
        raise UsageError("give IMAGE files or --data-file FILE (one of the "
                         "two)")
    if args.data_file:
        parameters, meta = load_model(args.model)
        X = cli_data.read_examples(args.data_file, meta)
        AL = outputs(parameters, meta, X)
        for j in range(AL.shape[1]):
            print(_prediction_line(str(j), AL[:, j], meta))
        return 0
    parameters, meta = load_model(args.model, images=True)
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
            print("fastdnn: error: %s" % _image_error(
                path, exc, describe).replace("\n", " "), file=sys.stderr,
                flush=True)
            failed += 1
            continue
        print(_prediction_line(path, outputs(parameters, meta, x)[:, 0],
                               meta), flush=True)
    return EXIT_FAILURE if failed else 0


# ---------------------------------------------------------------- evaluate

def confusion(p, y, classes):
    """Confusion counts as lines of a table (rows: the true class,
    columns: the prediction)."""
    p = np.asarray(p).reshape(-1).astype(int)
    y = np.asarray(y).reshape(-1).astype(int)
    w = max(9, max(len(c) for c in classes) + 2)
    head = "true \\ predicted"
    first = max(len(head), w)
    lines = ["  %-*s" % (first, head)
             + "".join("%*s" % (w, c) for c in classes)]
    for t, name in enumerate(classes):
        counts = [int(np.sum((y == t) & (p == k)))
                  for k in range(len(classes))]
        lines.append("  %-*s" % (first, name)
                     + "".join("%*d" % (w, c) for c in counts))
    return lines


def _check_data(path, meta, data):
    """The data fits the model: its width, its classes or targets."""
    n_x = meta["layer_dims"][0]
    if data.X.shape[0] != n_x:
        shape = meta.get("input_shape")
        if isinstance(shape, list) and data.image_shape:
            raise ValueError(
                "the model takes %s images (%d inputs) but the %s data has "
                "%s images (%d)%s" % (
                    "x".join(map(str, shape)), n_x, data.name,
                    "x".join(map(str, data.image_shape)), data.X.shape[0],
                    "; was it trained with --synthetic?"
                    if meta.get("dataset") == "synthetic" else ""))
        raise ValueError("the model takes %d features per example but the %s"
                         " data has %d; give its data with --dataset"
                         % (n_x, data.name, data.X.shape[0]))
    n = n_classes(meta)
    if n is None:
        if data.classes is not None:
            raise ValueError("%s is a regression model (identity output) and "
                             "the %s data holds classes" % (path, data.name))
        return
    if data.classes is None:
        raise ValueError("%s is a classifier and the %s data holds "
                         "real-valued targets" % (path, data.name))
    if len(data.classes) > n:
        raise ValueError("%s tells %d classes apart and the %s data holds %d"
                         % (path, n, data.name, len(data.classes)))


def _mislabeled(args, meta, data, test_x, test_y, test_p):
    shape = list(meta.get("input_shape") or data.image_shape)
    if len(shape) == 3 and shape[2] == 1:
        shape = shape[:2]  # grayscale
    wrong = int(np.sum(test_p != test_y))
    fastdnn.plot_mislabeled(meta["classes"], test_x, test_y, test_p,
                            args.mislabeled, image_shape=shape,
                            max_images=args.max_images)
    left_out = max(0, wrong - args.max_images)
    print("Mislabeled %s images saved to %s (%d%s)"
          % ("test" if data.X_test is not None else "training",
             args.mislabeled, wrong,
             ", %d left out: --max-images %d" % (left_out, args.max_images)
             if left_out else ""))


def evaluate(args):
    """The ``evaluate`` command; its exit status."""
    check_outputs((args.mislabeled, "--mislabeled"),
                  (args.boundary, "--boundary"))
    parameters, meta = load_model(args.model)
    source = cli_data.evaluation_source(args, meta)
    if source == meta.get("dataset") and os.path.isabs(source) and \
            not os.path.exists(source):
        raise FileNotFoundError(
            "%s was trained on %s, which no longer exists: give its data "
            "with --dataset FILE" % (args.model, source))
    data = cli_data.load(args, source)
    _check_data(args.model, meta, data)
    if args.boundary and (meta["output"] == "identity"
                          or data.X.shape[0] != 2):
        raise UsageError("--boundary draws the classes of a classifier of "
                         "2-D data, and %s on the %s data is not one"
                         % (args.model, data.name))
    if args.mislabeled and (meta["output"] == "identity" or not (
            meta.get("input_shape") or data.image_shape)):
        raise UsageError("--mislabeled draws the mislabeled images of a "
                         "classifier of image data, and %s on the %s data "
                         "is not one" % (args.model, data.name))
    what = "images" if data.name in ("cat", cli_data.SYNTHETIC) else \
        "examples"
    splits = [("train", data.X, data.y)]
    if data.X_test is not None:
        splits.append(("test", data.X_test, data.y_test))
    for name, x, y in splits:
        AL = outputs(parameters, meta, x)
        if meta["output"] == "identity":
            s = scores("identity", AL, y)
            print("%s MSE: %.6g, R^2: %.4f (%d %s)"
                  % (name.capitalize(), s["mse"], s["r2"], x.shape[1],
                     what))
            continue
        p = labels(meta["output"], AL)
        correct = int(np.sum(p == y))
        print("%s accuracy: %.4f (%d of %d %s)"
              % (name.capitalize(), correct / y.shape[1], correct,
                 y.shape[1], what))
        print("\n".join(confusion(p, y, meta["classes"])))
    if args.mislabeled:
        # the last split: the test set, or the training set without one
        _mislabeled(args, meta, data, x, y, p)
    if args.boundary:
        from .plots import plot_decision_boundary

        plot_decision_boundary(
            lambda points: labels(meta["output"],
                                  outputs(parameters, meta, points)),
            data.X, data.y, args.boundary, classes=meta["classes"],
            title="Decision boundary: %s" % data.name)
        print("Decision boundary saved to %s" % args.boundary)
    return 0
