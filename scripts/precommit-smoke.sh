#!/usr/bin/env bash
# Runs this repository's `-system` pre-commit hooks with the real pre-commit tool in a
# scratch git repository, offline, and prints how long installing and running took.
#
#   scripts/precommit-smoke.sh [PORTALGEN]   # default: target/debug/portalgen
#
# The hooks come from a scratch copy of this work tree's .pre-commit-hooks.yaml (committed
# or not), used as `repo:` with its commit as `rev:`, as a team's config would use a tag.
# Steps: a repository with two environments and their committed rendered tree; the
# validate and render-check hooks pass; a spec edit makes render-check fail; the
# portalgen-render hook fixes the tree and fails (files changed); run again, it passes.
# Exit 0 when every step behaved so. Needs git and pre-commit (`pip install pre-commit`).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "${1:-$here/target/debug/portalgen}")" && pwd)/$(basename "${1:-portalgen}")
[ -x "$bin" ] || { echo "no portalgen binary at $bin: cargo build first" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/bin" "$scratch/repo/environments" "$scratch/hooks"
ln -s "$bin" "$scratch/bin/portalgen"
export PATH="$scratch/bin:$PATH" PRE_COMMIT_HOME="$scratch/cache" NO_COLOR=1
cd "$scratch/hooks"
cp "$here/.pre-commit-hooks.yaml" .
git init -q . && git add -A && git -c user.email=smoke@example.com -c user.name=smoke commit -qm hooks
rev=$(git rev-parse HEAD)
cd "$scratch/repo"
cp "$here/environments/dev.yaml" "$here/environments/staging.yaml" environments/
git init -q . && git config user.email smoke@example.com && git config user.name smoke
portalgen --quiet render --all
cat > .pre-commit-config.yaml <<CONFIG
repos:
  - repo: $scratch/hooks
    rev: $rev
    hooks:
      - id: portalgen-validate-system
      - id: portalgen-render-check-system
      - id: portalgen-render-system
        stages: [manual]
CONFIG
git add -A && git commit -qm "specs and rendered tree"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
hook() { pre-commit run "$1" --all-files --hook-stage "${STAGE:-pre-commit}" >"$scratch/out" 2>&1; }
expect() { # expect STATUS HOOK: run HOOK, compare its exit status
  local want=$1 got=0; hook "$2" || got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $2 exited $got, expected $want:" >&2; cat "$scratch/out" >&2; exit 1
  fi
}

t=$(now); pre-commit install-hooks >"$scratch/out" 2>&1 || { cat "$scratch/out" >&2; exit 1; }
echo "pre-commit install-hooks (cold cache): $(since "$t") s"
t=$(now); expect 0 portalgen-validate-system; echo "validate: $(since "$t") s"
t=$(now); expect 0 portalgen-render-check-system; echo "render-check (clean): $(since "$t") s"

sed -i 's/tag: "2.15.0-rc.1"/tag: "2.15.0"/' environments/dev.yaml
git add -A
t=$(now); expect 1 portalgen-render-check-system; echo "render-check (stale, fails): $(since "$t") s"
grep -q 'portalgen render dev' "$scratch/out" || { echo "FAIL: no fix command in:" >&2; cat "$scratch/out" >&2; exit 1; }
t=$(now); STAGE=manual expect 1 portalgen-render-system; echo "render (fixes, fails): $(since "$t") s"
grep -q 'image: registry.example.com/portal/app:2.15.0$' rendered/dev/kubernetes/platform/app/deployment.yaml \
  || { echo "FAIL: the render hook did not update the tree" >&2; exit 1; }
git add -A
t=$(now); STAGE=manual expect 0 portalgen-render-system; echo "render (nothing to fix): $(since "$t") s"
t=$(now); expect 0 portalgen-render-check-system; echo "render-check (fixed): $(since "$t") s"
du -sh "$PRE_COMMIT_HOME" | awk '{ print "pre-commit cache: " $1 }'
echo "ok"
