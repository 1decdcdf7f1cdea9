-- The history archive: the Temporal history of every closed workflow run (and of every run
-- that continued as new), kept here because a Temporal server keeps closed workflows only
-- for its namespace's retention. `treaty audit replay` falls back to it.
-- `history` is the text exactly as WorkflowHistory.to_json() wrote it (not jsonb, which
-- would reorder keys), `sha256` the digest of its UTF-8 bytes, checked on every read.

CREATE TABLE workflow_history_archive (
    workflow_id   text        NOT NULL,
    run_id        text        NOT NULL,
    workflow_type text        NOT NULL,
    closed_at     timestamptz NULL,
    status        text        NOT NULL,
    history       text        NOT NULL,
    sha256        bytea       NOT NULL CHECK (octet_length(sha256) = 32),
    archived_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, run_id)
);

COMMENT ON TABLE workflow_history_archive IS
    'Temporal histories of closed workflow runs, as WorkflowHistory.to_json() wrote them; '
    'sha256 = sha256(history as UTF-8). Append-only.';

-- Append-only, like events: an archived history is never changed or removed.
CREATE FUNCTION workflow_history_archive_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'workflow_history_archive is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'raise_exception',
              HINT = 'An archived history is kept as it was recorded.';
END;
$$;

CREATE TRIGGER workflow_history_archive_append_only
    BEFORE UPDATE OR DELETE ON workflow_history_archive
    FOR EACH ROW EXECUTE FUNCTION workflow_history_archive_refuse_change();

CREATE TRIGGER workflow_history_archive_no_truncate
    BEFORE TRUNCATE ON workflow_history_archive
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_history_archive_refuse_change();

REVOKE ALL ON workflow_history_archive FROM PUBLIC;

-- The application (the worker's archiver, `treaty audit archive`) may add and read;
-- the auditors' read-only role (002) may read.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_app') THEN
        GRANT INSERT, SELECT ON workflow_history_archive TO treatyflow_app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_audit') THEN
        GRANT SELECT ON workflow_history_archive TO treatyflow_audit;
    END IF;
END;
$$;
