#!/usr/bin/env bash
# The whole test suite: typecheck, then every test (unit, in-memory multi-node, the compiled binary,
# testbed and Docker). Tests that need root or Docker fail loudly when CI=true, and skip with a reason
# elsewhere. bun test prints its summary on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
node_modules/.bin/tsc --noEmit -p .
node_modules/.bin/tsc --noEmit -p src/dashboard/ui  # the page: browser types only there
# bun test does not read bunfig.toml's [test] timeout (oven-sh/bun#7789): the default of 5 s per test is
# too short for tests of real processes on a busy 2-core machine.
exec node_modules/.bin/bun test --timeout 120000 "$@"
