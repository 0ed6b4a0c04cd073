#!/usr/bin/env bash
# buf breaking against a git ref (default: main). The third-party protos are not
# committed, so the ref's proto/ is unpacked next to our build/third_party copy and
# built into an image that buf compares the working tree with.
set -euo pipefail
cd "$(dirname "$0")/.."
REF=${1:-main}
BUF=node_modules/.bin/buf
if ! git rev-parse -q --verify "$REF^{commit}" >/dev/null; then
  echo "  no $REF to compare with: skipped (first commit)"; exit 0
fi
if ! git cat-file -e "$REF:proto" 2>/dev/null; then
  echo "  $REF has no proto/ yet: nothing to compare"; exit 0
fi
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
git archive "$REF" proto buf.yaml | tar -x -C "$TMP"
mkdir -p "$TMP/build/third_party"
cp -r build/third_party/proto "$TMP/build/third_party/"
"$BUF" build "$TMP" -o "$TMP/against.binpb"
"$BUF" build . -o "$TMP/current.binpb"
"$BUF" breaking "$TMP/current.binpb" --against "$TMP/against.binpb"
echo "  no breaking change against $REF ($(git rev-parse --short "$REF"))"
