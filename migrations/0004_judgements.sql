-- Baseline comparisons (issue 18): one row per cluster per analysis that had judged metrics. The per-metric
-- classifications (sample sizes, medians, interval, effect size, class) and both sides' series are JSON, because
-- they are read whole: by the API's analysis route for the dashboard's charts, and by people in the audit trail.
CREATE TABLE judgements (
  id           bigserial PRIMARY KEY,
  rollout_id   uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  wave         text,
  cluster      text NOT NULL,
  verdict      text NOT NULL CHECK (verdict IN ('pass', 'marginal', 'fail', 'nodata')),
  score        double precision,
  reason       text NOT NULL,
  groups       jsonb NOT NULL DEFAULT '[]',
  metrics      jsonb NOT NULL DEFAULT '[]',
  series       jsonb NOT NULL DEFAULT '[]',
  measured_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX judgements_by_cluster ON judgements (rollout_id, cluster, measured_at);
