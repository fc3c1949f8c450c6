"""Compile every kernel ahead of time for a CUDA target, without a GPU.

Runs triton's full pipeline (TTIR → TTGIR → LLVM IR → PTX → cubin via the ptxas
that ships with triton) for each kernel and each specialisation the launchers
use, so a machine with no GPU still checks that the kernels lower for real
hardware (the interpreter accepts programs the compiler would reject).

    python -m cadence_kernels.compile_check [--arch 90]

Must run in a process where TRITON_INTERPRET is unset (the kernels are then
``JITFunction``s, not interpreter functions).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _i32(names: str) -> dict[str, str]:
    return {n: "i32" for n in names.split()}


def cases() -> list[tuple[str, Any, dict[str, str], dict[str, Any], int]]:
    """(name, kernel, signature, constexprs, num_warps) for each specialisation."""
    from .composite.kernel import composite_kernel
    from .warp.kernel import warp_kernel

    out: list[tuple[str, Any, dict[str, str], dict[str, Any], int]] = []
    sig_c = {"frame_ptr": "*u8", "layer_ptr": "*u8", "xy_ptr": "*i32"}
    sig_c |= _i32("H W h w f_sb f_sh f_sw f_sc l_sb l_sh l_sw l_sc") | {"BLOCK": "constexpr"}
    for block, warps in ((1024, 4), (128, 2)):
        out.append((f"composite BLOCK={block}", composite_kernel, sig_c, {"BLOCK": block}, warps))
    for dt in ("u8", "fp32"):
        for c in (1, 3, 4):
            sig_w = {"img_ptr": f"*{dt}", "flow_ptr": "*fp32", "out_ptr": f"*{dt}"}
            sig_w |= _i32("H W i_sb i_sh i_sw i_sc f_sb f_sh f_sw f_sc o_sb o_sh o_sw o_sc")
            sig_w |= {"C": "constexpr", "IS_U8": "constexpr", "BLOCK": "constexpr"}
            const = {"C": c, "IS_U8": dt == "u8", "BLOCK": 512}
            out.append((f"warp {dt} C={c}", warp_kernel, sig_w, const, 4))
    # A width of 1 is specialised to a constant by triton's launcher: check it lowers.
    sig_w1 = {**sig_w, "W": "constexpr"}
    out.append(("warp fp32 C=4 W=1", warp_kernel, sig_w1, {"C": 4, "IS_U8": False, "BLOCK": 128, "W": 1}, 2))
    return out


def compile_all(arch: int = 90) -> dict[str, int]:
    """Compile every case for sm_<arch>; return the cubin size in bytes per case."""
    import triton  # type: ignore[import-untyped]
    from triton.backends.compiler import GPUTarget  # type: ignore[import-untyped]
    from triton.compiler import ASTSource  # type: ignore[import-untyped]
    from triton.runtime.jit import JITFunction  # type: ignore[import-untyped]

    target = GPUTarget("cuda", arch, 32)
    sizes: dict[str, int] = {}
    for name, kernel, sig, const, warps in cases():
        if not isinstance(kernel, JITFunction):
            raise RuntimeError("TRITON_INTERPRET is set: kernels were built for the interpreter; unset it")
        compiled = triton.compile(ASTSource(kernel, sig, constexprs=const), target=target, options={"num_warps": warps})
        sizes[name] = len(compiled.asm["cubin"])
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Compile the cadence_kernels for a CUDA arch, no GPU needed.")
    p.add_argument("--arch", type=int, default=90, help="compute capability ×10 (80 = A100, 90 = H100)")
    args = p.parse_args(argv)
    sizes = compile_all(args.arch)
    for name, size in sizes.items():
        print(f"sm_{args.arch} {name}: cubin {size} bytes")
    print(f"compiled {len(sizes)} kernel specialisations for sm_{args.arch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
