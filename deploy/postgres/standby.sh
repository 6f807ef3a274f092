#!/bin/sh
# The standby's entrypoint: on first start, a base backup of the primary with -R (standby.signal and
# primary_conninfo written for us), then PostgreSQL as a hot standby that streams from the primary from then on.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_basebackup --host=db --username=replicator --pgdata="$PGDATA" -R --wal-method=stream --checkpoint=fast; do
        echo "waiting for the primary to accept a base backup"
        rm -rf "${PGDATA:?}"/*
        sleep 2
    done
    chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
