#!/usr/bin/env bash
# Mutation testing of only the files a change touches (issue 15): the mutated folders' .ts files that differ
# between the merge base and the working tree. The full run (npm run test:mutation) takes longer than CI's budget.
#   bash scripts/mutation-changed.sh            base: MUTATION_BASE, else origin/main, else main
#   MUTATION_BASE=<ref> bash scripts/mutation-changed.sh
# On the base branch itself (merge base = HEAD) the change is the last commit (HEAD^..HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."
folders=(driver/core driver/rollout driver/config config)

ref=""
for candidate in "${MUTATION_BASE:-}" origin/main main; do
  if [ -n "$candidate" ] && git rev-parse --verify --quiet "$candidate^{commit}" >/dev/null; then ref=$candidate; break; fi
done
if [ -z "$ref" ]; then
  echo "mutation: no base to diff against (set MUTATION_BASE to a branch or commit); run 'npm run test:mutation' for all files" >&2
  exit 2
fi
base=$(git merge-base HEAD "$ref")
if [ "$base" = "$(git rev-parse HEAD)" ]; then
  base=$(git rev-parse --verify --quiet 'HEAD^' || true)
  if [ -z "$base" ]; then echo "mutation: HEAD has no parent to diff against; nothing to mutate" >&2; exit 0; fi
fi

mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- "${folders[@]}" | grep -E '\.ts$' | grep -vE '\.d\.ts$' || true)
if [ "${#files[@]}" -eq 0 ]; then
  echo "mutation: no file under ${folders[*]} changed since ${base:0:12} ($ref); nothing to mutate" >&2
  exit 0
fi
echo "mutation: ${#files[@]} changed file(s) since ${base:0:12} ($ref): ${files[*]}" >&2
exec node_modules/.bin/node node_modules/.bin/stryker run --mutate "$(IFS=,; echo "${files[*]}")" "$@"
