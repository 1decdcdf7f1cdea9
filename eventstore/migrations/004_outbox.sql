-- The outbox (reporting reminders, CCM Art. 7) and the reporting focal points.
--
-- outbox: one row per message to deliver, written in the SAME transaction as the event
-- that caused it (EventStore.append(..., outbox=[...])), so a reminder is on record if and
-- only if its message is queued. `key` is the idempotency key (the causing event's id):
-- the delivery activity sends a row at most once (delivered_at set in the transaction
-- that holds the row's lock while sending). Only the delivery columns may change.
CREATE TABLE outbox (
    key           text        PRIMARY KEY,
    event_id      uuid        NOT NULL,
    stream_id     text        NOT NULL,
    treaty        text        NOT NULL,
    state         text        NOT NULL,
    template      text        NOT NULL,
    params        jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    attempts      int         NOT NULL DEFAULT 0,
    last_error    text        NULL,
    delivered_at  timestamptz NULL,
    delivered_via text        NULL,
    recipients    text[]      NULL,
    message_id    text        NULL
);

CREATE INDEX outbox_pending ON outbox (created_at) WHERE delivered_at IS NULL;
CREATE INDEX outbox_stream ON outbox (stream_id);

-- contacts: the focal points of each State for a treaty (`treaty contacts add|list|remove`).
CREATE TABLE contacts (
    treaty    text        NOT NULL,
    state     text        NOT NULL,
    email     text        NOT NULL,
    name      text        NULL,
    role      text        NOT NULL DEFAULT 'reporting',
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (treaty, state, email)
);

REVOKE ALL ON outbox, contacts FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_app') THEN
        GRANT INSERT, SELECT ON outbox TO treatyflow_app;
        GRANT UPDATE (attempts, last_error, delivered_at, delivered_via, recipients, message_id)
            ON outbox TO treatyflow_app;
        GRANT INSERT, SELECT, DELETE ON contacts TO treatyflow_app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_audit') THEN
        GRANT SELECT ON outbox, contacts TO treatyflow_audit;
    END IF;
END;
$$;
