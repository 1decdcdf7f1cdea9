-- Domain event store: one append-only table, one stream per process instance.

CREATE TABLE events (
    global_position bigserial   PRIMARY KEY,
    stream_id       text        NOT NULL,
    stream_version  int         NOT NULL CHECK (stream_version >= 1),
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    occurred_on     date        NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea       NOT NULL,
    hash            bytea       NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

COMMENT ON TABLE events IS
    'Append-only domain event store; hash = sha256(prev_hash || canonical_json(event)) per stream.';

-- Append-only: refuse UPDATE, DELETE and TRUNCATE, whoever asks.
CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'raise_exception',
              HINT = 'Record a new (compensating) event instead of changing history.';
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- The application's role: INSERT and SELECT on events, nothing else.
-- Roles are cluster-wide: tolerate a concurrent creation from another database, and a
-- migrating user without CREATEROLE (then a DBA creates the role and reruns the grants).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_app') THEN
        BEGIN
            CREATE ROLE treatyflow_app NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;
            WHEN insufficient_privilege THEN
                RAISE WARNING 'cannot create role treatyflow_app (no CREATEROLE): %', SQLERRM;
        END;
    END IF;
END;
$$;

REVOKE ALL ON events FROM PUBLIC;
REVOKE ALL ON SEQUENCE events_global_position_seq FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_app') THEN
        GRANT INSERT, SELECT ON events TO treatyflow_app;
        GRANT USAGE ON SEQUENCE events_global_position_seq TO treatyflow_app;
    END IF;
END;
$$;
