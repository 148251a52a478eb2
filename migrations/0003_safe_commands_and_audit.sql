-- Commands that are safe to retry, and an audit trail that cannot be rewritten.

-- Refuses a change of an append-only table, naming the table and what was tried.
CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP;
END;
$$;

-- The events refuse DELETE (and TRUNCATE) as they refuse UPDATE, and deleting a rollout no longer takes its events
-- with it: a rollout that has events cannot be deleted at all.
CREATE TRIGGER rollout_events_no_delete BEFORE DELETE ON rollout_events
  FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER rollout_events_no_truncate BEFORE TRUNCATE ON rollout_events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
ALTER TABLE rollout_events DROP CONSTRAINT rollout_events_rollout_id_fkey;
ALTER TABLE rollout_events ADD CONSTRAINT rollout_events_rollout_id_fkey
  FOREIGN KEY (rollout_id) REFERENCES rollouts (id) ON DELETE RESTRICT;

-- Commands the API refused (role, app, stale revision, a command that did not fit the phase), with who asked and why.
-- No foreign key: a refusal names what was asked for, which may not exist; and append-only like the events.
CREATE TABLE refused_commands (
  id          bigserial PRIMARY KEY,
  time        timestamptz NOT NULL DEFAULT now(),
  rollout_id  uuid,
  app         text,
  command     text NOT NULL,
  actor       text NOT NULL,
  status      integer NOT NULL,
  code        text NOT NULL,
  reason      text NOT NULL
);
CREATE INDEX refused_commands_by_rollout ON refused_commands (rollout_id, id);
CREATE TRIGGER refused_commands_no_update BEFORE UPDATE OR DELETE ON refused_commands
  FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER refused_commands_no_truncate BEFORE TRUNCATE ON refused_commands
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

-- The first answer to each Idempotency-Key of a command route, per caller: a repeat with the same key and request gets
-- this answer again instead of acting twice.
CREATE TABLE command_requests (
  actor            text NOT NULL,
  idempotency_key  text NOT NULL,
  request_hash     text NOT NULL,
  rollout_id       uuid,
  command_id       bigint,
  status           integer NOT NULL,
  body             jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (actor, idempotency_key)
);

-- retry was declared but never did anything (every one was rejected with "not supported"): it is gone. Those
-- rejected commands are dropped with it; their rejection stays in rollout_events.
DELETE FROM commands WHERE type = 'retry';
ALTER TABLE commands DROP CONSTRAINT commands_type_check;
ALTER TABLE commands ADD CONSTRAINT commands_type_check CHECK (type IN ('promote', 'approve', 'pause', 'resume', 'abort'));
