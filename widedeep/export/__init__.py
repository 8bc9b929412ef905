"""Exporting a trained estimator: SavedModel-style signatures and tf.Example parsing.

    from widedeep.export import export_saved_model, build_parsing_serving_input_receiver_fn
    spec = widedeep.feature_column.make_parse_example_spec(columns)
    path = export_saved_model(estimator, "exports", build_parsing_serving_input_receiver_fn(spec))
    model = widedeep.saved_model.load(path)
    model.signatures["serving_default"](inputs=[serialized_example, ...])

See exporter.py for the directory layout and receivers.py for the placeholders
(`TensorSpec`) that stand in for TF's graph tensors; `server.py` serves an
export over TF-Serving's REST API.
"""

from widedeep.export.exporter import (  # noqa: F401
    experimental_export_all_saved_models,
    export_saved_model,
)
from widedeep.export.receivers import (  # noqa: F401
    ParsedFeature,
    ServingInputReceiver,
    TensorServingInputReceiver,
    TensorSpec,
    build_parsing_serving_input_receiver_fn,
    build_raw_serving_input_receiver_fn,
    parse_example,
)
from widedeep.export.runtime import NotExportableError  # noqa: F401
