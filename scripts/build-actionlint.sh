#!/usr/bin/env bash
# Build actionlint (the GitHub Actions workflow linter, Go module github.com/rhysd/actionlint) into .tools/bin/
# with `go install` through the Go module proxy. test/unit/github/actionlint.test.ts runs it on .github/workflows/.
#
# Idempotent: exits at once when .tools/bin/actionlint was built from the same version (stamp file). Holds a lock
# so concurrent runs build once. Prints the binary's path on stdout on success; progress goes to stderr.
#
# Usage: scripts/build-actionlint.sh
# Env:   ACTIONLINT_TOOLS_BIN  output dir (default <repo>/.tools/bin)
#        GO                    go binary (default: go on PATH)
set -euo pipefail

# The pinned release. Change it here only: the stamp, and so every machine's next run, follows it.
VERSION=v1.7.12
MODULE=github.com/rhysd/actionlint/cmd/actionlint

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${ACTIONLINT_TOOLS_BIN:-$ROOT/.tools/bin}
STAMP=$BIN/.actionlint.stamp
GO=${GO:-go}
WANT="actionlint $VERSION"

log() { printf 'build-actionlint: %s\n' "$*" >&2; }
die() { printf 'build-actionlint: error: %s\n' "$*" >&2; exit 1; }

up_to_date() { [[ -x $BIN/actionlint && -f $STAMP && "$(cat "$STAMP")" == "$WANT" ]]; }

if up_to_date; then
  log "up to date: $WANT"
  echo "$BIN/actionlint"
  exit 0
fi

command -v "$GO" >/dev/null 2>&1 || die "go not found on PATH: install Go (>= 1.25, what actionlint $VERSION's go.mod asks for), or set GO=<path to go>"

# Never let the go command fetch a toolchain: the machine reaches only the module proxy.
export GOTOOLCHAIN=local

mkdir -p "$BIN"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BIN/.actionlint.lock"
  flock 9
  if up_to_date; then log "built by a concurrent run"; echo "$BIN/actionlint"; exit 0; fi
fi

TMP=$(mktemp -d "$BIN/.actionlint.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
LOGFILE=$BIN/.actionlint.build.log
log "go install $MODULE@$VERSION with $("$GO" env GOVERSION) (GOTOOLCHAIN=local); log: $LOGFILE"
start=$(date +%s)
# GOBIN: install straight into a temporary folder, moved into place only once it runs.
if ! GOBIN=$TMP "$GO" install -trimpath -ldflags "-s -w" "$MODULE@$VERSION" >"$LOGFILE" 2>&1; then
  die "go install failed: $(grep -v '^\s*$' "$LOGFILE" | tail -1) (full log: $LOGFILE)"
fi
# `go install pkg@version` stamps the module version into the binary (debug.ReadBuildInfo), which actionlint prints.
got=$("$TMP/actionlint" -version 2>/dev/null | head -1 || true)
[[ $got == "${VERSION#v}" || $got == "$VERSION" ]] || die "the built actionlint reports version '$got', expected $VERSION"
mv -f "$TMP/actionlint" "$BIN/actionlint"
echo "$WANT" >"$STAMP"
log "done in $(( $(date +%s) - start ))s: $BIN/actionlint"
echo "$BIN/actionlint"
