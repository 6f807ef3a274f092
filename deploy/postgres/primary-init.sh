#!/bin/sh
# Runs once, when the primary's data directory is created (/docker-entrypoint-initdb.d): a role the standby
# streams WAL as, and a pg_hba line that lets it. wal_level is `replica` by default in PostgreSQL 15.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
