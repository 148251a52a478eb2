-- Every committed change of a rollout's version is announced on the channel `oleada_rollout` as '<id>:<version>'.
-- The API keeps its ETag cache and its event streams fresh from these notifications. A trigger rather than a call in
-- each writer: a writer that forgot to notify would leave the API answering 304 to a status that has changed.
-- PostgreSQL sends a notification only when the transaction commits, and folds identical ones within a transaction,
-- so an explicit notifyRolloutChanged() in the same transaction costs nothing more.
CREATE FUNCTION rollouts_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('oleada_rollout', NEW.id::text || ':' || NEW.version::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER rollouts_notify_insert AFTER INSERT ON rollouts
  FOR EACH ROW EXECUTE FUNCTION rollouts_notify_change();
CREATE TRIGGER rollouts_notify_version AFTER UPDATE OF version ON rollouts
  FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION rollouts_notify_change();
