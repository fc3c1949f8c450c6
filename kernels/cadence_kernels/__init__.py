"""Triton kernels for the Cadence renderer (filled in by the kernels work)."""
