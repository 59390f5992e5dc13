#!/usr/bin/env sh
# Runs the Containerfile's build stage with cargo directly, for machines without a
# container engine: a source copy without .git (as `COPY . .` gives), PORTALGEN_COMMIT
# from the build argument, `cargo build --locked --profile dist`, then `portalgen --version`.
#
#   scripts/container-stage.sh [TARGET_DIR]
#
# TARGET_DIR (default: target/) is reused between runs so that a rebuild is incremental.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-$here/target}
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
# The build context: the tracked files, as .containerignore-less `COPY . .` would give
# them, without the .git folder.
(cd "$here" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$src"
commit=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
cd "$src"
PORTALGEN_COMMIT="$commit" CARGO_TARGET_DIR="$target" cargo build --locked --profile dist --bin portalgen
"$target/dist/portalgen" --version
