"""The numbers printed in the seed document (../shared/seed/), with the
course's test-case generators that produce their inputs.

Each ``case_*`` function rebuilds the inputs of one of the course's test
cases from its seed; ``EXPECTED`` holds what the document prints for it.
"""
import numpy as np


def case_linear_forward():
    r = np.random.RandomState(1)
    return r.randn(3, 2), r.randn(1, 3), r.randn(1, 1)


def case_linear_activation_forward():
    r = np.random.RandomState(2)
    return r.randn(3, 2), r.randn(1, 3), r.randn(1, 1)


def case_L_model_forward_2hidden():
    r = np.random.RandomState(6)
    X = r.randn(5, 4)
    parameters = {}
    for l, shape in enumerate([(4, 5), (3, 4), (1, 3)], start=1):
        parameters["W%d" % l] = r.randn(*shape)
        parameters["b%d" % l] = r.randn(shape[0], 1)
    return X, parameters


def case_compute_cost():
    return np.array([[.8, .9, 0.4]]), np.asarray([[1, 1, 1]])


def case_linear_backward():
    r = np.random.RandomState(1)
    dZ = r.randn(1, 2)
    return dZ, (r.randn(3, 2), r.randn(1, 3), r.randn(1, 1))


def case_linear_activation_backward():
    r = np.random.RandomState(2)
    dA = r.randn(1, 2)
    A, W, b, Z = r.randn(3, 2), r.randn(1, 3), r.randn(1, 1), r.randn(1, 2)
    return dA, ((A, W, b), Z)


def case_L_model_backward():
    r = np.random.RandomState(3)
    AL = r.randn(1, 2)
    Y = np.array([[1, 0]])
    A1, W1, b1, Z1 = r.randn(4, 2), r.randn(3, 4), r.randn(3, 1), r.randn(3, 2)
    A2, W2, b2, Z2 = r.randn(3, 2), r.randn(1, 3), r.randn(1, 1), r.randn(1, 2)
    return AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))


def case_update_parameters():
    r = np.random.RandomState(2)
    parameters = {"W1": r.randn(3, 4), "b1": r.randn(3, 1),
                  "W2": r.randn(1, 3), "b2": r.randn(1, 1)}
    r = np.random.RandomState(3)
    grads = {"dW1": r.randn(3, 4), "db1": r.randn(3, 1),
             "dW2": r.randn(1, 3), "db2": r.randn(1, 1)}
    return parameters, grads


# What the seed document prints (8 significant digits, as numpy shows them).
EXPECTED = {
    "initialize_parameters": {
        "W1": [[0.01624345, -0.00611756, -0.00528172],
               [-0.01072969, 0.00865408, -0.02301539]],
        "W2": [[0.01744812, -0.00761207]],
    },
    "initialize_parameters_deep": {
        "W1": [[0.72642933, -0.27358579, -0.23620559, -0.47984616,
                0.38702206],
               [-1.0292794, 0.78030354, -0.34042208, 0.14267862,
                -0.11152182],
               [0.65387455, -0.92132293, -0.14418936, -0.17175433,
                0.50703711],
               [-0.49188633, -0.07711224, -0.39259022, 0.01887856,
                0.26064289]],
        "W2": [[-0.55030959, 0.57236185, 0.45079536, 0.25124717],
               [0.45042797, -0.34186393, -0.06144511, -0.46788472],
               [-0.13394404, 0.26517773, -0.34583038, -0.19837676]],
    },
    "linear_forward": [[3.26295337, -1.23429987]],
    "linear_activation_forward": {
        "sigmoid": [[0.96890023, 0.11013289]],
        "relu": [[3.43896131, 0.]],
        "Z": [[3.43896131, -2.08938436]],
    },
    "L_model_forward": {
        "AL": [[0.03921668, 0.70498921, 0.19734387, 0.04728177]],
        "Z1": [[-5.23825714, 3.18040136, 0.4074501, -1.88612721],
               [-2.77358234, -0.56177316, 3.18141623, -0.99209432],
               [4.18500916, -1.78006909, -0.14502619, 2.72141638],
               [5.05850802, -1.25674082, -3.54566654, 3.82321852]],
        "Z2": [[2.2644603, 1.09971298, -2.90298027, 1.54036335],
               [6.33722569, -2.38116246, -4.11228806, 4.48582383],
               [10.37508342, -0.66591468, 1.63635185, 8.17870169]],
        "Z3": [[-3.19864676, 0.87117055, -1.40297864, -3.00319435]],
    },
    # -(log .8 + log .9 + log .4) / 3 (the seed's cell shows no output; the
    # value follows from its test case Y = [[1, 1, 1]], AL = [[.8, .9, .4]]).
    "compute_cost": 0.41493159961539694,
    "linear_backward": {
        "dA_prev": [[0.51822968, -0.19517421],
                    [-0.40506361, 0.15255393],
                    [2.37496825, -0.89445391]],
        "dW": [[-0.10076895, 1.40685096, 1.64992505]],
    },
    "linear_activation_backward": {
        "sigmoid": {"dA_prev": [[0.11017994, 0.01105339],
                                [0.09466817, 0.00949723],
                                [-0.05743092, -0.00576154]],
                    "dW": [[0.10266786, 0.09778551, -0.01968084]]},
        "relu": {"dA_prev": [[0.44090989, 0.],
                             [0.37883606, 0.],
                             [-0.2298228, 0.]],
                 "dW": [[0.44513824, 0.37371418, -0.10478989]]},
    },
    "L_model_backward": {
        "dA1": [[0.12913162, -0.44014127],
                [-0.14175655, 0.48317296],
                [0.01663708, -0.05670698]],
        "dW2": [[-0.39202432, -0.13325855, -0.04601089]],
        "db2": [[0.15187861]],
        "dA0": [[0., 0.52257901],
                [0., -0.3269206],
                [0., -0.32070404],
                [0., -0.74079187]],
        "dW1": [[0.41010002, 0.07807203, 0.13798444, 0.10502167],
                [0., 0., 0., 0.],
                [0.05283652, 0.01005865, 0.01777766, 0.0135308]],
        "db1": [[-0.22007063], [0.], [-0.02835349]],
    },
    "update_parameters": {
        "W1": [[-0.59562069, -0.09991781, -2.14584584, 1.82662008],
               [-1.76569676, -0.80627147, 0.51115557, -1.18258802],
               [-1.0535704, -0.86128581, 0.68284052, 2.20374577]],
        # The document shows only b1's first and last rows.
        "b1_rows_0_2": [[-0.04659241], [0.53405496]],
        "W2": [[-0.55569196, 0.0354055, 1.32964895]],
        "b2": [[-0.84610769]],
    },
}

# The seed's cat-training table: (model, layers_dims) -> cost at iteration 0,
# cost at 2400, train accuracy, test accuracy (learning rate 0.0075, 2500
# iterations).
TRAINING_TABLE = [
    ("two_layer_model", (12288, 7, 1),
     0.693049735659989, 0.04855478562877018, 1.0, 0.72),
    ("L_layer_model", [12288, 7, 1],
     0.6950464961800915, 0.026615212372776063, 1.0, 0.74),
    ("L_layer_model", [12288, 20, 7, 5, 1],
     0.7717493284237686, 0.09287821526472395, 0.9856459330143541, 0.8),
]

# Every cost the seed prints for the 4-layer model, every 100 iterations.
COSTS_4_LAYER = [
    0.7717493284237686, 0.6720534400822914, 0.6482632048575212,
    0.6115068816101354, 0.5670473268366111, 0.5401376634547801,
    0.5279299569455267, 0.46547737717668514, 0.36912585249592794,
    0.39174697434805344, 0.3151869888600617, 0.2726998441789385,
    0.23741853400268137, 0.19960120532208644, 0.18926300388463305,
    0.16118854665827748, 0.14821389662363316, 0.13777487812972944,
    0.1297401754919012, 0.12122535068005211, 0.1138206066863371,
    0.10783928526254132, 0.10285466069352679, 0.10089745445261786,
    0.09287821526472395,
]
