"""``fastdnn train``'s options: the parser's part and their translation
into the keyword arguments of ``L_layer_model``.

Every combination the training would refuse is refused here, before the
data is read (a usage error, exit status 2), so that a typo costs a
second, not the training.
"""
import argparse
import inspect

import numpy as np

import fastdnn
from ._toolbox_options import EXACT_IN_GRAM, OPTIMIZER_NAMES
from .cli_args import (DEFAULT_LAYERS, SEED_MAX, UsageError, int_at_least,
                       layers, path, positive_float)
from .registry import ACTIVATION_NAMES, INITIALIZER_NAMES, OUTPUT_NAMES
from .streaming import DEFAULT_MEMORY_LIMIT

#: The named datasets of ``--dataset`` (any other value is a file).
DATASETS = ("cat", "planar", "circles", "moons", "digits")
#: ``--decay``'s choices.
DECAYS = ("none", "inverse", "scheduled")
#: Passes between two steps of the ``scheduled`` decay (the course's
#: ``schedule_lr_decay`` default ``time_interval``).
DECAY_INTERVAL = 1000


def update_lr(learning_rate0, epoch_num, decay_rate):
    """The course's inverse decay: ``lr0 / (1 + decay_rate * epoch)``."""
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate,
                      time_interval=DECAY_INTERVAL):
    """The course's scheduled decay: the inverse decay in steps of
    ``time_interval`` passes."""
    return learning_rate0 / (1 + decay_rate
                             * np.floor(epoch_num / time_interval))


def _decay_function(name):
    """fastdnn's own function when the reference exports it, else this
    module's copy of the course's formula."""
    wanted = {"inverse": "update_lr", "scheduled": "schedule_lr_decay"}[name]
    from . import reference
    return getattr(reference, wanted, None) or globals()[wanted]


# ---------------------------------------------------------------- types

def _activations(text):
    names = [s.strip() for s in text.split(",")]
    bad = [n for n in names if n not in ACTIVATION_NAMES]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            "%r is not an activation or a comma-separated list of them "
            "(one per hidden layer) among %s" % (text,
                                                 ", ".join(ACTIVATION_NAMES)))
    return names


def _real_in(low, high, low_open, high_open):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        ok = np.isfinite(value) and (value > low if low_open
                                     else value >= low)
        if high is not None:
            ok = ok and (value < high if high_open else value <= high)
        if not ok:
            raise argparse.ArgumentTypeError(
                "%r is not a number in %s%g, %s%s" % (
                    text, "(" if low_open else "[", low,
                    "inf" if high is None else "%g" % high,
                    ")" if high_open or high is None else "]"))
        return value
    parse.__name__ = "number"
    return parse


def add_train_options(train):
    """The options of ``fastdnn train`` (the data options are the
    caller's)."""
    train.add_argument(
        "--dataset", metavar="NAME|FILE", type=path,
        help="the training data: %s (default cat, the course's images), or "
             "a .npz, .h5 or .csv file (features and a label column, the "
             "last; see fastdnn.datasets.load)" % ", ".join(DATASETS))
    train.add_argument("--layers", type=layers, metavar="N,N,...",
                       default=list(DEFAULT_LAYERS),
                       help="widths of the hidden layers (default 20,7,5); "
                            "the input and output widths come from the data")
    train.add_argument("--activation", type=_activations, metavar="NAME",
                       help="the hidden layers' activation, one name for all "
                            "or one per layer, comma-separated: %s (default "
                            "relu)" % ", ".join(ACTIVATION_NAMES))
    train.add_argument("--output", choices=OUTPUT_NAMES,
                       help="the output layer (default: sigmoid for two "
                            "classes, softmax for more, identity for real "
                            "targets)")
    train.add_argument("--init", choices=INITIALIZER_NAMES,
                       help="the weights' initializer (default xavier, the "
                            "course's L-layer model's)")
    train.add_argument("--learning-rate", type=positive_float,
                       default=0.0075, metavar="RATE",
                       help="gradient-descent step (default 0.0075)")
    train.add_argument("--iterations", "--epochs", dest="iterations",
                       type=int_at_least(1), default=2500, metavar="N",
                       help="number of passes over the training set (the "
                            "two names are the same option; default 2500)")
    opt = train.add_argument_group("optimization (the training toolbox)")
    opt.add_argument("--optimizer", choices=OPTIMIZER_NAMES, default="gd",
                     help="update rule (default gd)")
    opt.add_argument("--batch-size", type=int_at_least(1), metavar="N",
                     help="mini-batch size, the examples shuffled each pass "
                          "(default: the whole training set, in order)")
    opt.add_argument("--decay", choices=DECAYS, default="none",
                     help="learning-rate decay, updated after each pass "
                          "k (from 0): inverse lr0 / (1 + rate * k), "
                          "scheduled the same in steps of %d passes "
                          "(default none)"
                          % DECAY_INTERVAL)
    opt.add_argument("--decay-rate", type=_real_in(0, None, False, False),
                     metavar="RATE", help="the decay's rate (default 1)")
    opt.add_argument("--lambd", type=_real_in(0, None, False, False),
                     default=0.0, metavar="L2",
                     help="L2 regularization strength (default 0)")
    opt.add_argument("--keep-prob", type=_real_in(0, 1, True, False),
                     default=1.0, metavar="P",
                     help="dropout: probability of keeping a hidden unit "
                          "(default 1, no dropout)")
    unit = _real_in(0, 1, False, True)
    opt.add_argument("--beta", type=unit, default=0.9,
                     help="momentum's and Nesterov's beta (default 0.9)")
    opt.add_argument("--beta1", type=unit, default=0.9,
                     help="Adam's first-moment beta (default 0.9)")
    opt.add_argument("--beta2", type=unit, default=0.999,
                     help="Adam's and RMSprop's second-moment beta "
                          "(default 0.999)")
    opt.add_argument("--epsilon", type=positive_float, default=1e-8,
                     help="Adam's and RMSprop's epsilon (default 1e-8)")
    opt.add_argument("--memory-limit", type=int_at_least(1),
                     default=DEFAULT_MEMORY_LIMIT >> 20, metavar="MIB",
                     help="with --batch-size, an HDF5 file whose features "
                          "are larger than this many MiB is read a chunk "
                          "at a time within it, never whole (default %d)"
                          % (DEFAULT_MEMORY_LIMIT >> 20))
    from .cli_early_stopping import add_options
    add_options(train)
    train.add_argument("--backend", choices=sorted(fastdnn.BACKENDS),
                       default=fastdnn.DEFAULT_BACKEND,
                       help="implementation (default %s)"
                            % fastdnn.DEFAULT_BACKEND)
    train.add_argument("--dtype", choices=["float64", "float32"],
                       default="float64",
                       help="floating-point type (default float64)")
    train.add_argument("--solver", choices=["auto", "primal", "gram"],
                       default="auto",
                       help="the numba backend's solver: the primal form or "
                            "the dual (gram) one (default auto)")
    train.add_argument("--seed", type=int_at_least(0, SEED_MAX), default=1,
                       help="seed of the weight initialisation, the "
                            "mini-batches and dropout, 0 to 2**32-1 "
                            "(default 1, the course's)")
    train.add_argument("--out", metavar="MODEL.npz", type=path,
                       help="save the trained model to this file (checked "
                            "before training)")
    train.add_argument("--plot", metavar="COSTS.png", type=path,
                       help="save the cost curve to this PNG file (checked "
                            "before training)")
    train.add_argument("--boundary", metavar="BOUNDARY.png", type=path,
                       help="save the decision boundary of a classifier of "
                            "2-D data (planar, circles, moons...) to this "
                            "PNG file")


# ---------------------------------------------------------------- checks

def check_data_options(args):
    """``--dataset`` against ``--data`` / ``--synthetic``."""
    if args.dataset is None:
        return
    if args.synthetic:
        raise UsageError("--synthetic and --dataset %s both name the data: "
                         "give one" % args.dataset)
    if args.data is not None and args.dataset != "cat":
        raise UsageError("--data names the cat images' folder; it goes "
                         "with --dataset cat only, not --dataset %s"
                         % args.dataset)


def toolbox_kwargs(args, backend):
    """The toolbox keywords of ``L_layer_model`` that differ from their
    defaults (none for plain gradient descent: today's code path)."""
    kw = {}
    if args.optimizer != "gd":
        kw["optimizer"] = args.optimizer
        if args.optimizer in ("momentum", "nesterov"):
            kw["beta"] = args.beta
        if args.optimizer == "adam":
            kw["beta1"] = args.beta1
        if args.optimizer in ("adam", "rmsprop"):
            kw.update(beta2=args.beta2, epsilon=args.epsilon)
    if args.batch_size is not None:
        kw["mini_batch_size"] = args.batch_size
    if args.lambd:
        kw["lambd"] = args.lambd
    if args.keep_prob != 1:
        kw["keep_prob"] = args.keep_prob
    if args.decay != "none":
        kw["decay"] = _decay_function(args.decay)
        kw["decay_rate"] = 1.0 if args.decay_rate is None else \
            args.decay_rate
    elif args.decay_rate is not None:
        raise UsageError("--decay-rate needs --decay inverse or scheduled")
    if not kw:
        return kw
    params = inspect.signature(backend.L_layer_model).parameters
    missing = [k for k in kw if k not in params]
    if missing:
        raise UsageError(
            "the %s backend's L_layer_model does not take %s yet: use "
            "--backend numba" % (args.backend, ", ".join(missing)))
    if args.solver == "gram" and args.optimizer not in EXACT_IN_GRAM:
        raise UsageError(
            "--solver gram (the dual form) runs %s only, not --optimizer %s:"
            " use --solver primal or auto"
            % (", ".join(EXACT_IN_GRAM), args.optimizer))
    return kw


def describe_toolbox(kw):
    """One line naming the toolbox settings in use, or None for plain
    full-batch gradient descent."""
    if not kw:
        return None
    parts = ["optimizer %s" % kw.get("optimizer", "gd")]
    for key, label in (("beta", "beta"), ("beta1", "beta1"),
                       ("beta2", "beta2"), ("epsilon", "epsilon")):
        if key in kw:
            parts.append("%s %g" % (label, kw[key]))
    if "mini_batch_size" in kw:
        parts.append("mini-batches of %d" % kw["mini_batch_size"])
    if "lambd" in kw:
        parts.append("L2 lambd %g" % kw["lambd"])
    if "keep_prob" in kw:
        parts.append("dropout keep_prob %g" % kw["keep_prob"])
    if "decay" in kw:
        parts.append("decay %s rate %g" % (kw["decay"].__name__,
                                           kw["decay_rate"]))
    return "Toolbox: " + ", ".join(parts)


def toolbox_metadata(kw):
    """The toolbox settings as JSON-able model metadata."""
    meta = {"optimizer": kw.get("optimizer", "gd"),
            "batch_size": kw.get("mini_batch_size"),
            "lambd": kw.get("lambd", 0.0),
            "keep_prob": kw.get("keep_prob", 1.0)}
    for key in ("beta", "beta1", "beta2", "epsilon", "decay_rate"):
        if key in kw:
            meta[key] = kw[key]
    if "decay" in kw:
        meta["decay"] = kw["decay"].__name__
    return meta


def infer_output(args, classes, y):
    """``--output``, or the output the labels call for, checked against
    them; and the output layer's width."""
    if classes is None:  # real targets: a regression
        n_y = 1 if y.ndim == 1 else y.shape[0]
        if args.output not in (None, "identity"):
            raise UsageError("--output %s needs class labels, and the data "
                             "holds real-valued targets: use --output "
                             "identity" % args.output)
        return "identity", n_y
    n = len(classes)
    output = args.output or ("sigmoid" if n == 2 else "softmax")
    if output == "identity":
        raise UsageError("--output identity is for real-valued targets, and "
                         "the data holds %d classes: use sigmoid or softmax"
                         % n)
    if output == "sigmoid" and n != 2:
        raise UsageError("--output sigmoid needs 2 classes, and the data "
                         "holds %d: use --output softmax" % n)
    return output, (1 if output == "sigmoid" else n)


def hidden_activation(args):
    """``activation=`` for L_layer_model: one name, or one per hidden
    layer."""
    names = args.activation or ["relu"]
    if len(names) == 1:
        return names[0]
    if len(names) != len(args.layers):
        raise UsageError("--activation names %d activations and --layers %d "
                         "hidden layers: give one name, or one per layer"
                         % (len(names), len(args.layers)))
    return names
