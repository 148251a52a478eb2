-- Oleada's system of record. Redis holds only the job queue; everything needed to finish or undo a rollout is here.

CREATE TABLE rollouts (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  app              text NOT NULL,
  spec             jsonb NOT NULL,
  -- The plan resolved against the clusters file at creation, so a later edit of that file cannot change a running rollout.
  plan             jsonb NOT NULL,
  state            jsonb NOT NULL,
  phase            text NOT NULL CHECK (phase IN ('pending', 'progressing', 'paused', 'awaiting_approval', 'rolling_back',
                                                  'succeeded', 'rolled_back', 'aborted', 'failed')),
  -- Optimistic concurrency: every write of state is guarded by the version it read.
  version          bigint NOT NULL DEFAULT 0,
  idempotency_key  text,
  request_hash     text,
  created_by       text NOT NULL,
  reason           text,
  -- When the engine next wants to look at this rollout; null while it waits only for a command.
  next_tick_at     timestamptz,
  -- At most one tick per rollout runs at a time: the process holding an unexpired lease.
  lease_owner      text,
  lease_until      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);

-- At most one active rollout per app, enforced here rather than by a check-then-insert race in the API.
CREATE UNIQUE INDEX rollouts_one_active_per_app ON rollouts (app)
  WHERE phase IN ('pending', 'progressing', 'paused', 'awaiting_approval', 'rolling_back');
CREATE UNIQUE INDEX rollouts_idempotency ON rollouts (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX rollouts_newest ON rollouts (created_at DESC, id DESC);
CREATE INDEX rollouts_app_newest ON rollouts (app, created_at DESC, id DESC);
CREATE INDEX rollouts_active ON rollouts (next_tick_at)
  WHERE phase IN ('pending', 'progressing', 'paused', 'awaiting_approval', 'rolling_back');

CREATE TABLE rollout_events (
  rollout_id  uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  time        timestamptz NOT NULL DEFAULT now(),
  type        text NOT NULL,
  wave        text,
  cluster     text,
  actor       text NOT NULL,
  message     text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (rollout_id, seq)
);

-- The audit trail is append-only: a row, once written, is never changed.
CREATE FUNCTION rollout_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rollout_events is append-only';
END;
$$;
CREATE TRIGGER rollout_events_no_update BEFORE UPDATE ON rollout_events
  FOR EACH ROW EXECUTE FUNCTION rollout_events_append_only();

CREATE TABLE analysis_samples (
  id           bigserial PRIMARY KEY,
  rollout_id   uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  wave         text,
  cluster      text NOT NULL,
  metric       text NOT NULL,
  query        text NOT NULL,
  value        double precision,
  verdict      text NOT NULL CHECK (verdict IN ('successful', 'failed', 'inconclusive', 'error')),
  error        text,
  measured_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX analysis_samples_by_metric ON analysis_samples (rollout_id, cluster, metric, measured_at);

CREATE TABLE commands (
  id           bigserial PRIMARY KEY,
  rollout_id   uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  type         text NOT NULL CHECK (type IN ('promote', 'approve', 'pause', 'resume', 'abort', 'retry')),
  args         jsonb NOT NULL DEFAULT '{}',
  reason       text,
  actor        text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  applied_at   timestamptz,
  outcome      text CHECK (outcome IN ('applied', 'rejected')),
  outcome_message text
);
CREATE INDEX commands_pending ON commands (rollout_id, id) WHERE applied_at IS NULL;
