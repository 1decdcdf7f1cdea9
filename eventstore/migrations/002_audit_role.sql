-- The auditors' role: SELECT on events and nothing else (least privilege).
-- `treaty audit ...` connects with EventStore.connect(url, app_role='treatyflow_audit'):
-- every connection runs SET ROLE treatyflow_audit, so it can read the record and cannot
-- write, alter or delete a thing even when the login user could.
-- Like treatyflow_app (001): roles are cluster-wide, so tolerate a concurrent creation
-- from another database, and a migrating user without CREATEROLE (then a DBA creates the
-- role and reruns the grant). A login that is not a superuser needs membership to SET
-- ROLE to it: GRANT treatyflow_audit TO <auditor login>.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_audit') THEN
        BEGIN
            CREATE ROLE treatyflow_audit NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;
            WHEN insufficient_privilege THEN
                RAISE WARNING 'cannot create role treatyflow_audit (no CREATEROLE): %', SQLERRM;
        END;
    END IF;
END;
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'treatyflow_audit') THEN
        GRANT SELECT ON events TO treatyflow_audit;
    END IF;
END;
$$;
