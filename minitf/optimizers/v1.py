"""The `tf.compat.v1.train` optimizers the seed's example uses.

They update as TF's v1 kernels do and name their slots as v1 optimizers do:
``<variable>/<Name>`` (and ``<variable>/<Name>_1`` for a second slot); Adam
also keeps ``beta1_power`` and ``beta2_power``. Their hyperparameters are
plain numbers, not variables.

    GradientDescentOptimizer:  var -= lr * g
    AdagradOptimizer:          acc += g^2; var -= lr * g / sqrt(acc)
    ProximalAdagradOptimizer:  acc += g^2; lr' = lr / sqrt(acc); v = var - lr' g;
                               var = sign(v) max(|v| - lr' l1, 0) / (1 + lr' l2)
    FtrlOptimizer:             as minitf.optimizers.Ftrl
    AdamOptimizer:             as minitf.optimizers.Adam, with running beta powers
"""

import numpy as np

from minitf.kernels import optimizers as K
from minitf.optimizers.adam import Adam
from minitf.optimizers.ftrl import Ftrl
from minitf.optimizers.optimizer import Optimizer


class _V1:
    """Slot names and state of v1 optimizers."""

    _SLOT_SUFFIX = {}

    def slot_name(self, var, slot):
        return f"{var._name}/{self._name}{self._SLOT_SUFFIX.get(slot, '')}"

    def hyper_variable_names(self):
        return []

    def state_dict(self, copy=True):
        return {self.slot_name(_Named(v), s): a.copy() if copy else a
                for (v, s), a in self._slots.items()}

    def load_state(self, values):
        self._slots = {}
        self._pending = dict(values)


class _Named:
    def __init__(self, name):
        self._name = name


class GradientDescentOptimizer(_V1, Optimizer):
    _HYPERS = ("learning_rate",)
    _SLOTS = ()

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(name, learning_rate=learning_rate)

    def _create_slots(self, var):
        pass

    def _apply_dense(self, grad, var, c):
        var._value = var._value - c["lr_t"] * grad

    def _apply_sparse(self, values, rows, var, c):
        w = self._rows(var)
        w[rows] -= c["lr_t"] * values.reshape(len(rows), -1)


class AdagradOptimizer(_V1, Optimizer):
    _HYPERS = ("learning_rate",)
    _SLOTS = ("accumulator",)

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(name, learning_rate=learning_rate)
        self.initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var):
        self.add_slot(var, "accumulator", self.initial_accumulator_value)

    def _apply_dense(self, grad, var, c):
        acc = self.get_slot(var, "accumulator")
        acc += grad * grad
        var._value = var._value - c["lr_t"] * grad / np.sqrt(acc)

    def _apply_sparse(self, values, rows, var, c):
        acc = self.get_slot(var, "accumulator")
        K.sparse_adagrad_v1(self._rows(var), acc.reshape(len(acc), -1), rows,
                            values.reshape(len(rows), -1), c["lr_t"])


class ProximalAdagradOptimizer(_V1, Optimizer):
    """Adagrad with L1 / L2 proximal steps (FOBOS), as ApplyProximalAdagrad."""

    _HYPERS = ("learning_rate",)
    _SLOTS = ("accumulator",)

    def __init__(self, learning_rate, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="ProximalAdagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(name, learning_rate=learning_rate)
        self.initial_accumulator_value = initial_accumulator_value
        self.l1, self.l2 = l1_regularization_strength, l2_regularization_strength

    def _create_slots(self, var):
        self.add_slot(var, "accumulator", self.initial_accumulator_value)

    def _coefficients(self, dt):
        return {"lr_t": self._decayed_lr(dt), "l1": dt(self.l1), "l2": dt(self.l2)}

    def _apply_dense(self, grad, var, c):
        acc = self.get_slot(var, "accumulator")
        acc += grad * grad
        lr = c["lr_t"] / np.sqrt(acc)
        prox = var._value - grad * lr
        one = var.dtype.type(1)
        if c["l1"] > 0:
            new = np.sign(prox) * np.maximum(np.abs(prox) - lr * c["l1"], 0) / (
                one + c["l2"] * lr)
        else:
            new = prox / (one + c["l2"] * lr)
        var._value = new.astype(var.dtype, copy=False)

    def _apply_sparse(self, values, rows, var, c):
        acc = self.get_slot(var, "accumulator")
        K.sparse_proximal_adagrad(self._rows(var), acc.reshape(len(acc), -1), rows,
                                  values.reshape(len(rows), -1), c["lr_t"], c["l1"], c["l2"])


class FtrlOptimizer(_V1, Ftrl):
    _SLOT_SUFFIX = {"accumulator": "", "linear": "_1"}

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0, beta=None):
        super().__init__(learning_rate, learning_rate_power, initial_accumulator_value,
                         l1_regularization_strength, l2_regularization_strength, name,
                         l2_shrinkage_regularization_strength, beta or 0.0)


class AdamOptimizer(_V1, Adam):
    _SLOT_SUFFIX = {"m": "", "v": "_1"}
    _STATE = Adam._STATE + ("_powers",)

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08,
                 use_locking=False, name="Adam"):
        super().__init__(learning_rate, beta1, beta2, epsilon, name=name)
        self._powers = None

    def _coefficients(self, dt):
        b1, b2 = dt(self._hyper["beta_1"]), dt(self._hyper["beta_2"])
        if self._powers is None:
            self._powers = [self._pending.pop("beta1_power", b1),
                            self._pending.pop("beta2_power", b2)]
        b1p, b2p = dt(self._powers[0]), dt(self._powers[1])
        lr = self._decayed_lr(dt)
        return {"lr_t": lr, "b1": b1, "b2": b2, "b1p": b1p, "b2p": b2p,
                "lr": lr * (np.sqrt(dt(1) - b2p) / (dt(1) - b1p)), "eps": dt(self.epsilon)}

    def apply_gradients(self, grads_and_vars, name=None, **kwargs):
        out = super().apply_gradients(grads_and_vars, name)
        dt = np.float32
        self._powers = [dt(self._powers[0]) * dt(self._hyper["beta_1"]),
                        dt(self._powers[1]) * dt(self._hyper["beta_2"])]
        return out

    def state_dict(self, copy=True):
        out = super().state_dict(copy)
        if self._powers is not None:
            out["beta1_power"] = np.float32(self._powers[0])
            out["beta2_power"] = np.float32(self._powers[1])
        return out

    def load_state(self, values):
        super().load_state(values)
        self._powers = None
