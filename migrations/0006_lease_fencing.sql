-- Fencing for the tick lease (issue 19). Every time a tick takes a rollout's lease the token goes up by one, so a
-- token names one holding of the lease. Before each Kubernetes write, and in the state write that ends the tick, the
-- holder proves that the token is still its own; a tick that stalled past its lease finds a newer token and stops.
ALTER TABLE rollouts ADD COLUMN lease_token bigint NOT NULL DEFAULT 0;
