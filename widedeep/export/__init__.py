"""Exporting a trained estimator: SavedModel-style signatures and tf.Example parsing."""
