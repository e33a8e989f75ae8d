"""Seeing what a network computes: the graph backward walks, and explanations of a trained model."""
from .explain import feature_maps, filters, grad_cam, gradient_flow, saliency
from .graph import dot_available, graph, render

__all__ = ["graph", "render", "dot_available", "feature_maps", "filters", "saliency", "grad_cam", "gradient_flow"]
