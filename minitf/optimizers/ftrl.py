"""FTRL-proximal, as TF's legacy Keras Ftrl (kernels ApplyFtrl / ApplyFtrlV2 and
their sparse forms), per element:

    new_accum = accum + g^2
    linear   += g' - (new_accum^-p - accum^-p) / lr * var     g' = g + 2 * l2_shrinkage * var
    var       = (sign(linear) * l1 - linear) / (new_accum^-p / lr + 2 * l2')   if |linear| > l1
              = 0                                                              otherwise
    accum     = new_accum

with p = -learning_rate_power and l2' = l2 + beta / (2 lr).
"""

import numpy as np

from minitf.kernels import optimizers as K
from minitf.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """Args (TF's names and defaults): learning_rate=0.001, learning_rate_power=-0.5,
    initial_accumulator_value=0.1, l1_regularization_strength=0.0,
    l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
    beta=0.0; slots 'accumulator' and 'linear'."""

    _HYPERS = ("learning_rate", "decay", "learning_rate_power", "l1_regularization_strength",
               "l2_regularization_strength", "beta")
    _SLOTS = ("accumulator", "linear")
    _CACHE_COEFFICIENTS = True

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, name="Ftrl",
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, decay=0.0, **kwargs):
        for arg, value, ok in (
                ("initial_accumulator_value", initial_accumulator_value, "positive or zero"),
                ("l1_regularization_strength", l1_regularization_strength, "positive or zero"),
                ("l2_regularization_strength", l2_regularization_strength, "positive or zero"),
                ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
                 "positive or zero")):
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be {ok}. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        super().__init__(name, learning_rate=kwargs.pop("lr", learning_rate), decay=decay,
                         learning_rate_power=learning_rate_power,
                         l1_regularization_strength=l1_regularization_strength,
                         l2_regularization_strength=l2_regularization_strength, beta=beta)
        self._check_hyper("learning_rate", self._hyper["learning_rate"])
        self.initial_accumulator_value = initial_accumulator_value
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength

    def _create_slots(self, var):
        self.add_slot(var, "accumulator", self.initial_accumulator_value)
        self.add_slot(var, "linear")

    def _coefficients(self, dtype):
        lr = self._decayed_lr(dtype)
        c = {"lr_t": lr,
             "l1": self._get_hyper("l1_regularization_strength", dtype),
             "l2": self._get_hyper("l2_regularization_strength", dtype)
             + self._get_hyper("beta", dtype) / (dtype(2) * lr),
             "power": self._get_hyper("learning_rate_power", dtype),
             "shrink": dtype(self.l2_shrinkage_regularization_strength)}
        c["h"] = np.array([lr, c["l1"], c["l2"], c["shrink"], c["power"]], dtype)  # the kernels'
        return c

    def _apply_dense(self, grad, var, c):
        (acc, lin), _ = self._var_slots(var)
        if c["power"] == -0.5 and grad.dtype in K.DTYPES:
            # The expressions below in one kernel pass (the same bits); other powers
            # stay with NumPy, whose ** may round differently from Numba's.
            w = var._value
            out = np.empty(w.shape, w.dtype)  # a new buffer, as np.where gives
            K.ftrl(w.ravel(), acc.ravel(), lin.ravel(), grad.ravel(), c["h"], out.ravel())
            var._value = out
            return
        w, lr, two = var._value, c["lr_t"], var.dtype.type(2)
        new_acc = acc + grad * grad
        g = grad + two * c["shrink"] * w if c["shrink"] > 0 else grad
        if c["power"] == -0.5:
            lin += g - (np.sqrt(new_acc) - np.sqrt(acc)) / lr * w
            quad = np.sqrt(new_acc) / lr + two * c["l2"]
        else:
            p = -c["power"]
            lin += g - (new_acc ** p - acc ** p) / lr * w
            quad = new_acc ** p / lr + two * c["l2"]
        x = c["l1"] * np.sign(lin) - lin
        var._value = np.where(np.abs(lin) > c["l1"], x / quad, 0).astype(var.dtype)
        acc[...] = new_acc

    def _apply_sparse(self, values, rows, var, c):
        _, (acc, lin) = self._var_slots(var)
        K.sparse_ftrl(self._rows(var), acc, lin, rows, values.reshape(len(rows), -1), c["lr_t"],
                      c["l1"], c["l2"], c["shrink"], c["power"])

    def _apply_sparse_dup(self, values, ids, var, c):
        w = self._rows(var)
        values = K.dup_grad(w, ids, values)
        if values is None:
            return False
        _, (acc, lin) = self._var_slots(var)
        return K.sparse_ftrl_dup(w, acc, lin, ids, values, c["h"])
