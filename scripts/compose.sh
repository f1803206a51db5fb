#!/usr/bin/env bash
# Builds the static binary and the image, then runs docker compose with the
# given arguments (default: up -d). No registry is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
CGO_ENABLED=0 go build -trimpath -o deploy/ssoattr ./cmd/ssoattr
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
"${compose[@]}" build
[ $# -gt 0 ] || set -- up -d
exec "${compose[@]}" "$@"
