#!/usr/bin/env bash
# Installs the peer servers of bench/peers.sh from npm, pinned by this
# directory's package.json and package-lock.json (oidc-provider 9.13.3),
# into bench/peers/node_modules (not committed). Needs Node.js 20 or later.
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "bench/peers/install.sh: Node.js is needed" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
node -e 'console.log("oidc-provider", require("oidc-provider/package.json").version)' 2>/dev/null ||
    node --input-type=module -e 'import p from "oidc-provider/package.json" with { type: "json" }; console.log("oidc-provider", p.version)'
