"""cadence_kernels imports and its numpy references run without torch or triton."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import cadence_kernels


def test_public_surface() -> None:
    assert sorted(cadence_kernels.__all__) == ["available", "composite", "interpreter_requested", "warp"]
    assert sorted(cadence_kernels.composite.__all__) == sorted(
        ["composite", "composite_naive", "composite_eager", "div255", "pick_block"]
    )
    assert sorted(cadence_kernels.warp.__all__) == sorted(["warp", "warp_naive", "warp_eager", "pick_block"])


def test_works_without_torch_and_triton() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any import of torch / triton now fails
        sys.modules["triton"] = None
        import numpy as np
        import cadence_kernels
        from cadence_kernels.composite import composite, composite_naive
        from cadence_kernels.warp import warp_naive
        assert cadence_kernels.available() is False
        f = np.zeros((1, 4, 4, 3), np.uint8)
        l = np.full((1, 2, 2, 4), 255, np.uint8)
        assert composite_naive(f, l, (1, 1)).sum() == 255 * 12
        assert warp_naive(f, np.zeros((1, 4, 4, 2), np.float32)).shape == f.shape
        try:
            composite(f, l, (0, 0))
        except ModuleNotFoundError as e:
            assert "gpu" in str(e) and "naive" in str(e), e
        else:
            raise AssertionError("composite ran without torch")
        assert "torch" not in {m for m, v in sys.modules.items() if v is not None}
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_pick_block_sizes() -> None:
    from cadence_kernels.composite import pick_block as pick_c
    from cadence_kernels.warp import pick_block as pick_w

    for pick in (pick_c, pick_w):
        for n in (1, 37 * 53, 256 * 384, 1080 * 1920):
            for interp in (False, True):
                block, warps = pick(n, interp)
                assert block & (block - 1) == 0 and warps in (1, 2, 4, 8)
                if not interp:
                    assert 128 <= block <= 1024
        assert pick(1080 * 1920, True)[0] >= pick(1080 * 1920, False)[0]
