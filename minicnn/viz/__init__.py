"""Seeing what a network computes: the graph backward walks, and explanations of a trained model."""
from .graph import dot_available, graph, render

__all__ = ["graph", "render", "dot_available"]
