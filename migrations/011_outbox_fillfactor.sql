-- Room on each heap page for a row's next version (issue 15). The relay's lease writes (claim, and a
-- renewal for a batch that waited) change only locked_by/locked_until, which no index reads: with
-- space left on the row's page, PostgreSQL makes them HOT updates (no new entry in any of the table's
-- indexes, the old version pruned in place). At the default fillfactor 100 every page is full after
-- the insert, so each lease wrote a new entry in every index. Measured with EXPLAIN (ANALYZE, BUFFERS)
-- on 100,000 rows, a 500-row lease: 12,200-12,700 buffers, 27-31 ms -> 3,250 buffers, 6-7 ms; the
-- PUBLISHED mark (not HOT: status is in index predicates) ~13,000 -> ~8,700 buffers, as its new
-- version stays on the same page. Cost: PENDING rows take about twice the heap space; `outbox
-- cleanup` keeps the table small. Applies to pages written from now on; existing pages keep theirs.
ALTER TABLE outbox_event SET (fillfactor = 50);
