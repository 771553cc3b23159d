#!/bin/sh
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d): a role and
# a database for wiredesk's store and dedup index, and one for the Prefect server. The passwords
# come from the compose env file, never from a file in the repository.
set -eu
: "${WIREDESK_DB_PASSWORD:?set WIREDESK_DB_PASSWORD in the env file}"
: "${PREFECT_DB_PASSWORD:?set PREFECT_DB_PASSWORD in the env file}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v wiredesk_pw="$WIREDESK_DB_PASSWORD" -v prefect_pw="$PREFECT_DB_PASSWORD" <<'SQL'
CREATE ROLE wiredesk LOGIN PASSWORD :'wiredesk_pw';
CREATE DATABASE wiredesk OWNER wiredesk;
CREATE ROLE prefect LOGIN PASSWORD :'prefect_pw';
CREATE DATABASE prefect OWNER prefect;
SQL
