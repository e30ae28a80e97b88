"""``fastdnn train``: load the data, train, print the cost and the scores,
save the model and the pictures."""
import sys
import time

import numpy as np

import fastdnn
from . import cli_data
from .cli_args import UsageError, check_outputs
from .cli_train_args import (check_data_options, describe_toolbox,
                             hidden_activation, infer_output, toolbox_kwargs,
                             toolbox_metadata)


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
        self.report(i, cost)

    def report(self, i, cost, label=None, score=None, line=True):
        """Pass ``i`` done: the bar moves to it with the live cost (and
        ``label: score`` when given); with ``line``, the course's line
        too, above the bar on a terminal, so that it keeps the whole cost
        curve the README promises, and alone elsewhere."""
        text = "Cost after iteration %d: %s" % (i, cost)
        if label is not None:
            text += ", %s: %s" % (label, score)
        if not self.enabled:
            if line:
                print(text)
            return
        if line:
            self.bar.write(text)
        postfix = {"cost": "%.6f" % cost}
        if label is not None:
            postfix[label.split()[-1]] = "%.4f" % score
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(i + 1 - self.done)
        self.done = i + 1

    def close(self):
        self.bar.close()


def scores(output, AL, y):
    """``{"accuracy": ...}`` of a classifier's outputs ``AL`` against class
    indices ``y``, or ``{"mse": ..., "r2": ...}`` of a regression's."""
    AL = np.asarray(AL, dtype=np.float64)
    if output == "identity":
        y = np.asarray(y, dtype=np.float64).reshape(AL.shape)
        mse = float(np.mean((AL - y) ** 2))
        # R^2 per target, averaged (scikit-learn's r2_score's default).
        ss_tot = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
        ss_res = np.sum((y - AL) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, 0.0)
        return {"mse": mse, "r2": float(np.mean(r2))}
    return {"accuracy": float(np.mean(labels(output, AL) == y))}


def labels(output, AL):
    """(1, m) class indices of a classifier's outputs."""
    if output == "softmax":
        return np.argmax(AL, axis=0).reshape(1, -1)
    return (np.asarray(AL) > 0.5).astype(np.int64).reshape(1, -1)


def _split_scores(backend, parameters, network, x, y):
    if network["output"] == "identity":
        AL, _ = backend.L_model_forward(x, parameters, **network)
        return scores("identity", AL, y)
    # the backend's own predict, as the course's notebooks score
    p = backend.predict(x, y, parameters, print_accuracy=False, **network)
    return {"accuracy": float(np.mean(p == y))}


def _print_scores(split, s):
    if "accuracy" in s:
        print("%s accuracy: %s" % (split.capitalize(), s["accuracy"]))
    else:
        print("%s MSE: %s, R^2: %s" % (split.capitalize(), s["mse"],
                                       s["r2"]))


def _decision_boundary(path, backend, parameters, network, data):
    def classify(points):
        dtype = parameters["W1"].dtype
        AL, _ = backend.L_model_forward(points.astype(dtype), parameters,
                                        **network)
        return labels(network["output"], AL)
    from .plots import plot_decision_boundary

    plot_decision_boundary(
        classify, data.X, data.y, path, classes=data.classes,
        title="Decision boundary: %s" % data.name)
    print("Decision boundary saved to %s" % path)


def _check_boundary(args, data, output):
    if args.boundary is None:
        return
    if data.X.shape[0] != 2:
        raise UsageError("--boundary draws 2-D data, and the %s data has %d "
                         "features" % (data.name, data.X.shape[0]))
    if output == "identity":
        raise UsageError("--boundary draws the classes of a classifier, and "
                         "the %s data holds real-valued targets" % data.name)


def _announce(args, layers_dims, m, name, activation, output, toolbox):
    print("Training %s on %d %s %s (backend %s, %s)"
          % (layers_dims, m, name,
             "images" if name in ("cat", cli_data.SYNTHETIC)
             else "examples", args.backend, args.dtype), flush=True)
    if args.activation is not None or args.output is not None or \
            output != "sigmoid" or args.init is not None:
        print("Network: %s hidden layers, %s output%s"
              % (",".join(activation) if isinstance(activation, list)
                 else activation, output, ", %s initialization" % args.init
                 if args.init else ""))
    line = describe_toolbox(toolbox)
    if line:
        print(line)


def _report(args, backend, parameters, network, data, costs, results,
            toolbox, elapsed):
    """Print the scores and the time, save the model and the pictures."""
    for split, s in results.items():
        _print_scores(split, s)
    print("Time: %.2f s" % elapsed)
    if args.out:
        _save(args, parameters, network, data, costs, results, toolbox)
        print("Model saved to %s" % args.out)
    if args.plot:
        fastdnn.plot_costs(costs, args.learning_rate, args.plot,
                           output=network["output"])
        print("Cost curve saved to %s" % args.plot)
    if args.boundary:
        _decision_boundary(args.boundary, backend, parameters, network,
                           data)


def train(args):
    """The ``train`` command; its exit status."""
    from ._train_options import training_kwargs

    check_data_options(args)
    backend = fastdnn.get_backend(args.backend)
    try:
        kwargs = training_kwargs(backend, args.backend, args.dtype,
                                 args.solver, args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    toolbox = toolbox_kwargs(args, backend)
    activation = hidden_activation(args)
    check_outputs((args.out, "--out"), (args.plot, "--plot"),
                  (args.boundary, "--boundary"))
    from . import cli_train_streamed
    if cli_train_streamed.applies(args):
        return cli_train_streamed.train(args, backend, toolbox, activation)
    data = cli_data.load(args)
    output, n_out = infer_output(args, data.classes, data.y)
    _check_boundary(args, data, output)
    train_x = data.X.astype(args.dtype)
    test_x = None if data.X_test is None else data.X_test.astype(args.dtype)
    layers_dims = [train_x.shape[0]] + list(args.layers) + [n_out]
    network = {"activation": activation, "output": output}
    if args.init is not None:
        kwargs["initialization"] = args.init
    _announce(args, layers_dims, train_x.shape[1], data.name, activation,
              output, toolbox)

    progress = _Progress(args.iterations)
    start = time.perf_counter()
    validation = None
    try:
        if args.early_stopping:
            from . import cli_early_stopping
            parameters, costs, validation = cli_early_stopping.train(
                args, backend, train_x, data.y, layers_dims, network,
                toolbox, progress)
        else:
            parameters, costs = backend.L_layer_model(
                train_x, data.y, layers_dims,
                learning_rate=args.learning_rate,
                num_iterations=args.iterations,
                print_cost=not progress.enabled,
                callback=progress if progress.enabled else None, **network,
                **kwargs, **toolbox)
    finally:
        progress.close()
    elapsed = time.perf_counter() - start

    results = {}
    splits = (("train", train_x, data.y), ("test", test_x, data.y_test))
    for split, x, y in splits:
        if x is not None:
            results[split] = _split_scores(backend, parameters, network, x,
                                           y)
    if validation is not None:
        results["validation"] = validation
    _report(args, backend, parameters, network, data, costs, results,
            toolbox, elapsed)
    return 0


def _save(args, parameters, network, data, costs, results, toolbox):
    meta = dict(dataset=data.source, learning_rate=args.learning_rate,
                iterations=args.iterations, backend=args.backend,
                solver=args.solver, seed=args.seed, costs=costs)
    if data.classes is not None:
        meta["classes"] = data.classes
    if data.image_shape is not None:
        meta["input_shape"] = data.image_shape
    if data.features is not None:
        meta.update(features=data.features, label_column=data.label_column)
    if args.init is not None:
        meta["initialization"] = args.init
    if toolbox:
        meta.update(toolbox_metadata(toolbox))
    for split, s in results.items():
        for key, value in s.items():
            meta["%s_%s" % (split, key)] = value
    fastdnn.save_model(args.out, parameters, **network, **meta)
