#!/bin/sh
# Regenerates every golden tree: golden/<env>/ for the root environments and
# examples/<example>/golden/<env>/ for each shipped example. Review the diff like code.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/portalgen
"$bin" render --all --quiet --out golden
for example in examples/*/; do
    example=${example%/}
    "$bin" render --root "$example" --all --quiet --out "$example/golden"
done
