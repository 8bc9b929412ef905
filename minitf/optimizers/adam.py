"""Adam, as TF's legacy Keras Adam (kernel ApplyAdam; its sparse update in ops):

    lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)      t = iterations + 1
    m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
    var -= m * lr_t / (sqrt(v) + epsilon)              (amsgrad: max of v so far)

An IndexedSlices gradient decays m and v of every row and adds the gradient
to the touched rows, then updates the whole variable, as TF's sparse path does.
"""

import numpy as np

from minitf.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """Args (TF's names and defaults): learning_rate=0.001, beta_1=0.9,
    beta_2=0.999, epsilon=1e-7, amsgrad=False; slots 'm', 'v' (and 'vhat')."""

    _HYPERS = ("learning_rate", "decay", "beta_1", "beta_2")
    _SLOTS = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="Adam", decay=0.0, **kwargs):
        super().__init__(name, learning_rate=kwargs.pop("lr", learning_rate), decay=decay,
                         beta_1=beta_1, beta_2=beta_2)
        self._check_hyper("learning_rate", self._hyper["learning_rate"])
        self.epsilon = 1e-7 if epsilon is None else epsilon
        self.amsgrad = amsgrad

    def get_slot_names(self):
        return ["m", "v", "vhat"] if self.amsgrad else ["m", "v"]

    def _create_slots(self, var):
        for s in self.get_slot_names():
            self.add_slot(var, s)

    def _coefficients(self, dt):
        t = dt(self.iterations_value() + 1)
        b1, b2 = self._get_hyper("beta_1", dt), self._get_hyper("beta_2", dt)
        b1p, b2p = np.power(b1, t, dtype=dt), np.power(b2, t, dtype=dt)
        lr = self._decayed_lr(dt)
        return {"lr_t": lr, "b1": b1, "b2": b2, "b1p": b1p, "b2p": b2p,
                "lr": lr * (np.sqrt(dt(1) - b2p) / (dt(1) - b1p)), "eps": dt(self.epsilon)}

    def _apply_dense(self, grad, var, c):
        one = var.dtype.type(1)
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        alpha = c["lr_t"] * np.sqrt(one - c["b2p"]) / (one - c["b1p"])
        m += (grad - m) * (one - c["b1"])
        v += (grad * grad - v) * (one - c["b2"])
        denom = v
        if self.amsgrad:
            vhat = self.get_slot(var, "vhat")
            np.maximum(vhat, v, out=vhat)
            denom = vhat
        var._value = var._value - (m * alpha) / (np.sqrt(denom) + c["eps"])

    def _apply_sparse(self, values, rows, var, c):
        one = var.dtype.type(1)
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        m *= c["b1"]
        np.add.at(m, rows, values * (one - c["b1"]))
        v *= c["b2"]
        np.add.at(v, rows, (values * values) * (one - c["b2"]))
        denom = v
        if self.amsgrad:
            vhat = self.get_slot(var, "vhat")
            np.maximum(vhat, v, out=vhat)
            denom = vhat
        var._value = var._value - c["lr"] * m / (np.sqrt(denom) + c["eps"])
