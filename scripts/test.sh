#!/usr/bin/env bash
# The project's test command: installs the real peers the tests run against (Debian's
# Prometheus), builds the host binary and every plugin (the end-to-end tests run the real binary
# with real plugins; `cargo test` alone builds no .so), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null 2>&1; then
  echo "installing Debian's prometheus (a real remote-write client for the tests)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

cargo build --workspace
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

# PromQL conformance: Prometheus' own test scripts, beside the repository in shared/promql-tests.
# Fails when any file passes fewer evals than the committed baseline.
./target/debug/promql-conformance \
  --baseline plugins/libs/promql/conformance-baseline.txt \
  ../shared/promql-tests
