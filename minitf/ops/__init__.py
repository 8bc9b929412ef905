"""Differentiable ops, one file per family: math, array, nn, sparse."""
