-- One focal point per address whatever its case (two cases of one address are one): a
-- unique index on the contact's
-- identity (treaty, state, lower(email)). `add_contact` inserts with
-- ON CONFLICT (treaty, state, lower(email)) DO NOTHING and then reads the stored row, so
-- two concurrent `treaty contacts add` of the same address in different cases store one
-- row (the code-only case-insensitive check of 004 could let both in).
--
-- A database where 004 ran may already hold such duplicates. They are resolved here, not
-- refused: per (treaty, state, lower(email)) the EARLIEST row is kept (added_at, then the
-- address in byte order), as `contacts add` itself keeps the spelling given first, and the
-- later rows are deleted. Each deleted row is reported as a NOTICE (migrate() logs it as
-- "migration notice"), so what was removed stays on record in the migration's log.
DO $$
DECLARE
    dup record;
BEGIN
    FOR dup IN
        DELETE FROM contacts c
        USING (
            SELECT ctid AS row_id,
                   row_number() OVER (
                       PARTITION BY treaty, state, lower(email)
                       ORDER BY added_at, email COLLATE "C"
                   ) AS n
            FROM contacts
        ) ranked
        WHERE c.ctid = ranked.row_id AND ranked.n > 1
        RETURNING c.treaty, c.state, c.email, c.name, c.role, c.added_at
    LOOP
        RAISE NOTICE 'contacts: removed duplicate focal point % % % (name %, role %, added %): '
            'an earlier row has the same address in another case',
            dup.treaty, dup.state, dup.email, dup.name, dup.role, dup.added_at;
    END LOOP;
END;
$$;

CREATE UNIQUE INDEX contacts_identity ON contacts (treaty, state, lower(email));

-- treatyflow_app keeps INSERT, SELECT, DELETE on contacts (004): INSERT ... ON CONFLICT DO
-- NOTHING needs INSERT, and SELECT for the arbiter columns; no new grant is needed.
