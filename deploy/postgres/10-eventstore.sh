#!/bin/sh
# Run once by the postgres image when it initialises an empty data folder
# (/docker-entrypoint-initdb.d): the event store's own database and login, apart from
# Temporal's. The migrations (run as the login `treatyflow`, the database's owner) create
# the tables and grant INSERT/SELECT to treatyflow_app and SELECT to treatyflow_audit; the
# worker's connections then SET ROLE treatyflow_app.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v pw="${EVENTSTORE_PASSWORD:?set EVENTSTORE_PASSWORD}" <<'SQL'
CREATE ROLE treatyflow LOGIN PASSWORD :'pw';
CREATE ROLE treatyflow_app NOLOGIN;
CREATE ROLE treatyflow_audit NOLOGIN;
GRANT treatyflow_app, treatyflow_audit TO treatyflow;
CREATE DATABASE treatyflow OWNER treatyflow;
REVOKE ALL ON DATABASE treatyflow FROM PUBLIC;
GRANT CONNECT ON DATABASE treatyflow TO treatyflow;
SQL
