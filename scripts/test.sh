#!/usr/bin/env bash
# The project's test command: builds the host binary and every plugin (the end-to-end tests run
# the real binary with real plugins; `cargo test` alone builds no .so), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --workspace
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
