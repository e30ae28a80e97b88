"""The ``fastdnn`` command (also ``python -m fastdnn``)."""
import argparse
import sys
import time

import fastdnn


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="fastdnn",
        description="Train and use the course's L-layer neural network on "
                    "the cat / non-cat images.")
    parser.add_argument("--version", action="version",
                        version="fastdnn " + fastdnn.__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser(
        "train", help="train on the cat data and print the cost curve and "
                      "the accuracies")
    train.add_argument("--data", metavar="DIR",
                       help="folder with train_catvnoncat.h5 and "
                            "test_catvnoncat.h5 (default: $FASTDNN_DATA)")
    train.add_argument("--backend", choices=sorted(fastdnn.BACKENDS),
                       default=fastdnn.DEFAULT_BACKEND)
    return parser


def _train(args):
    backend = fastdnn.get_backend(args.backend)
    train_x_orig, train_y, test_x_orig, test_y, _ = fastdnn.load_data(
        args.data)
    train_x = fastdnn.flatten_images(train_x_orig)
    test_x = fastdnn.flatten_images(test_x_orig)
    layers_dims = [train_x.shape[0], 20, 7, 5, 1]
    print("Training %s on %d images (backend %s)"
          % (layers_dims, train_x.shape[1], args.backend))
    start = time.perf_counter()
    parameters, _ = backend.L_layer_model(
        train_x, train_y, layers_dims, learning_rate=0.0075,
        num_iterations=2500, print_cost=True)
    elapsed = time.perf_counter() - start
    for name, x, y in (("Train", train_x, train_y), ("Test", test_x, test_y)):
        p = backend.predict(x, y, parameters, print_accuracy=False)
        print("%s accuracy: %s" % (name, (p == y).sum() / y.shape[1]))
    print("Time: %.2f s" % elapsed)
    return 0


def main(argv=None):
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _train(args)
    except (FileNotFoundError, ValueError, TypeError) as exc:
        print("fastdnn: error: %s" % exc, file=sys.stderr)
        return 1
