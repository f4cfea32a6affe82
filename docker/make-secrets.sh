#!/usr/bin/env bash
# Create the stack's Docker secrets in docker/secrets/ (once; existing files
# are kept): random Synapse secrets, the PostgreSQL password (also as the
# libpq password file Synapse reads), Grafana's admin password, and with
# --cn the module's identity key file, made by the image's own keytool.
# Each file is readable by its reader only (0600, owned by the uid of the
# container that reads it), so run it as root:  sudo docker/make-secrets.sh
set -euo pipefail
cd "$(dirname "$0")"
DIR="${SECRETS_DIR:-secrets}"
CN=false
for arg in "$@"; do
    case "$arg" in
        --cn) CN=true ;;
        *) echo "usage: $0 [--cn]" >&2; exit 2 ;;
    esac
done
SYNAPSE_UID=991      # matrixdotorg/synapse (compose.yaml runs it as 991:991)
POSTGRES_UID=0       # read by the postgres image's entrypoint before it drops root
GRAFANA_UID=472      # grafana/grafana-oss
mkdir -p "$DIR"
chmod 0755 "$DIR"

random() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# put NAME OWNER: write stdin to DIR/NAME unless it exists, 0600, owned by OWNER.
put() {
    local path="$DIR/$1"
    if [ -e "$path" ]; then
        echo "kept    $path"
        cat >/dev/null
        return
    fi
    (umask 077 && cat >"$path")
    chmod 0600 "$path"
    if [ "$(id -u)" = 0 ]; then chown "$2:$2" "$path"; fi
    echo "created $path"
}

for name in synapse_registration_shared_secret synapse_macaroon_secret_key \
            synapse_form_secret synapse_replication_secret; do
    random | put "$name" "$SYNAPSE_UID"
done
if [ ! -e "$DIR/postgres_password" ]; then
    password="$(random)"
    printf '%s' "$password" | put postgres_password "$POSTGRES_UID"
    # libpq's password file: host:port:database:user:password
    printf 'postgres:5432:synapse:synapse:%s\n' "$password" | put synapse_pgpass "$SYNAPSE_UID"
fi
random | put grafana_admin_password "$GRAFANA_UID"

if [ "$CN" = true ] && [ ! -e "$DIR/groupreg_identity_key" ]; then
    # The module's own key file format, from the image just built.
    docker run --rm --user 0 --entrypoint python \
        -v "$(cd "$DIR" && pwd):/out" synapse-groupreg:latest \
        -m synapse_groupreg.identity.keytool generate /out/groupreg_identity_key
    chmod 0600 "$DIR/groupreg_identity_key"
    if [ "$(id -u)" = 0 ]; then chown "$SYNAPSE_UID:$SYNAPSE_UID" "$DIR/groupreg_identity_key"; fi
    echo "created $DIR/groupreg_identity_key: back it up; without it no identity can be read"
fi
