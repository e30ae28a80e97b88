"""The course's published values for "Regularization" (Course 2 Week 1)
and "Optimization Methods" (Course 2 Week 2): the public tests' expected
outputs and the notebooks' printed output. Each comment says which inputs
give the values; tests/test_course_regularization.py and
tests/test_course_optimization.py draw them.

Where a public test feeds a hard-coded cache, the tests rebuild it from the
seeded draws it was printed from (its arrays are those draws rounded to 8
decimals, so outputs computed from them differ by up to ~2e-8).
"""

# ---------------------------------------------------------- regularization

REG = {
    # compute_cost_with_regularization: Y = [[1, 1, 0, 1, 0]], W1 (2, 3),
    # b1 (2, 1), W2 (3, 2), b2 (3, 1), W3 (1, 3), b3 (1, 1) drawn in turn
    # after np.random.seed(1), this A3, lambd = 0.1.
    "cost A3": [[0.40682402, 0.01629284, 0.16722898, 0.10118111,
                 0.40682402]],
    "compute_cost_with_regularization": 1.7864859451590758,
    # backward_propagation_with_regularization: X (3, 5) then the same six
    # parameter shapes drawn after np.random.seed(1); the cache is
    # forward_propagation's on them; lambd = 0.7.
    "backward_propagation_with_regularization": {
        "dZ3": [[-0.59317598, -0.98370716, 0.16722898, -0.89881889,
                 0.40682402]],
        "dW3": [[-1.77691347, -0.11832879, -0.09397446]],
        "db3": [[-0.38032981]],
        "dA2": [[0.40761434, 0.67597671, -0.11491519, 0.6176438,
                 -0.27955836],
                [0.50135568, 0.83143484, -0.14134288, 0.7596868,
                 -0.34384996],
                [0.39816708, 0.66030962, -0.11225181, 0.6033287,
                 -0.27307905]],
        "dZ2": [[0.40761434, 0.67597671, -0.11491519, 0.6176438,
                 -0.27955836],
                [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]],
        "dW2": [[0.79276486, 0.85133918], [-0.0957219, -0.01720463],
                [-0.13100772, -0.03750433]],
        "db2": [[0.26135226], [0.0], [0.0]],
        "dA1": [[0.2048239, 0.33967447, -0.05774423, 0.31036252,
                 -0.14047649],
                [0.3672018, 0.60895764, -0.10352203, 0.5564081,
                 -0.25184181]],
        "dZ1": [[0.0, 0.33967447, -0.05774423, 0.31036252, 0.0],
                [0.0, 0.60895764, -0.10352203, 0.5564081, 0.0]],
        "dW1": [[-0.25604646, 0.12298827, -0.28297129],
                [-0.17706303, 0.34536094, -0.4410571]],
        "db1": [[0.11845855], [0.21236874]]},
    # forward_propagation_with_dropout: the same X and parameters,
    # keep_prob = 0.7: A3 and the cache's masks and hidden activations.
    "forward_propagation_with_dropout": {
        "A3": [[0.36974721, 0.00305176, 0.04565099, 0.49683389,
                0.36974721]],
        "D1": [[1, 0, 1, 1, 1], [1, 1, 1, 1, 1]],
        "A1": [[0.0, 0.0, 3.05706487, 3.72429505, 0.0],
               [0.0, 5.94299915, 1.1293003, 2.09276446, 0.0]],
        "D2": [[1, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0]],
        "A2": [[0.75765067, 8.40591658, 4.40550021, 0.0, 0.75765067],
               [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]],
        "Z3": [[-0.53330145, -5.78898099, -3.04000407, -0.0126646,
                -0.53330145]]},
    # backward_propagation_with_dropout: its cache is forward_propagation_
    # with_dropout's on the same X and parameters with keep_prob = 0.5
    # (these masks and A3), the gradients are asked with keep_prob = 0.8.
    "dropout cache": {
        "D1": [[1, 0, 1, 1, 1], [1, 1, 1, 1, 0]],
        "D2": [[1, 0, 1, 0, 1], [0, 1, 0, 1, 1], [0, 0, 1, 0, 0]],
        "A3": [[0.32266394, 0.49683389, 0.00348883, 0.49683389,
                0.32266394]]},
    "backward_propagation_with_dropout": {
        "dZ3": [[-0.67733606, -0.50316611, 0.00348883, -0.50316611,
                 0.32266394]],
        "dW3": [[-0.06951191, 0.0, 0.0]],
        "db3": [[-0.2715031]],
        "dA2": [[0.58180856, 0.0, -0.00299679, 0.0, -0.27715731],
                [0.0, 0.53159854, 0.0, 0.53159854, -0.34089673],
                [0.0, 0.0, -0.00292733, 0.0, 0.0]],
        "dZ2": [[0.58180856, 0.0, -0.00299679, 0.0, -0.27715731],
                [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]],
        "dW2": [[-0.00256518, -0.0009476], [0.0, 0.0], [0.0, 0.0]],
        "db2": [[0.06033089], [0.0], [0.0]],
        "dA1": [[0.36544439, 0.0, -0.00188233, 0.0, -0.17408748],
                [0.65515713, 0.0, -0.00337459, 0.0, 0.0]],
        "dZ1": [[0.0, 0.0, -0.00188233, 0.0, 0.0],
                [0.0, 0.0, -0.00337459, 0.0, 0.0]],
        "dW1": [[0.00019884, 0.00028657, 0.00012138],
                [0.00035647, 0.00051375, 0.00021761]],
        "db1": [[-0.00037647], [-0.00067492]]},
}

# ------------------------------------------------------------ optimization

OPT = {
    # update_parameters_with_gd: W1 (2, 3), b1 (2, 1), W2 (3, 2), b2 (3, 1),
    # then dW1, db1, dW2, db2 of the same shapes, drawn in turn after
    # np.random.seed(1); learning_rate = 0.01.
    "update_parameters_with_gd": {
        "W1": [[1.63312395, -0.61217855, -0.5339999],
               [-1.06196243, 0.85396039, -2.3105546]],
        "b1": [[1.73978682], [-0.77021546]],
        "W2": [[0.32587637, -0.24814147], [1.47146563, -2.05746183],
               [-0.32772076, -0.37713775]],
        "b2": [[1.13773698], [-1.09301954], [-0.16397615]]},
    # random_mini_batches: X (5, 7) then Y = randn(1, 7) < 0.5 drawn after
    # np.random.seed(1), mini_batch_size = 2, the default seed 0.
    "random_mini_batches": [
        ([[1.74481176, -0.52817175], [-0.38405435, -0.24937038],
          [-1.10061918, -0.17242821], [-0.93576943, 0.50249434],
          [-0.67124613, -0.69166075]], [[True, True]]),
        ([[-0.61175641, -1.07296862], [0.3190391, 1.46210794],
          [-1.09989127, -0.87785842], [0.90159072, 0.90085595],
          [0.53035547, -0.39675353]], [[True, False]]),
        ([[1.62434536, -2.3015387], [-0.7612069, -0.3224172],
          [1.13376944, 0.58281521], [1.14472371, -0.12289023],
          [-0.26788808, -0.84520564]], [[True, True]]),
        ([[0.86540763], [-2.06014071], [0.04221375], [-0.68372786],
          [-0.6871727]], [[False]])],
    # The older revision's case: X (12288, 148), Y = randn(1, 148) < 0.5
    # after np.random.seed(1), mini_batch_size = 64: the batches' widths
    # and the first batch's X[0, 0:3] ("mini batch sanity check").
    "random_mini_batches widths": [64, 64, 20],
    "random_mini_batches sanity": [0.90085595, -0.7612069, 0.2344157],
    # update_parameters_with_momentum: the gd case's draws, v zeros,
    # beta = 0.9, learning_rate = 0.01.
    "update_parameters_with_momentum": {
        "W1": [[1.62522322, -0.61179863, -0.52875457],
               [-1.071868, 0.86426291, -2.30244029]],
        "b1": [[1.74430927], [-0.76210776]],
        "W2": [[0.31972282, -0.24924749], [1.46304371, -2.05987282],
               [-0.32294756, -0.38336269]],
        "b2": [[1.1341662], [-1.09920409], [-0.171583]]},
    "update_parameters_with_momentum v": {
        "dW1": [[-0.08778584, 0.00422137, 0.05828152],
                [-0.11006192, 0.11447237, 0.09015907]],
        "dW2": [[-0.06837279, -0.01228902], [-0.09357694, -0.02678881],
                [0.05303555, -0.06916608]],
        "db1": [[0.05024943], [0.09008559]],
        "db2": [[-0.03967535], [-0.06871727], [-0.08452056]]},
    # update_parameters_with_adam: the gd case's draws, v and s zeros,
    # t = 2, learning_rate = 0.02, beta1 = 0.8, beta2 = 0.888, epsilon =
    # 1e-2; the public test checks the first row of each array (v_corrected
    # and s_corrected are v / (1 - beta1**t) and s / (1 - beta2**t)).
    "adam first rows": {
        "v": {"dW1": [-0.17557168, 0.00844275, 0.11656304],
              "dW2": [-0.13674557, -0.02457805], "db1": [0.10049887],
              "db2": [-0.07935071]},
        "s": {"dW1": [0.08631117, 0.00019958, 0.03804344],
              "dW2": [0.05235818, 0.00169142], "db1": [0.02828006],
              "db2": [0.0176303]},
        "parameters": {"W1": [1.63937725, -0.62327448, -0.54308727],
                       "W2": [0.33400549, -0.23563857], "b1": [1.72995096],
                       "b2": [1.14852557]}},
    # update_lr(learning_rate0, epoch_num, decay_rate) -> learning rate.
    "update_lr": [((0.5, 2, 1), 0.16666666666666666),
                  ((1, 2, 1), 0.3333333333333333)],
    # schedule_lr_decay(learning_rate0, epoch_num, decay_rate,
    # time_interval) -> learning rate; the last is the notebook's printed
    # example.
    "schedule_lr_decay": [((0.5, 100, 1, 100), 0.25),
                          ((0.5, 10, 1, 100), 0.5),
                          ((0.3, 1000, 0.25, 100), 0.085714285),
                          ((0.3, 100, 0.25, 100), 0.24),
                          ((1, 100, 1, 100), 0.5),
                          ((1, 10, 1, 100), 1.0),
                          ((0.5, 100, 0.3, 100), 0.3846153846153846)],
}

# model(train_X, train_Y, [2, 5, 2, 1], optimizer, ...) on load_dataset()'s
# moons, 5000 epochs: the costs printed ("%f") at epochs 0, 1000, ...,
# 4000, the learning rates printed with a decay, and the accuracy predict
# prints on the training set where published (Adam's only as the
# notebook's summary table gives it, in whole percent).
OPT_RUNS = {
    "gd": dict(
        kwargs=dict(optimizer="gd"),
        costs=[0.702405, 0.668101, 0.635288, 0.600491, 0.573367],
        accuracy="0.7166666666666667"),
    "momentum": dict(
        kwargs=dict(optimizer="momentum", beta=0.9),
        costs=[0.702413, 0.668167, 0.635388, 0.600591, 0.573444],
        accuracy="0.7166666666666667"),
    "adam": dict(
        kwargs=dict(optimizer="adam"),
        costs=[0.702166, 0.167845, 0.141316, 0.138788, 0.136066],
        accuracy_percent=94),
    "gd update_lr": dict(
        kwargs=dict(optimizer="gd", learning_rate=0.1, decay="update_lr"),
        costs=[0.701091, 0.661884, 0.658620, 0.656765, 0.655486],
        rates=[0.1, 0.0001, 0.00005, 0.000033, 0.000025]),
    "gd schedule": dict(
        kwargs=dict(optimizer="gd", learning_rate=0.1,
                    decay="schedule_lr_decay"),
        costs=[0.701091, 0.127161, 0.120304, 0.117033, 0.117512],
        rates=[0.1, 0.05, 0.033333, 0.025, 0.02]),
    "momentum schedule": dict(
        kwargs=dict(optimizer="momentum", learning_rate=0.1,
                    decay="schedule_lr_decay"),
        costs=[0.702226, 0.128974, 0.125965, 0.123375, 0.123218],
        rates=[0.1, 0.05, 0.033333, 0.025, 0.02]),
    "adam schedule": dict(
        kwargs=dict(optimizer="adam", learning_rate=0.01,
                    decay="schedule_lr_decay"),
        costs=[0.699346, 0.130074, 0.129826, 0.129282, 0.128361],
        rates=[0.01, 0.005, 0.003333, 0.0025, 0.002]),
}
