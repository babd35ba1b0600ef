-- No NOTIFY inside a writing transaction (issue 23). PostgreSQL takes a database-wide lock at the commit
-- of every transaction that notified and holds it through the commit's WAL flush, so this trigger made
-- every transaction writing outbox rows commit one at a time. The writing process now wakes relays
-- after its commit, coalesced, on a connection of its own (src/lib/outbox/waker.ts); relays still poll.
DROP TRIGGER outbox_event_notify ON outbox_event;
DROP FUNCTION outbox_event_notify();
