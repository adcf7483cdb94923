#!/bin/sh
# Creates (first run) or upgrades (every later run) the Temporal server's two PostgreSQL
# databases: persistence and visibility, from the schema files of the server version that runs.
# docker-compose.yml runs it in the temporal-schema container before the server starts; the tests
# run it the same way (infra/temporal/production-server.ts). Safe to run again: an existing
# database is kept, and update-schema applies only the versions it lacks.
#
# Env: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, POSTGRES_PWD (handed to the tool as
# SQL_PASSWORD, never as an argument), TEMPORAL_DB and TEMPORAL_VISIBILITY_DB (database names,
# defaults temporal and temporal_visibility, as in server-postgres.yaml), SCHEMA_DIR (the
# server's schema/postgresql/v12; the admin-tools image keeps it in /etc/temporal/schema),
# SQL_TOOL (temporal-sql-tool).
set -eu

SQL_TOOL=${SQL_TOOL:-temporal-sql-tool}
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
export SQL_PLUGIN=postgres12
export SQL_HOST="${POSTGRES_SEEDS:-127.0.0.1}"
export SQL_PORT="${DB_PORT:-5432}"
export SQL_USER="${POSTGRES_USER:-temporal}"
export SQL_PASSWORD="${POSTGRES_PWD:-}"

setup() {
  database=$1
  folder=$2
  export SQL_DATABASE="$database"
  # create-database fails when the database is there: that is the expected case on every later run.
  "$SQL_TOOL" create-database >/dev/null 2>&1 || echo "setup-schema: database $database exists"
  # Version 0.0 only creates the schema_version table; update-schema then brings it to the newest.
  if ! "$SQL_TOOL" update-schema -d "$SCHEMA_DIR/$folder/versioned" >/dev/null 2>&1; then
    "$SQL_TOOL" setup-schema -v 0.0
    "$SQL_TOOL" update-schema -d "$SCHEMA_DIR/$folder/versioned"
  fi
  echo "setup-schema: $database is at the newest schema in $SCHEMA_DIR/$folder"
}

setup "${TEMPORAL_DB:-temporal}" temporal
setup "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" visibility
