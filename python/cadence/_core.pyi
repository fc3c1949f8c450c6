"""Type stubs for the Rust extension ``cadence._core`` (checked by mypy.stubtest)."""

from typing import Final

__version__: Final[str]
INTERNAL_RATE: Final[int]
FRAME_SAMPLES: Final[int]

# --- ring / framer (AudioRing, Framer, OutputFramer) ---------------------------

# --- ledger / dsp (SpeculationLedger, FeatureExtractor) ------------------------
