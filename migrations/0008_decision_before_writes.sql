-- A tick that writes to a cluster records its decision first (issue 19, docs/architecture.md "Decision before
-- writes"): the state with the step it is about to carry out, under its lease, which it keeps. This column names that
-- lease token until the tick writes the outcome. A tick that finds it set took over from one that died or stalled
-- between the two: the recorded step may be half done in the cluster, so it is finished from that state (its
-- writes are desired-state writes, skipped where the cluster already shows them), never undone and done again.
ALTER TABLE rollouts ADD COLUMN acting_lease bigint;
