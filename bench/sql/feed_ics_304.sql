-- What GET /api/v1/feeds/events.ics?edition=2025 issues when the client's copy is current
-- (bench/run.py's feed_ics_304): the validators' fingerprint alone (src/feeds/validators.rs).
SELECT content_version.version FROM content_version LIMIT 1;
