-- Every committed notification delivery is announced on the channel `oleada_delivery`, its ids separated by commas
-- (at most 100 a notification, far below PostgreSQL's 8000-byte limit on a payload). Each engine process's delivery
-- thread (src/notifications/first-tries.ts) listens and makes the first try at once, on connections of its own, so the
-- first try waits neither for the event loop of the process that ran the tick nor for its pool. PostgreSQL sends a
-- notification only when the transaction commits, so no delivery is announced before its row can be claimed, and
-- none that was rolled back. A statement trigger, so one tick's deliveries go out together; ON CONFLICT DO NOTHING
-- leaves a copy out of the transition table, so a copy is not announced.
CREATE FUNCTION notification_deliveries_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text;
BEGIN
  FOR ids IN
    SELECT string_agg(id, ',' ORDER BY n) FROM (SELECT id, row_number() OVER () - 1 AS n FROM added) numbered GROUP BY n / 100
  LOOP
    PERFORM pg_notify('oleada_delivery', ids);
  END LOOP;
  RETURN NULL;
END;
$$;

CREATE TRIGGER notification_deliveries_announce AFTER INSERT ON notification_deliveries
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION notification_deliveries_announce();
