-- Transactional outbox: a service writes its events here in the same transaction as the state
-- change, and the relay publishes them to Kafka afterwards. A crash between commit and publish
-- loses nothing: the row waits for the next relay run.
CREATE TABLE outbox_events (
    id            BIGSERIAL PRIMARY KEY,          -- publish order
    event_id      UUID        NOT NULL UNIQUE,    -- CloudEvents id
    topic         TEXT        NOT NULL,
    partition_key TEXT        NOT NULL,           -- aggregate id: one aggregate, one partition, in order
    event_type    TEXT        NOT NULL,
    payload       JSONB       NOT NULL,           -- the whole CloudEvent (structured mode)
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ
);

-- The relay only ever scans what is still unpublished.
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE published_at IS NULL;

-- Wake the relay at commit time instead of waiting for its next poll.
CREATE FUNCTION outbox_events_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('tenor_outbox', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER outbox_events_notify
    AFTER INSERT ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify();

-- Idempotent consumers: an event's effect and its inbox row commit together, so a redelivered
-- event finds its row and is skipped.
CREATE TABLE inbox_events (
    consumer    TEXT        NOT NULL,   -- the consumer group / handler name
    event_id    UUID        NOT NULL,
    event_type  TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
