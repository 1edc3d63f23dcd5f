"""Capture, image pipeline and barcode reading for digitization."""
