-- Notifications (issue 16): the outbox of deliveries, and the Slack message each rollout has in each Slack channel.
--
-- A delivery is written in the same transaction as the event that causes it, so a crash, a kill -9 or a Redis flush
-- between the two cannot lose it: the recovery sweep re-enqueues every pending delivery from here. Its id is what a
-- webhook receiver sees as `webhook-id`, the same on every try.
CREATE TABLE notification_deliveries (
  id               text PRIMARY KEY,
  rollout_id       uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  event_seq        integer NOT NULL,
  event_type       text NOT NULL,
  -- The channel's name in the notifications file, and what kind of channel it was when the delivery was written.
  channel          text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('webhook', 'slack')),
  -- What is sent: for a webhook the JSON body; for Slack the event, the message being rendered from the rollout.
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  -- A sender working on the delivery holds it until then; after a kill -9 the claim lapses and another sender goes on.
  claimed_until    timestamptz,
  last_error       text,
  last_status_code integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  UNIQUE (rollout_id, event_seq, channel)
);
CREATE INDEX notification_deliveries_pending ON notification_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_deliveries_by_rollout ON notification_deliveries (rollout_id, created_at, id);

-- One Slack message per rollout and channel, updated in place; kept here so updates survive restarts.
CREATE TABLE slack_messages (
  rollout_id     uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  channel        text NOT NULL,
  slack_channel  text NOT NULL,
  ts             text NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rollout_id, channel)
);
