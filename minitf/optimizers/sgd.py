"""Gradient descent with optional momentum, as TF's legacy Keras SGD
(kernels ApplyGradientDescent / ApplyKerasMomentum):

    no momentum: var -= lr * g
    momentum:    mom = momentum * mom - lr * g;  var += mom
    nesterov:    mom = momentum * mom - lr * g;  var += momentum * mom - lr * g
"""

from minitf.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Args (TF's names and defaults): learning_rate=0.01, momentum=0.0,
    nesterov=False; slot 'momentum' when momentum > 0."""

    _HYPERS = ("learning_rate", "decay", "momentum")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD",
                 decay=0.0, **kwargs):
        if isinstance(momentum, (int, float)) and not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be between [0, 1]. Received: momentum={momentum}")
        super().__init__(name, learning_rate=kwargs.pop("lr", learning_rate), decay=decay,
                         momentum=momentum)
        self._check_hyper("learning_rate", self._hyper["learning_rate"])
        self.nesterov = nesterov
        self._momentum = callable(momentum) or momentum > 0

    def get_slot_names(self):
        return ["momentum"] if self._momentum else []

    def _create_slots(self, var):
        if self._momentum:
            self.add_slot(var, "momentum")

    def _coefficients(self, dt):
        return {"lr_t": self._decayed_lr(dt), "momentum": self._get_hyper("momentum", dt)}

    def _new_rows(self, grad, w, mom, c):
        if not self._momentum:
            return w - c["lr_t"] * grad
        mom[...] = mom * c["momentum"] - c["lr_t"] * grad
        if self.nesterov:
            return w + (mom * c["momentum"] - c["lr_t"] * grad)
        return w + mom

    def _apply_dense(self, grad, var, c):
        mom = self.get_slot(var, "momentum") if self._momentum else None
        var._value = self._new_rows(grad, var._value, mom, c)

    def _apply_sparse(self, values, rows, var, c):
        mom = self.get_slot(var, "momentum") if self._momentum else None
        r_mom = mom[rows] if mom is not None else None
        new = self._new_rows(values, var._value[rows], r_mom, c)
        if mom is not None:
            mom[rows] = r_mom
        self._rows(var)  # makes the buffer writeable
        var._value[rows] = new  # only the touched rows change
