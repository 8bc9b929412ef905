"""Adagrad, as TF's legacy Keras Adagrad (kernels ApplyAdagradV2 / SparseApplyAdagradV2):

    accumulator += g^2
    var -= g * lr / (sqrt(accumulator) + epsilon)
"""

import numpy as np

from minitf.kernels import optimizers as K
from minitf.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Args (TF's names and defaults): learning_rate=0.001,
    initial_accumulator_value=0.1, epsilon=1e-7; slot 'accumulator'."""

    _HYPERS = ("learning_rate", "decay")
    _SLOTS = ("accumulator",)
    _CACHE_COEFFICIENTS = True

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="Adagrad", decay=0.0, **kwargs):
        if initial_accumulator_value < 0.0:
            raise ValueError(f"initial_accumulator_value must be non-negative: "
                             f"{initial_accumulator_value}")
        super().__init__(name, learning_rate=kwargs.pop("lr", learning_rate), decay=decay)
        self._check_hyper("learning_rate", self._hyper["learning_rate"])
        self._check_hyper("decay", decay)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = 1e-7 if epsilon is None else epsilon

    def _create_slots(self, var):
        self.add_slot(var, "accumulator", self.initial_accumulator_value)

    def _coefficients(self, dtype):
        lr, eps = self._decayed_lr(dtype), dtype(self.epsilon)
        return {"lr_t": lr, "eps": eps, "h": np.array([lr, eps], dtype)}  # h: the kernels'

    def _apply_dense(self, grad, var, coef):
        (acc,), _ = self._var_slots(var)
        if grad.dtype in K.DTYPES:  # the expression below in one kernel pass: the same bits
            w = var._value
            out = np.empty(w.shape, w.dtype)  # a new buffer, as the expression gives
            K.adagrad(w.ravel(), acc.ravel(), grad.ravel(), coef["h"], out.ravel())
            var._value = out
            return
        acc += grad * grad
        var._value = var._value - grad * coef["lr_t"] / (np.sqrt(acc) + coef["eps"])

    def _apply_sparse(self, values, rows, var, coef):
        _, (acc,) = self._var_slots(var)
        K.sparse_adagrad(self._rows(var), acc, rows, values.reshape(len(rows), -1), coef["lr_t"],
                         coef["eps"])

    def _apply_sparse_dup(self, values, ids, var, coef):
        w = self._rows(var)
        values = K.dup_grad(w, ids, values)
        if values is None:
            return False
        _, (acc,) = self._var_slots(var)
        return K.sparse_adagrad_dup(w, acc, ids, values, coef["h"])
