"""What an exported signature returns (tf.estimator.export's ExportOutput kinds)."""


class ExportOutput:
    method_name = None

    def as_signature_outputs(self):
        """{output name: array} as the signature returns them."""
        raise NotImplementedError


class ClassificationOutput(ExportOutput):
    """`scores` [batch, n] and `classes` [batch, n] (strings); method
    tensorflow/serving/classify."""

    method_name = "tensorflow/serving/classify"

    def __init__(self, scores=None, classes=None):
        if scores is None and classes is None:
            raise ValueError("At least one of scores and classes must be set.")
        self.scores, self.classes = scores, classes

    def as_signature_outputs(self):
        out = {}
        if self.classes is not None:
            out["classes"] = self.classes
        if self.scores is not None:
            out["scores"] = self.scores
        return out


class RegressionOutput(ExportOutput):
    """`value` [batch] or [batch, 1]; method tensorflow/serving/regress."""

    method_name = "tensorflow/serving/regress"

    def __init__(self, value):
        self.value = value

    def as_signature_outputs(self):
        return {"outputs": self.value}


class PredictOutput(ExportOutput):
    """Any dict of outputs; method tensorflow/serving/predict."""

    method_name = "tensorflow/serving/predict"

    def __init__(self, outputs):
        if not isinstance(outputs, dict):
            outputs = {"output": outputs}
        self.outputs = dict(outputs)

    def as_signature_outputs(self):
        return dict(self.outputs)
