#!/usr/bin/env bash
# Schemathesis over /v1/openapi.json against a real `mask serve` on a fresh SQLite database: every check,
# every phase (examples, coverage, fuzzing, stateful), for a bounded time. Zero failures expected.
#   FUZZ_SECONDS (default 180): schemathesis's --max-time; FUZZ_ARGS: more schemathesis arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
work=$(mktemp -d)
port=$("$BIN/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
export MASK_DATABASE_URL="sqlite+aiosqlite:///$work/mask.db"
export MASK_SHORT_DOMAIN="127.0.0.1:$port" MASK_SERVE_BACKGROUND=false MASK_RATE_LIMIT_ENABLED=false
"$BIN/mask" migrate >/dev/null
"$BIN/mask" workspaces create fuzz --plan enterprise >/dev/null
key=$("$BIN/mask" keys create --workspace fuzz --name schemathesis)
"$BIN/mask" serve --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true  # its status (terminated) is not the run's
    rm -rf "$work"
}
trap cleanup EXIT
status=0
"$BIN/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/v1/openapi.json" --url "http://127.0.0.1:$port" \
    --wait-for-schema 30 --checks all --max-time "$FUZZ_SECONDS" --workers 1 --seed 17 --generation-database none \
    -H "Authorization: Bearer $key" --no-color ${FUZZ_ARGS:-} || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- mask serve's log (last 60 lines) ---"
    tail -n 60 "$work/serve.log"
fi
exit "$status"
