#!/bin/sh
# Run once by the postgres image when it creates the primary's database
# (/docker-entrypoint-initdb.d): lets the replica service stream the WAL, with the password.
set -e
echo "host replication ${POSTGRES_USER:-postgres} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
