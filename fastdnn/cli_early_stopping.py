"""``fastdnn train --early-stopping``: hold out part of the training set,
score it after every pass, stop when the score stops improving and keep the
best pass's parameters.

The rule is scikit-learn's MLP's (``early_stopping``, ``validation_fraction``,
``n_iter_no_change``, ``tol``): a pass whose validation score (accuracy, or
R^2 for real targets) is not ``tol`` above the best so far counts as no
improvement; more than ``n_iter_no_change`` such passes in a row stop the
training. The training itself is the toolbox's, pass by pass (a
:class:`fastdnn._trainer.Trainer`): the same batches, optimizer and
learning rates as ``L_layer_model`` on the examples left after the split.
"""
import math

import numpy as np

from .cli_args import UsageError, int_at_least, positive_float


def add_options(parser):
    """The options, in their own group of ``train``'s parser."""
    from .cli_train_args import _real_in

    g = parser.add_argument_group(
        "early stopping (scikit-learn's rule, on a held-out split)")
    g.add_argument("--early-stopping", action="store_true",
                   help="hold out --validation-fraction of the training "
                        "set, stop when its score stops improving and keep "
                        "the best pass's parameters")
    g.add_argument("--validation-fraction", type=_real_in(0, 1, True, True),
                   default=0.1, metavar="F",
                   help="share of the training set held out (default 0.1)")
    g.add_argument("--n-iter-no-change", type=int_at_least(1), default=10,
                   metavar="N",
                   help="passes without an improvement of --tol allowed "
                        "before stopping (default 10)")
    g.add_argument("--tol", type=positive_float, default=1e-4,
                   help="the improvement that counts (default 1e-4)")


def split(m, fraction, seed):
    """``(train, validation)``: sorted example numbers, the validation set
    ``ceil(fraction * m)`` of them drawn by ``RandomState(seed)``."""
    n_val = math.ceil(fraction * m)
    if n_val < 1 or m - n_val < 1:
        raise UsageError("--validation-fraction %g of %d examples leaves no "
                         "%s set" % (fraction, m, "training" if n_val >= m
                                     else "validation"))
    order = np.random.RandomState(seed).permutation(m)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _score_name(output):
    return "R^2" if output == "identity" else "accuracy"


def train(args, backend, X, y, dims, network, toolbox_kw, progress):
    """Train with early stopping.

    Parameters
    ----------
    X : ndarray (n_x, m)
        The training set in the training dtype; y its labels as loaded.
    dims, network, toolbox_kw
        ``layers_dims``, ``{"activation", "output"}`` and the toolbox
        keywords of ``L_layer_model``.
    progress : cli_train._Progress

    Returns
    -------
    parameters : dict
        The best pass's.
    costs : list of 0-d ndarray
        Every 100th pass's cost, as ``L_layer_model`` records them.
    best : dict
        ``{"accuracy": ...}`` or ``{"r2": ...}``: the best validation
        score, to report beside the train and test scores.
    """
    from ._reference_training import _check_cost, _initial_parameters
    from ._toolbox_options import check_toolbox, learning_rates
    from ._trainer import Trainer
    from ._validation_tables import (check_output_labels,
                                     check_training_options)
    from .cli_train import _split_scores

    output = network["output"]
    train_idx, val_idx = split(X.shape[1], args.validation_fraction,
                               args.seed)
    X_val, y_val = X[:, val_idx], y[:, val_idx]
    X, y = X[:, train_idx], y[:, train_idx]
    acts, init, scale = check_training_options(
        dims, network["activation"], args.init or "xavier", None)
    parameters = _initial_parameters(dims, args.seed, scale, init, acts,
                                     X.dtype)
    toolbox = check_toolbox(seed=args.seed, m=X.shape[1], **toolbox_kw)
    rates = learning_rates(args.learning_rate, args.iterations, toolbox)
    Y = check_output_labels(y, (dims[-1], X.shape[1]), X.dtype, output, "y")
    form = "gram" if args.solver == "gram" else "primal"
    trainer = Trainer(args.backend, X, Y, parameters, acts, output, toolbox,
                      form=form)
    name = _score_name(output)
    key = "r2" if output == "identity" else "accuracy"
    best, best_params, no_change, costs = -np.inf, parameters, 0, []
    print("Early stopping: %d examples held out" % len(val_idx))
    for p in range(args.iterations):
        cost = trainer.run(rates[p:p + 1])[0]
        _check_cost(cost, p, args.learning_rate)
        current = trainer.parameters()
        score = _split_scores(backend, current, network, X_val, y_val)[key]
        if score < best + args.tol:
            no_change += 1
        else:
            no_change = 0
        if score > best:
            best, best_params = score, current
        last = no_change > args.n_iter_no_change or p == args.iterations - 1
        recorded = np.array(cost, dtype=X.dtype).reshape(())
        if p % 100 == 0:
            costs.append(recorded)
        # The bar moves every pass; the course's line every 100 and last.
        progress.report(p, recorded, "validation %s" % name, score,
                        line=p % 100 == 0 or last)
        if no_change > args.n_iter_no_change:
            print("Validation %s did not improve more than tol=%g for %d "
                  "consecutive passes: stopped after pass %d"
                  % (name, args.tol, args.n_iter_no_change, p))
            break
    return best_params, costs, {key: float(best)}
