#!/usr/bin/env bash
# Set up everything, then run the offline demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/cadence demo "$@"
