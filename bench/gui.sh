#!/usr/bin/env bash
# The app's start-up time (saved session to the first frame of the main window) and its
# resident memory with 50 conversations of 1,000 messages open, against a baseline with an
# empty history, on a virtual display. Figures go to docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps
xvfb-run -a -s '-screen 0 1280x800x24' cargo bench -p gnomeqq --bench startup --locked
