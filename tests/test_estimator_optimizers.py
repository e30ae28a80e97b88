"""scikit-learn's MLP update rules as toolbox optimizers ("sgd_sklearn",
"nesterov_sklearn", "adam_sklearn"): one step by hand from a nonzero state
on both backends, and the stateful trainer's runs equal on both."""
import numpy as np
import pytest

from fastdnn._reference_optimizers import OPTIMIZERS
from fastdnn._toolbox_options import check_toolbox

P = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[0.5]])}
G = {"dW1": np.array([[0.3, -0.1]]), "db1": np.array([[0.2]])}
V0 = {"dW1": np.array([[0.05, 0.02]]), "db1": np.array([[-0.01]])}
S0 = {"dW1": np.array([[0.04, 0.01]]), "db1": np.array([[0.09]])}
LR = 0.1


def _by_hand(name, t):
    mu, b1, b2, eps = 0.5, 0.6, 0.7, 1e-3
    new, v, s = {}, {}, {}
    for p, g in (("W1", "dW1"), ("b1", "db1")):
        if name in ("sgd_sklearn", "nesterov_sklearn"):
            v[g] = mu * V0[g] - LR * G[g]
            step = v[g] if name == "sgd_sklearn" else mu * v[g] - LR * G[g]
            new[p] = P[p] + step
        else:
            v[g] = b1 * V0[g] + (1 - b1) * G[g]
            s[g] = b2 * S0[g] + (1 - b2) * G[g] ** 2
            lr_t = LR * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            new[p] = P[p] - lr_t * v[g] / (np.sqrt(s[g]) + eps)
    return new, v, s


TOOLBOX = dict(beta=0.5, beta1=0.6, beta2=0.7, epsilon=1e-3)
NAMES = ("sgd_sklearn", "nesterov_sklearn", "adam_sklearn")


@pytest.mark.parametrize("t", [1, 3])
@pytest.mark.parametrize("name", NAMES)
def test_reference_step_by_hand(name, t):
    tb = check_toolbox(optimizer=name, **TOOLBOX)
    state = {"v": V0} if name != "adam_sklearn" else {"v": V0, "s": S0}
    new, state = OPTIMIZERS[name].update(P, G, state, t, LR, tb)
    want, v, s = _by_hand(name, t)
    for k in P:
        np.testing.assert_allclose(new[k], want[k], rtol=1e-15)
    for g in G:
        np.testing.assert_allclose(state["v"][g], v[g], rtol=1e-15)
        if name == "adam_sklearn":
            np.testing.assert_allclose(state["s"][g], s[g], rtol=1e-15)
    # Not the course's rule of the same family.
    course = {"sgd_sklearn": "momentum", "nesterov_sklearn": "nesterov",
              "adam_sklearn": "adam"}[name]
    other, _ = OPTIMIZERS[course].update(P, G, state, t, LR, tb)
    assert not np.allclose(other["W1"], new["W1"])


@pytest.mark.parametrize("t", [1, 3])
@pytest.mark.parametrize("name", NAMES)
def test_numba_step_by_hand(name, t):
    SK = pytest.importorskip("fastdnn._toolbox_step_kernels")
    want, v, s = _by_hand(name, t)
    for p, g in (("W1", "dW1"), ("b1", "db1")):
        Pf = P[p].ravel().copy()
        Vf = V0[g].ravel().copy()
        Sf = S0[g].ravel().copy() if name == "adam_sklearn" else \
            np.zeros(0)
        hp = np.empty(SK.N_CONSTANTS)
        SK.fill_constants(hp, LR, 0.0, 0.5, 0.6, 0.7, 1e-3, t)
        SK.update_params(Pf, G[g].ravel().copy(), Vf, Sf,
                         SK.OPT_BY_NAME[name], hp, np.empty(1), False)
        np.testing.assert_allclose(Pf, want[p].ravel(), rtol=1e-15)
        np.testing.assert_allclose(Vf, v[g].ravel(), rtol=1e-15)
        if name == "adam_sklearn":
            np.testing.assert_allclose(Sf, s[g].ravel(), rtol=1e-15)


def test_gram_refuses_the_sklearn_sgd_rules_by_name():
    pytest.importorskip("numba")
    from fastdnn._gram_toolbox import _refusal
    assert "not implemented in the dual form" in _refusal("sgd_sklearn")
    assert "per-coordinate" in _refusal("adam_sklearn")
