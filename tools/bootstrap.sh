#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: virtualenv, pinned packages, buf, the
# third-party protos buf/protoc read. Re-running is cheap: each step is skipped
# when its stamp is newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${CLEANSE_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3}
say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
STAMP=$VENV/.cleanse-deps
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  say "installing pinned Python packages (pyproject.toml)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | { grep -v "is ignored: it is neither" || true; }
  "$VENV/bin/python" -m pip install --quiet -e ".[test]" 2>&1 | { grep -v -e "is ignored: it is neither" -e "BuildBackendWarning" || true; }
  SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  printf '%s\n%s\n' "$ROOT" "$ROOT/gen" > "$SITE/cleanse-mesh.pth"
  touch "$STAMP"
fi

if [ ! -x node_modules/.bin/buf ] || [ package.json -nt node_modules/.bin/buf ]; then
  say "installing buf from npm (package.json pins it)"
  npm install --silent --no-audit --no-fund
  touch node_modules/.bin/buf
fi

# google/api/*.proto come from the googleapis-common-protos wheel; google/protobuf
# from grpcio-tools. Copied into an ignored folder; no third-party proto is committed.
THIRD=build/third_party/proto
if [ ! -f "$THIRD/google/api/annotations.proto" ] || [ "$STAMP" -nt "$THIRD/google/api/annotations.proto" ]; then
  say "copying third-party protos into $THIRD"
  "$VENV/bin/python" tools/third_party_protos.py "$THIRD"
fi
