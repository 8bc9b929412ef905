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
        return {"lr_t": self._decayed_lr(dtype), "eps": dtype(self.epsilon)}

    def _apply_dense(self, grad, var, coef):
        acc, lr, eps = self.get_slot(var, "accumulator"), coef["lr_t"], coef["eps"]
        if grad.dtype in K.DTYPES:  # the expression below in one kernel pass: the same bits
            out = np.empty(var.shape, var.dtype)  # a new buffer, as the expression gives
            K.adagrad(var._value.reshape(-1), acc.reshape(-1), grad.reshape(-1), lr, eps,
                      out.reshape(-1))
            var._value = out
            return
        acc += grad * grad
        var._value = var._value - grad * lr / (np.sqrt(acc) + eps)

    def _apply_sparse(self, values, rows, var, coef):
        acc = self.get_slot(var, "accumulator")
        K.sparse_adagrad(self._rows(var), acc.reshape(len(acc), -1), rows,
                         values.reshape(len(rows), -1), coef["lr_t"], coef["eps"])

    def _apply_sparse_dup(self, values, ids, var, coef):
        w = self._rows(var)
        values = K.dup_grad(w, ids, values)
        if values is None:
            return False
        acc = self.get_slot(var, "accumulator")
        return K.sparse_adagrad_dup(w, acc.reshape(len(acc), -1), ids, values, coef["lr_t"],
                                    coef["eps"])
