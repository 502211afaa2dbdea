-- The request-path role. Roles are cluster-wide, so several databases or schemas (tests run
-- one schema each) may race to create it: the advisory lock serialises them.
SELECT pg_advisory_xact_lock(7426001);
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_app') THEN
    CREATE ROLE portal_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
  -- The connecting (migrating) user must be able to SET ROLE to it.
  IF NOT pg_has_role(current_user, 'portal_app', 'MEMBER') THEN
    EXECUTE format('GRANT portal_app TO %I', current_user);
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO portal_app', current_schema());
END
$$;
