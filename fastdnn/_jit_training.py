"""The jit backend's training functions (re-exported by :mod:`fastdnn.jit`).

The same signatures, defaults, checks, initial weights and bookkeeping
(recorded costs, printed lines, callbacks, divergence errors) as the
reference's (:mod:`fastdnn._reference_training`), plus the keyword-only
``solver=`` and ``dtype=``. The iterations run in a solver object
(:class:`fastdnn._primal.PrimalSolver`, or :mod:`fastdnn._gram`'s
``GramSolver``) in chunks that end where the reference records a cost.
With any of the training toolbox's options (an optimizer other than
``"gd"``, mini-batches, L2, dropout or a decay) the passes run in a
toolbox solver instead: :class:`fastdnn._toolbox.ToolboxSolver` (primal)
or :mod:`fastdnn._gram_toolbox`'s ``GramToolboxSolver`` (dual form, for
the optimizers linear in the gradient).
"""
import numpy as np

from . import _kernels as K
from . import _validation as v
from ._primal import PrimalSolver
from ._reference_training import _check_cost, _initial_parameters, _record
from ._toolbox import ToolboxSolver
from ._toolbox_options import check_toolbox, learning_rates
from ._validation_tables import check_training_options

#: Solver names accepted by the training functions' ``solver=``.
SOLVERS = ("auto", "primal", "gram")


def _gram_module():
    try:
        from . import _gram
    except ImportError:
        return None
    return _gram


def _solver_class(solver, n_x, m, dims):
    # The gram solver trains every network of the tables (the dual form
    # needs only a first layer linear in X and plain gradient descent), so
    # "auto" picks by cost alone.
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError("solver must be one of %s, got %r"
                         % (", ".join(repr(s) for s in SOLVERS), solver))
    if solver == "primal":
        return PrimalSolver
    gram = _gram_module()
    if solver == "gram":
        if gram is None:
            raise NotImplementedError(
                "solver='gram' needs fastdnn._gram, which this installation "
                "does not have; use solver='primal'")
        return gram.GramSolver
    if gram is not None and gram.gram_pays(n_x, m, list(dims)):
        return gram.GramSolver
    return PrimalSolver


def _gram_toolbox_module():
    try:
        from . import _gram_toolbox
    except ImportError:
        return None
    return _gram_toolbox


def _gram_refusal(toolbox):
    return ("solver='gram' cannot train optimizer=%r exactly: its "
            "per-coordinate scaling takes W1 out of the span of the rows of "
            "X^T (and W1's start), where the dual form keeps it, so the gram "
            "solver would train another model; use solver='primal' or "
            "'auto', or optimizer 'gd', 'momentum' or 'nesterov'"
            % toolbox.optimizer)


def _toolbox_solver_class(solver, n_x, m, dims, toolbox):
    # The solver of a run with toolbox options: the primal one, or the
    # dual form where it is exact (and, for "auto", expected to pay).
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError("solver must be one of %s, got %r"
                         % (", ".join(repr(s) for s in SOLVERS), solver))
    if solver == "primal":
        return ToolboxSolver
    gram = _gram_toolbox_module()
    if solver == "gram":
        if not toolbox.exact_in_gram:
            raise ValueError(_gram_refusal(toolbox))
        if gram is None:
            raise NotImplementedError(
                "solver='gram' with the training toolbox needs "
                "fastdnn._gram_toolbox, which this installation does not "
                "have; use solver='primal'")
        return gram.GramToolboxSolver
    if gram is not None and gram.toolbox_gram_pays(n_x, m, list(dims),
                                                   toolbox):
        return gram.GramToolboxSolver
    return ToolboxSolver


def _next_record(i, num_iterations):
    # The next iteration >= i where the reference records or prints.
    return min((i + 99) // 100 * 100, num_iterations - 1)


def _codes(acts, output):
    return tuple(K.ACT_BY_NAME[a] for a in acts), K.OUT_BY_NAME[output]


def _solver_inputs(X, Y, parameters, dims, dtype, acts, output):
    L = len(dims) - 1
    Ws = [parameters["W" + str(l)].astype(dtype) for l in range(1, L + 1)]
    bs = [parameters["b" + str(l)].astype(dtype) for l in range(1, L + 1)]
    # X keeps its layout: each solver makes the C-contiguous copies it needs
    # (the primal solvers want X and X^T), and the course's Fortran-ordered
    # X gives X^T without a copy.
    X = np.asarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    acts, output = _codes(acts, output)
    return X, Y, Ws, bs, acts, output


def _run_chunks(run, state, learning_rate, num_iterations, print_cost,
                callback, dtype):
    # run(i, n, costs_out) advances iterations i .. i + n - 1, in chunks
    # that end where the reference records or prints; returns the model
    # dict and the recorded costs.
    costs = []
    buf = np.empty(101, dtype=np.float64)
    i = 0
    while i < num_iterations:
        stop = _next_record(i, num_iterations)
        n = stop - i + 1
        chunk = buf[:n]
        run(i, n, chunk)
        bad = np.flatnonzero(~np.isfinite(chunk))
        if bad.size:
            _check_cost(chunk[bad[0]], i + int(bad[0]), learning_rate)
        # The cost as the reference has it: a 0-d array of the training
        # dtype (which is what print shows).
        _record(stop, num_iterations, np.array(chunk[-1], dtype=dtype),
                costs, print_cost, callback)
        i = stop + 1
    Ws, bs = state.parameters()
    out = {}
    for l in range(1, len(Ws) + 1):
        out["W" + str(l)] = Ws[l - 1]
        out["b" + str(l)] = bs[l - 1]
    return out, costs


def _train(X, Y, dims, learning_rate, num_iterations, print_cost, callback,
           parameters, solver, dtype, acts, output):
    X, Y, Ws, bs, acts, output = _solver_inputs(X, Y, parameters, dims,
                                                dtype, acts, output)
    cls = _solver_class(solver, X.shape[0], X.shape[1], dims)
    state = cls(X, Y, Ws, bs, learning_rate, acts, output)
    return _run_chunks(lambda i, n, out: state.run(n, out), state,
                       learning_rate, num_iterations, print_cost, callback,
                       dtype)


def _train_toolbox(X, Y, dims, learning_rate, num_iterations, print_cost,
                   callback, parameters, solver, dtype, acts, output,
                   toolbox):
    # As _train, each iteration a pass over the training set, with the
    # toolbox solver's run(p0, n, costs_out).
    rates = learning_rates(learning_rate, num_iterations, toolbox)
    X, Y, Ws, bs, acts, output = _solver_inputs(X, Y, parameters, dims,
                                                dtype, acts, output)
    cls = _toolbox_solver_class(solver, X.shape[0], X.shape[1], dims,
                                toolbox)
    state = cls(X, Y, Ws, bs, acts, output, toolbox, rates)
    return _run_chunks(state.run, state, learning_rate, num_iterations,
                       print_cost, callback, dtype)


def _training_dtype(X, dtype):
    if dtype is None:
        return X.dtype
    return v.check_dtype(dtype)


def _fit(X, Y, layers_dims, learning_rate, num_iterations, print_cost,
         callback, seed, activation, output, initialization, scale, solver,
         dtype, two_layer, toolbox_options):
    # The reference's checks in the reference's order, then the jit's own.
    X, Y, dims, learning_rate, num_iterations = v.check_training(
        X, Y, layers_dims, learning_rate, num_iterations, output)
    if two_layer:
        v.check_two_layer_dims(dims)
    acts, initialization, scale = check_training_options(
        dims, activation, initialization, scale)
    toolbox = check_toolbox(seed=seed, m=X.shape[1], **toolbox_options)
    dtype = _training_dtype(X, dtype)
    # Validate the solver before any work.
    if toolbox.is_default:
        _solver_class(solver, X.shape[0], X.shape[1], dims)
    else:
        _toolbox_solver_class(solver, X.shape[0], X.shape[1], dims, toolbox)
    parameters = _initial_parameters(dims, seed, scale, initialization, acts,
                                     dtype)
    if toolbox.is_default:
        # Plain full-batch gradient descent: the existing solvers, bit for
        # bit today's numbers.
        return _train(X, Y, dims, learning_rate, num_iterations, print_cost,
                      callback, parameters, solver, dtype, acts, output)
    return _train_toolbox(X, Y, dims, learning_rate, num_iterations,
                          print_cost, callback, parameters, solver, dtype,
                          acts, output, toolbox)


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                    num_iterations=3000, print_cost=False, *, callback=None,
                    seed=1, activation="relu", output="sigmoid",
                    initialization="random", scale=None, optimizer="gd",
                    beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8,
                    mini_batch_size=None, lambd=0.0, keep_prob=1.0,
                    decay=None, decay_rate=1.0, solver="auto", dtype=None):
    """Train LINEAR -> ACTIVATION -> LINEAR -> OUTPUT by gradient descent
    (by default the course's LINEAR -> RELU -> LINEAR -> SIGMOID).

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray
        Labels for ``output``: sigmoid (1, m) of 0/1 (or a 1-D vector of m);
        softmax (1, m) class indices 0..n_y-1 or an (n_y, m) one-hot matrix;
        identity (n_y, m) real targets.
    layers_dims : (n_x, n_h, n_y)
    learning_rate : float
    num_iterations : int
    print_cost : bool
        Print "Cost after iteration i: c" every 100 iterations and at the
        last one, as the training runs.
    callback : callable, optional
        ``callback(i, cost)``, called where the cost would be printed.
    seed : int, RandomState or Generator
        Seed of the initial parameters (default 1, the course's); with
        mini-batches or dropout also of the permutations and masks (an int
        is then required).
    activation : str or sequence of one str
        The hidden layer's activation: ``"relu"`` (default), ``"sigmoid"``,
        ``"tanh"``, ``"leaky_relu"`` or ``"identity"``.
    output : {"sigmoid", "softmax", "identity"}
        The output layer, which fixes the cost: binary cross-entropy,
        categorical cross-entropy or half the mean squared error.
    initialization : str
        A name of :func:`fastdnn.reference.initialize_parameters_deep`; the
        default ``"random"`` (``randn * 0.01``) is the course's
        ``initialize_parameters``.
    scale : float, optional
        The initializer's weight scale.
    optimizer : {"gd", "momentum", "nesterov", "rmsprop", "adam"}
        The update rule (the course's formulas; Adam bias-corrected).
    beta : float in [0, 1)
        Momentum's (and Nesterov's) velocity decay.
    beta1, beta2 : float in [0, 1)
        Adam's first and second moment decays (``beta2`` is also
        RMSprop's).
    epsilon : float > 0
        Adam's and RMSprop's denominator guard.
    mini_batch_size : None or int >= 1
        None (default): full batch, as the course's gradient descent. An
        int: each iteration is a pass over the training set in batches of
        this size (the last one smaller) over a fresh permutation, drawn
        from ``seed + pass + 1`` as the course's model does.
    lambd : float >= 0
        L2 strength: ``lambd / (2 mb) * sum ||W_l||^2`` added to the cost,
        ``lambd / mb * W_l`` to each ``dW_l`` (biases not decayed).
    keep_prob : float in (0, 1]
        Inverted dropout on the hidden layers (1: none); the masks are
        drawn from ``seed``, the layer and the update count, identically
        in both backends.
    decay : callable, optional
        ``decay(learning_rate0, epoch_num, decay_rate)`` gives the
        learning rate of pass ``epoch_num + 1`` (e.g. the course's
        ``update_lr`` or ``schedule_lr_decay``).
    decay_rate : float >= 0
    solver : {"auto", "primal", "gram"}
        ``"primal"`` runs gradient descent on the weights with preallocated
        buffers; ``"gram"`` uses :mod:`fastdnn._gram` when it is installed
        (any network; with the training toolbox only the optimizers linear
        in the gradient, gd, momentum and nesterov: ``ValueError`` for
        rmsprop and adam); ``"auto"`` picks gram when that module says it
        pays for this shape and run, else primal.
    dtype : {None, "float32", "float64"}
        Training dtype; None keeps X's float dtype (float64 for other
        numeric X).

    Returns
    -------
    parameters : dict
        ``W1, b1, W2, b2`` in the training dtype.
    costs : list of 0-d ndarray
        The cost at every iteration ``i`` with ``i % 100 == 0``, as the
        reference records it (with mini-batches, the pass's mean of the
        batch costs weighted by their sizes).

    Raises
    ------
    FloatingPointError
        When the cost stops being finite (the run diverged).
    """
    return _fit(X, Y, layers_dims, learning_rate, num_iterations,
                print_cost, callback, seed, activation, output,
                initialization, scale, solver, dtype, two_layer=True,
                toolbox_options=dict(
                    optimizer=optimizer, beta=beta, beta1=beta1, beta2=beta2,
                    epsilon=epsilon, mini_batch_size=mini_batch_size,
                    lambd=lambd, keep_prob=keep_prob, decay=decay,
                    decay_rate=decay_rate))


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                  num_iterations=3000, print_cost=False, *, callback=None,
                  seed=1, activation="relu", output="sigmoid",
                  initialization="xavier", scale=None, optimizer="gd",
                  beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8,
                  mini_batch_size=None, lambd=0.0, keep_prob=1.0,
                  decay=None, decay_rate=1.0, solver="auto", dtype=None):
    """Train [LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT (by default
    the course's [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID).

    Initialised with :func:`fastdnn.reference.initialize_parameters_deep`
    (``seed``, default 1; ``initialization``, default ``"xavier"``: ``randn
    / sqrt(n_{l-1})``). Parameters and returns as :func:`two_layer_model`,
    with ``layers_dims = [n_x, n_1, ..., n_L]`` and ``activation`` one name
    for every hidden layer or one per hidden layer (L-1 names).
    """
    return _fit(X, Y, layers_dims, learning_rate, num_iterations,
                print_cost, callback, seed, activation, output,
                initialization, scale, solver, dtype, two_layer=False,
                toolbox_options=dict(
                    optimizer=optimizer, beta=beta, beta1=beta1, beta2=beta2,
                    epsilon=epsilon, mini_batch_size=mini_batch_size,
                    lambd=lambd, keep_prob=keep_prob, decay=decay,
                    decay_rate=decay_rate))
