#!/usr/bin/env bash
# Set up everything, then run the whole test suite: Rust (cargo test, with
# proptest) and Python (pytest, with hypothesis), plus the stub check and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH"
cargo test -p cadence-core --release
python -m mypy.stubtest cadence._core --allowlist scripts/stubtest-allowlist.txt
python -m mypy python/cadence
python -m pytest "$@"
