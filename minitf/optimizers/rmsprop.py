"""RMSprop, as TF's legacy Keras RMSprop.

Without momentum (TF computes this in ops, epsilon outside the root; an
IndexedSlices gradient decays the rms of every row):

    rms = rho * rms + (1 - rho) * g^2            (centered: mg = rho * mg + (1 - rho) * g)
    var -= lr * g / (sqrt(rms [- mg^2]) + epsilon)

With momentum (kernels ApplyRMSProp / ApplyCenteredRMSProp, epsilon inside):

    rms += (g^2 - rms) * (1 - rho)               (centered: mg += (g - mg) * (1 - rho))
    mom = momentum * mom + lr * g / sqrt(rms [- mg^2] + epsilon);  var -= mom
"""

import numpy as np

from minitf.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """Args (TF's names and defaults): learning_rate=0.001, rho=0.9, momentum=0.0,
    epsilon=1e-7, centered=False; slots 'rms', 'momentum', 'mg'."""

    _HYPERS = ("learning_rate", "decay", "rho", "momentum")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="RMSprop", decay=0.0, **kwargs):
        super().__init__(name, learning_rate=kwargs.pop("lr", learning_rate), decay=decay,
                         rho=rho, momentum=momentum)
        self._check_hyper("learning_rate", self._hyper["learning_rate"])
        self._check_hyper("momentum", momentum)
        self.epsilon = 1e-7 if epsilon is None else epsilon
        self.centered = centered

    def _has_momentum(self):
        # TF keeps a 'momentum' slot only for a momentum > 0 (or a callable one).
        m = self._hyper["momentum"]
        return callable(m) or m > 0

    def get_slot_names(self):
        return (["rms"] + (["momentum"] if self._has_momentum() else [])
                + (["mg"] if self.centered else []))

    def _create_slots(self, var):
        for s in self.get_slot_names():
            self.add_slot(var, s)

    def _coefficients(self, dt):
        rho = self._get_hyper("rho", dt)
        return {"lr_t": self._decayed_lr(dt), "rho": rho, "one_minus_rho": dt(1) - rho,
                "momentum": self._get_hyper("momentum", dt), "eps": dt(self.epsilon)}

    def _step(self, grad, rms, mom, mg, w, c):
        """The new value of the variable rows `w` given their gradient `grad`
        (slots updated in place)."""
        if mom is not None and c["momentum"] > 0:
            rms += (grad * grad - rms) * c["one_minus_rho"]
            denom = rms
            if mg is not None:
                mg += (grad - mg) * c["one_minus_rho"]
                denom = rms - mg * mg
            mom[...] = mom * c["momentum"] + c["lr_t"] * grad / np.sqrt(denom + c["eps"])
            return w - mom
        rms[...] = c["rho"] * rms + c["one_minus_rho"] * (grad * grad)
        denom = rms
        if mg is not None:
            mg[...] = c["rho"] * mg + c["one_minus_rho"] * grad
            denom = rms - mg * mg
        return w - c["lr_t"] * grad / (np.sqrt(denom) + c["eps"])

    def _apply_dense(self, grad, var, c):
        mg = self.get_slot(var, "mg") if self.centered else None
        mom = self.get_slot(var, "momentum") if self._has_momentum() else None
        var._value = self._step(grad, self.get_slot(var, "rms"), mom, mg, var._value, c)

    def _apply_sparse(self, values, rows, var, c):
        rms = self.get_slot(var, "rms")
        mg = self.get_slot(var, "mg") if self.centered else None
        w = self._rows(var).reshape(var.shape)
        if c["momentum"] > 0:
            mom = self.get_slot(var, "momentum")  # the sparse kernels: only the touched rows
            r_rms, r_mom = rms[rows], mom[rows]
            r_mg = mg[rows] if mg is not None else None
            w[rows] = self._step(values, r_rms, r_mom, r_mg, w[rows], c)
            rms[rows], mom[rows] = r_rms, r_mom
            if mg is not None:
                mg[rows] = r_mg
            return
        # Without momentum TF decays every row's rms (and mg), then adds the
        # touched rows' gradient terms and updates those rows of the variable.
        rms *= c["rho"]
        rms[rows] += (values * values) * c["one_minus_rho"]
        denom = rms[rows]
        if mg is not None:
            mg *= c["rho"]
            mg[rows] += values * c["one_minus_rho"]
            denom = denom - mg[rows] * mg[rows]
        w[rows] += -c["lr_t"] * values / (np.sqrt(denom) + c["eps"])
