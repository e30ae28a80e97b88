"""What is measured: the seed's 4-layer training and the layer kernels at
the cat shape.

The model's layer sizes, learning rate and iteration counts, the numba runs
of the headline table, the kernel comparisons (which operation, on which
layout of A_prev), their inputs, the training data and the initial
parameters every training starts from.
"""
import numpy as np


DIMS = [12288, 20, 7, 5, 1]
LEARNING_RATE = 0.0075
ITERATIONS = 2500
#: Iterations actually run by --quick; times are scaled to ITERATIONS.
QUICK_ITERATIONS = 200


#: Kernel comparisons at the cat shape: (key, registry operation, layout of
#: A_prev, description). The targets are the first layer as training runs
#: it: its forward pass reads the course's X, which is Fortran-ordered
#: (``images.reshape(m, -1).T``), and its backward pass is relu mask + dW +
#: db (no dA_prev) over a C-ordered X. The other layout of each is
#: reported beside them (a backward pass over the course's X is what code
#: that calls the course's L_model_backward runs).
KERNELS = (
    ("forward", "linear_activation_forward[relu]", "F",
     "forward: W A_prev + b, relu; A_prev Fortran-ordered (the course's X)"),
    ("forward_c", "linear_activation_forward[relu]", "C",
     "forward: W A_prev + b, relu; A_prev C-ordered"),
    ("backward", "first_layer_backward[relu]", "C",
     "backward: relu mask, dW, db; A_prev C-ordered"),
    ("backward_f", "first_layer_backward[relu]", "F",
     "backward: relu mask, dW, db; A_prev Fortran-ordered (the course's X)"),
)


def _kernel_args(op, layout, dtype):
    from ..registry import CAT, make_inputs
    args = make_inputs(op, CAT, dtype, seed=0)
    if layout == "F":
        if op.startswith("linear_activation_forward"):
            args = (np.asfortranarray(args[0]),) + tuple(args[1:])
        else:  # (dA, ((A_prev, W, b), Z))
            dA, ((A_prev, W, b), Z) = args
            args = (dA, ((np.asfortranarray(A_prev), W, b), Z))
    return args


#: The numba trainings of the headline table, (solver, dtype).
NUMBA_RUNS = (("primal", "float64"), ("gram", "float64"),
              ("primal", "float32"), ("gram", "float32"))


def _load_problem(data):
    """``(X, Y, source)``: the cat training set, else cat-shaped noise."""
    from .. import data as _data
    try:
        train_x_orig, train_y, _, _, _ = _data.load_data(data)
        X = _data.flatten_images(train_x_orig)
        return np.ascontiguousarray(X), train_y.astype(np.float64), "cat"
    except (FileNotFoundError, ImportError, OSError):
        rng = np.random.RandomState(0)
        X = rng.random_sample((DIMS[0], 209))
        Y = (rng.random_sample((1, 209)) > 0.5).astype(np.float64)
        return X, Y, "synthetic (dataset not found)"


def _initial_parameters():
    from .. import reference
    p = reference.initialize_parameters_deep(DIMS)
    L = len(DIMS) - 1
    return ([p["W%d" % l] for l in range(1, L + 1)],
            [p["b%d" % l] for l in range(1, L + 1)])
