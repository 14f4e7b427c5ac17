-- Feeds and embeds read "what changed last" on every request to answer 304 without building
-- the document (src/feeds/validators.rs): the newest change among all events, withdrawn and
-- drafts included, and the rows changed within the hour before it.
CREATE INDEX events_updated_idx ON events (updated_at);
