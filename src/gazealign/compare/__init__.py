"""Comparing network and human saliency: perturbation analysis, metrics, region shares."""
