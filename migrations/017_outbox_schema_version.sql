-- Each outbox row carries its event's schema version (issue 24), so the relay can name the versioned
-- schema in the CloudEvents `ce_dataschema` header without parsing the JSON payload (the relay's cost
-- per message is the pipeline's capacity: issue 23). Written by the API from the envelope's
-- schemaVersion; returned by the claims and decoded by the CDC relay like the other columns.
--
-- The default is for rows written without it: events already in the outbox, and events written by an
-- API of the previous release during a rolling deploy. Both are version 1, the only version that
-- existed before versions did. ADD COLUMN with a constant default is metadata only: no table rewrite.
ALTER TABLE outbox_event ADD COLUMN schema_version smallint NOT NULL DEFAULT 1;
