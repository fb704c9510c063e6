#!/bin/sh
# Writes the compose secrets deploy/compose.yaml reads, with fresh random passwords,
# unless they exist already (delete a file to replace it; changing the database
# password of an existing pgdata volume also needs ALTER ROLE in PostgreSQL).
#
#   postgres_password       the posthub role's password (POSTGRES_PASSWORD_FILE)
#   database_url            posthub's connection string with it (DATABASE_URL_FILE)
#   grafana_admin_password  Grafana's admin password (GF_SECURITY_ADMIN_PASSWORD__FILE)
set -eu
cd "$(dirname "$0")"

random() {
	# 32 hex characters: safe inside a URL without escaping.
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

write() { # name value
	if [ -e "$1" ]; then
		echo "kept    secrets/$1"
		return
	fi
	# Readable by the containers' users (postgres, nonroot, grafana): compose mounts the
	# file as it is. The directory itself is private to its owner.
	(umask 022 && printf '%s\n' "$2" >"$1")
	echo "written secrets/$1"
}

chmod 700 .
if [ -e postgres_password ]; then
	pw=$(cat postgres_password)
else
	pw=$(random)
fi
write postgres_password "$pw"
write database_url "postgres://posthub:${pw}@postgres:5432/posthub?sslmode=disable"
write grafana_admin_password "$(random)"
