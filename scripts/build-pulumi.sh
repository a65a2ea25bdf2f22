#!/usr/bin/env bash
# Build the Pulumi engine from Go modules: the `pulumi` CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi,
# version pinned in tools/pulumi/go.mod) and the repository's Node.js language host
# (tools/pulumi/cmd/pulumi-language-nodejs), into .tools/bin/. See docs/pulumi-engine.md.
#
# Idempotent: exits at once when .tools/bin holds binaries built from the same pins (stamp file).
# Prints the bin dir on stdout on success; progress goes to stderr.
#
# A `pulumi` already installed (on PATH, in $PULUMI_HOME/bin or ~/.pulumi/bin) whose version is at least
# MIN_PULUMI_VERSION (driver/pulumi/pulumiCli.ts) and that has its pulumi-language-nodejs beside it is used
# instead of a build: it is linked into .tools/bin (stamp "installed ..."), and Go is not needed at all.
#
# Usage: scripts/build-pulumi.sh [--force]   (--force: build from Go modules even when one is installed)
# Env:   PULUMI_TOOLS_BIN  output dir (default <repo>/.tools/bin)
#        GO                go binary (default: go on PATH)
#        MLOPS_BUILD_PULUMI=1  always build from Go modules (ignore an installed pulumi)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MOD_DIR=$ROOT/tools/pulumi
BIN=${PULUMI_TOOLS_BIN:-$ROOT/.tools/bin}
STAMP=$BIN/.pulumi-engine.stamp
GO=${GO:-go}
FORCE=0
[[ ${1:-} == --force ]] && FORCE=1

log() { printf 'build-pulumi: %s\n' "$*" >&2; }
die() { printf 'build-pulumi: error: %s\n' "$*" >&2; exit 1; }

[[ -f $MOD_DIR/go.mod ]] || die "missing $MOD_DIR/go.mod"

# The pinned CLI version, straight from go.mod (no go command needed for the fast path).
VERSION=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' "$MOD_DIR/go.mod")
[[ $VERSION == v3.* ]] || die "cannot read the github.com/pulumi/pulumi/pkg/v3 version from tools/pulumi/go.mod"

# The stamp identifies a build: version + hash of every input this script controls.
inputs_hash() {
  (cd "$MOD_DIR" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort \
    | xargs sha256sum) | cat - "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16
}
WANT="pulumi $VERSION inputs $(inputs_hash)"

BINARIES=(pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs)
up_to_date() {
  [[ -f $STAMP && "$(cat "$STAMP")" == "$WANT" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x $BIN/$b ]] || return 1; done
}

if [[ $FORCE == 0 ]] && up_to_date; then
  log "up to date: $WANT"
  echo "$BIN"
  exit 0
fi

# An installed pulumi, recent enough, with its Node.js language host beside it: link it instead of building.
MIN=$(sed -n 's/^export const MIN_PULUMI_VERSION = "\([0-9.]*\)";$/\1/p' "$ROOT/driver/pulumi/pulumiCli.ts")
[[ -n $MIN ]] || die "cannot read MIN_PULUMI_VERSION from driver/pulumi/pulumiCli.ts"
installed_pulumi() {
  local c dir v
  for c in "$(command -v pulumi 2>/dev/null || true)" ${PULUMI_HOME:+"$PULUMI_HOME/bin/pulumi"} "$HOME/.pulumi/bin/pulumi"; do
    [[ -n $c && -x $c ]] || continue
    c=$(readlink -f "$c")
    dir=$(dirname "$c")
    [[ $dir == "$(readlink -f "$BIN" 2>/dev/null)" ]] && continue # our own link or build
    [[ -x $dir/pulumi-language-nodejs ]] || { log "ignoring $c: no pulumi-language-nodejs beside it"; continue; }
    v=$(PULUMI_SKIP_UPDATE_CHECK=true "$c" version 2>/dev/null | sed 's/^v//') || continue
    [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || continue
    if [[ "$(printf '%s\n%s\n' "$MIN" "${v%%-*}" | sort -V | head -1)" != "$MIN" ]]; then
      log "ignoring $c: version $v is older than $MIN"
      continue
    fi
    printf '%s %s\n' "$c" "$v"
    return 0
  done
  return 1
}
if [[ $FORCE == 0 && ${MLOPS_BUILD_PULUMI:-0} != 1 ]] && found=$(installed_pulumi); then
  cli=${found% *}
  mkdir -p "$BIN"
  ln -sfn "$cli" "$BIN/pulumi"
  ln -sfn "$(dirname "$cli")/pulumi-language-nodejs" "$BIN/pulumi-language-nodejs"
  [[ -x $(dirname "$cli")/pulumi-resource-pulumi-nodejs ]] && ln -sfn "$(dirname "$cli")/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"
  rm -f "$STAMP"
  log "using the installed pulumi $found (no Go build); MLOPS_BUILD_PULUMI=1 builds from Go modules instead"
  echo "$BIN"
  exit 0
fi

command -v "$GO" >/dev/null 2>&1 || die "go not found on PATH (install Go >= $(awk '$1 == "go" { print $2; exit }' "$MOD_DIR/go.mod"))"

# Never let the go command fetch a newer toolchain: the machine reaches only the module proxy.
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"
NEED_GO=$(awk '$1 == "go" { print $2; exit }' "$MOD_DIR/go.mod")
HAVE_GO=$("$GO" env GOVERSION | sed 's/^go//')
if [[ "$(printf '%s\n%s\n' "$NEED_GO" "$HAVE_GO" | sort -V | head -1)" != "$NEED_GO" ]]; then
  die "tools/pulumi/go.mod needs go >= $NEED_GO, found go $HAVE_GO (GOTOOLCHAIN=local: no toolchain download)"
fi

mkdir -p "$BIN"
LOCK=$BIN/.pulumi-engine.lock
if command -v flock >/dev/null 2>&1; then
  exec 9>"$LOCK"
  flock 9
  # Someone else may have finished the build while we waited.
  if [[ $FORCE == 0 ]] && up_to_date; then log "built by a concurrent run"; echo "$BIN"; exit 0; fi
fi

TMP=$(mktemp -d "$BIN/.build.XXXXXX")
LOGFILE=$BIN/.pulumi-engine.build.log
trap 'rm -rf "$TMP"' EXIT

LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"
log "building pulumi $VERSION + pulumi-language-nodejs with $("$GO" env GOVERSION) (GOTOOLCHAIN=local, -p 2); log: $LOGFILE"
log "first build downloads ~1.5 GB of modules through GOPROXY and compiles for several minutes; later builds use the Go caches"
start=$(date +%s)
if ! (cd "$MOD_DIR" && "$GO" build -p 2 -trimpath -ldflags "$LDFLAGS" -o "$TMP/" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ./cmd/pulumi-language-nodejs) >"$LOGFILE" 2>&1; then
  die "go build failed: $(grep -v '^\s*$' "$LOGFILE" | tail -1) (full log: $LOGFILE)"
fi

# Dynamic providers (pulumi.dynamic.Resource) are served by a provider plugin named
# pulumi-resource-pulumi-nodejs that runs @pulumi/pulumi/cmd/dynamic-provider from the program's node_modules.
cat >"$TMP/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
# Provider plugin for Pulumi dynamic providers (written by scripts/build-pulumi.sh).
script=$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || exit 1
exec node "$script" "$@"
EOF
chmod +x "$TMP/pulumi-resource-pulumi-nodejs"

got=$("$TMP/pulumi" version 2>/dev/null || true)
[[ $got == "$VERSION" ]] || die "built pulumi reports version '$got', expected '$VERSION'"

for b in "${BINARIES[@]}"; do mv -f "$TMP/$b" "$BIN/$b"; done
echo "$WANT" >"$STAMP"
log "done in $(( $(date +%s) - start ))s: $(cd "$BIN" && echo "${BINARIES[@]}")"
echo "$BIN"
