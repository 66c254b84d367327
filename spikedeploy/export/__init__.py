"""Trained model -> graph on the chip's fixed-point grid, with chip-limit checks."""

from .exporter import BIAS_RULES, EXPORTERS, WEIGHT_FOLDS, ExportError, export_model

__all__ = ["BIAS_RULES", "EXPORTERS", "WEIGHT_FOLDS", "ExportError", "export_model"]
