"""The course's published values for "Planar data classification with one
hidden layer" (Course 1 Week 3) and "Initialization" (Course 2 Week 1):
the public tests' expected outputs and the notebooks' printed output. Each
comment says which inputs give the values; tests/test_course_planar.py and
tests/test_course_initialization.py draw them.

Planar values are the notebook's newest revision (public tests written with
asserts, ``np.random.seed(2)`` before ``initialize_parameters`` and seed 3
before ``nn_model``); older revisions seeded 2 inside
``initialize_parameters`` and printed other costs (0.693048 ... 0.218607).
"""
import math

# ---------------------------------------------------------------- planar

# Its newest public-test parameters, also predict_test's and the input of
# update_parameters_test.
PLANAR_PARAMETERS = {
    "W1": [[-0.00615039, 0.0169021], [-0.02311792, 0.03137121],
           [-0.0169217, -0.01752545], [0.00935436, -0.05018221]],
    "W2": [[-0.0104319, -0.04019007, 0.01607211, 0.04440255]],
    "b1": [[-8.97523455e-07], [8.15562092e-06], [6.04810633e-07],
           [-2.54560700e-06]],
    "b2": [[9.14954378e-05]],
}

PLANAR = {
    # layer_sizes_test: X (5, 3), Y (2, 3), then X (7, 5), Y (5, 5) drawn
    # in turn after np.random.seed(1).
    "layer_sizes": [(5, 4, 2), (7, 4, 5)],
    # initialize_parameters_test: np.random.seed(2), then (3, 5, 2).
    "initialize_parameters(3, 5, 2)": {
        "W1": [[-0.00416758, -0.00056267, -0.02136196],
               [0.01640271, -0.01793436, -0.00841747],
               [0.00502881, -0.01245288, -0.01057952],
               [-0.00909008, 0.00551454, 0.02292208],
               [0.00041539, -0.01117925, 0.00539058]],
        "W2": [[-5.96159700e-03, -1.91304965e-04, 1.17500122e-02,
                -7.47870949e-03, 9.02525097e-05],
               [-8.78107893e-03, -1.56434170e-03, 2.56570452e-03,
                -9.88779049e-03, -3.38821966e-03]]},
    # The older revision's case, seed 2 then (2, 4, 1): the same draws.
    "initialize_parameters(2, 4, 1)": {
        "W1": [[-0.00416758, -0.00056267], [-0.02136196, 0.01640271],
               [-0.01793436, -0.00841747], [0.00502881, -0.01245288]],
        "W2": [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]]},
    # forward_propagation_test: X (2, 3) then b1 (4, 1) drawn after
    # np.random.seed(1); W1 and W2 are the (2, 4, 1) case above; b2 = -1.3.
    "forward_propagation": {
        "b2": [[-1.3]],
        "A2": [[0.21292656, 0.21274673, 0.21295976]],
        "Z1": [[1.7386459, 1.74687437, 1.74830797],
               [-0.81350569, -0.73394355, -0.78767559],
               [0.29893918, 0.32272601, 0.34788465],
               [-0.2278403, -0.2632236, -0.22336567]],
        "A1": [[0.9400694, 0.94101876, 0.94118266],
               [-0.67151964, -0.62547205, -0.65709025],
               [0.29034152, 0.31196971, 0.33449821],
               [-0.22397799, -0.25730819, -0.2197236]],
        "Z2": [[-1.30737426, -1.30844761, -1.30717618]]},
    # compute_cost_test: Y = randn(1, 5) > 0 after np.random.seed(1) and
    # this A2 (the older revision: the first three of each).
    "compute_cost A2": [0.5002307, 0.49985831, 0.50023963, 0.25, 0.7],
    "compute_cost": 0.5447066599017815,
    "compute_cost older": 0.6930587610394646,
    # backward_propagation_test: X (3, 7), Y = randn(1, 7) > 0, W1 (9, 3),
    # W2 (1, 9), A1 (9, 7), A2 (1, 7), Z1 (9, 7), Z2 (1, 7) drawn in turn
    # after np.random.seed(1); b1, b2 zeros.
    "backward_propagation": {
        "dW1": [[-0.24468458, -0.24371232, 0.15959609],
                [0.7370069, -0.64785999, 0.23669823],
                [0.47936123, -0.01516428, 0.01566728],
                [0.03361075, -0.0930929, 0.05581073],
                [0.52445178, -0.03895358, 0.09180612],
                [-0.17043596, 0.13406378, -0.20952062],
                [0.76144791, -0.41766018, 0.02544078],
                [0.22164791, -0.33081645, 0.19526915],
                [0.25619969, -0.09561825, 0.05679075]],
        "db1": [[0.1463639], [-0.33647992], [-0.51738006], [-0.07780329],
                [-0.57889514], [0.28357278], [-0.39756864], [-0.10510329],
                [-0.13443244]],
        "dW2": [[-0.35768529, 0.22046323, -0.29551566, -0.12202786,
                 0.18809552, 0.13700323, 0.35892872, -0.02220353,
                 -0.03976687]],
        "db2": [[-0.78032466]]},
    # update_parameters_test: PLANAR_PARAMETERS and these grads, the
    # default learning rate 1.2.
    "update_parameters grads": {
        "dW1": [[0.00023322, -0.00205423], [0.00082222, -0.00700776],
                [-0.00031831, 0.0028636], [-0.00092857, 0.00809933]],
        "dW2": [[-1.75740039e-05, 3.70231337e-03, -1.25683095e-03,
                 -2.55715317e-03]],
        "db1": [[1.05570087e-07], [-3.81814487e-06], [-1.90155145e-07],
                [5.46467802e-07]],
        "db2": [[-1.08923140e-05]]},
    "update_parameters": {
        "W1": [[-0.00643025, 0.01936718], [-0.02410458, 0.03978052],
               [-0.01653973, -0.02096177], [0.01046864, -0.05990141]],
        "b1": [[-1.02420756e-06], [1.27373948e-05], [8.32996807e-07],
               [-3.20136836e-06]],
        "W2": [[-0.01041081, -0.04463285, 0.01758031, 0.04747113]],
        "b2": [[0.00010457]]},
    # nn_model_test: X (2, 3), Y = randn(1, 3) > 0 after np.random.seed(1),
    # n_h = 4, 10000 iterations.
    "nn_model": {
        "W1": [[0.56305445, -1.03925886], [0.7345426, -1.36286875],
               [-0.72533346, 1.33753027], [0.74757629, -1.38274074]],
        "b1": [[-0.22240654], [-0.34662093], [0.33663708], [-0.35296113]],
        "W2": [[1.82196893, 3.09657075, -2.98193564, 3.19946508]],
        "b2": [[0.21344644]]},
    # predict_test: X (2, 3) after np.random.seed(1), PLANAR_PARAMETERS.
    "predict": [[True, False, True]],
}

# The notebook on its flower (load_planar_dataset, nn_model(X, Y, n_h=4,
# num_iterations=10000, print_cost=True)): the printed costs at iterations
# 0, 1000, ..., 9000, and the accuracy it prints with "%d" (90%).
FLOWER_COSTS = [0.693162, 0.258625, 0.239334, 0.230802, 0.225528, 0.221845,
                0.219094, 0.220661, 0.219409, 0.218485]
FLOWER_ACCURACY_PERCENT = 90
# From iteration ~7000 on the run is sensitive to rounding (published
# copies print 0.220628 or 0.220661 at 7000, 0.218482 or 0.218485 at
# 9000); the costs printed up to FLOWER_EXACT_UNTIL are the same in all.
FLOWER_EXACT_UNTIL = 6000

# ---------------------------------------------------------- initialization

INIT = {
    # initialize_parameters_random_test([3, 2, 1]) (seed 3, randn * 10).
    "initialize_parameters_random([3, 2, 1])": {
        "W1": [[17.88628473, 4.36509851, 0.96497468],
               [-18.63492703, -2.77388203, -3.54758979]],
        "W2": [[-0.82741481, -6.27000677]]},
    # initialize_parameters_he_test([3, 1, 2]) (seed 3, randn *
    # sqrt(2 / n_{l-1})).
    "initialize_parameters_he([3, 1, 2])": {
        "W1": [[1.46040903, 0.3564088, 0.07878985]],
        "W2": [[-2.63537665], [-0.39228616]]},
    # The older revision's printed case, [2, 4, 1].
    "initialize_parameters_he([2, 4, 1])": {
        "W1": [[1.78862847, 0.43650985], [0.09649747, -1.8634927],
               [-0.2773882, -0.35475898], [-0.08274148, -0.62700068]],
        "W2": [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]]},
}

# model(train_X, train_Y, initialization=...) on load_dataset()'s circles,
# 15000 iterations: the costs printed at 0, 1000, ..., 14000, and the
# accuracies predict prints on the train and test sets.
INIT_HE_COSTS = [
    0.8830537463419761, 0.6879825919728063, 0.6751286264523371,
    0.6526117768893807, 0.6082958970572938, 0.5304944491717495,
    0.4138645817071795, 0.31178034648444414, 0.23696215330322562,
    0.18597287209206836, 0.15015556280371808, 0.12325079292273551,
    0.09917746546525934, 0.08457055954024277, 0.07357895962677363]
INIT_ZEROS_COST = math.log(2)  # printed as 0.6931471805599453, every time
# The random (x10) run prints inf at iteration 0; later costs depend on
# rounding (published copies differ by ~1e-3 at 1000 and by ~1e-2 at
# 7000); at 14000 they print 0.38275 .. 0.38281.
INIT_RANDOM_LAST_COST = 0.38278397192120406
INIT_RANDOM_LAST_COST_SPREAD = 1e-3
INIT_ACCURACY = {
    "zeros": ("0.5", "0.5"),
    "random": ("0.83", "0.86"),
    "he": ("0.9933333333333333", "0.96"),
}
