#!/usr/bin/env bash
# run.sh — the conformance check, as CI runs it: install the validators,
# fetch the real API documents, and run the Go tests of this module.
#
# Needs Go and Node/npm (nothing else). Idempotent: a second run reuses
# node_modules/ and .specs/ when they are already right.
#
#   bash conformance/run.sh            # from the repository root
#   CI=true bash conformance/run.sh    # missing inputs fail instead of skip
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

prism_version="5.14.2" # pinned in package.json and package-lock.json

for tool in go node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "conformance: $tool is required but not installed" >&2
    exit 1
  fi
done

# 1. Stoplight Prism (the second, independent validator), from package-lock.json.
if [[ -x node_modules/.bin/prism ]] && [[ "$(node_modules/.bin/prism --version 2>/dev/null || true)" == "$prism_version" ]]; then
  echo "conformance: prism $prism_version already installed"
else
  echo "conformance: installing prism $prism_version (npm ci)"
  ok=""
  for attempt in 1 2 3; do
    if npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; then
      ok=1
      break
    fi
    echo "conformance: npm ci failed (attempt $attempt)" >&2
    sleep $((attempt * 5))
  done
  [[ -n "$ok" ]] || { echo "conformance: could not install prism" >&2; exit 1; }
  got="$(node_modules/.bin/prism --version)"
  [[ "$got" == "$prism_version" ]] || { echo "conformance: prism $got installed, want $prism_version" >&2; exit 1; }
fi

# 2. The real API documents.
bash ./fetch-specs.sh

# 3. The tests. -mod=mod lets this module pick up requirements the root
# module gained since conformance/go.mod was last tidied (replace ../).
start=$(date +%s)
set +e
GOFLAGS="${GOFLAGS:-} -mod=mod" go test -count=1 -timeout 30m -v ./... 2>&1 | tee .test-output.log | grep -vE '^=== (RUN|PAUSE|CONT|NAME)'
status=${PIPESTATUS[0]}
set -e
echo "conformance: go test finished in $(( $(date +%s) - start ))s (exit $status); full reports in conformance/.reports/"
exit "$status"
