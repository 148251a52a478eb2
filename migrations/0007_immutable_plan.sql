-- A rollout's file, plan and app are fixed when it is created (issue 19). The engine keeps each rollout's parsed plan
-- in memory and its lease statement no longer sends the plan to a process that holds it (src/engine/tick-cache.ts),
-- so a change of the plan in place would go unseen by running engines. This trigger makes the promise hold for every
-- writer; the column list keeps it free for the UPDATEs that do not name these columns (every one the code makes).
CREATE FUNCTION rollouts_refuse_plan_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rollout %: its app, spec and plan are fixed at create; start a new rollout instead', OLD.id
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER rollouts_plan_fixed BEFORE UPDATE OF app, spec, plan ON rollouts
  FOR EACH ROW WHEN (OLD.app IS DISTINCT FROM NEW.app OR OLD.spec IS DISTINCT FROM NEW.spec OR OLD.plan IS DISTINCT FROM NEW.plan)
  EXECUTE FUNCTION rollouts_refuse_plan_change();
