#!/usr/bin/env bash
# Builds the static binary and the image, then runs docker compose with the
# given arguments (default: up -d). No registry is needed.
#
# On first use it makes the NATS users' passwords (deploy/compose.env, mode
# 0600) and the CLI's context files for the cluster (deploy/nats/admin.json
# and reader.json, naming nats1 on 127.0.0.1:14222), so that
#   ssoattr sso create-user bob --data-dir deploy
#   ssoattr watch --data-dir deploy
# work from this host. Keep deploy/compose.env: the cluster's users have
# these passwords.
set -euo pipefail
cd "$(dirname "$0")/.."
CGO_ENABLED=0 go build -trimpath -o deploy/ssoattr ./cmd/ssoattr
umask 077
if [ ! -f deploy/compose.env ]; then
	secret() { printf 'p%s' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
	{
		for role in SERVICE ADMIN READER SETUP ROUTE; do
			echo "SSOATTR_NATS_${role}_PASSWORD=$(secret)"
		done
	} > deploy/compose.env
fi
set -a
# shellcheck source=/dev/null
. deploy/compose.env
set +a
mkdir -p deploy/nats
for role in admin reader; do
	var="SSOATTR_NATS_$(echo "$role" | tr a-z A-Z)_PASSWORD"
	cat > "deploy/nats/$role.json" <<JSON
{
  "description": "ssoattr $role role, docker-compose.yml's cluster",
  "url": "nats://127.0.0.1:14222",
  "socks_proxy": "", "token": "", "user": "$role", "password": "${!var}", "creds": "", "nkey": "",
  "cert": "", "key": "", "ca": "", "nsc": "", "jetstream_domain": "", "jetstream_api_prefix": "",
  "jetstream_event_prefix": "", "inbox_prefix": "_INBOX_$role", "user_jwt": "", "color_scheme": "",
  "tls_first": false
}
JSON
done
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
"${compose[@]}" build
[ $# -gt 0 ] || set -- up -d
exec "${compose[@]}" "$@"
