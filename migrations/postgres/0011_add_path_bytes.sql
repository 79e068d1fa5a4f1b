-- PostgreSQL (central store): SQLite's 0010_add_path_bytes.sql in PostgreSQL's
-- dialect (BYTEA for BLOB).
-- Why: paths are bytes. A name that is not UTF-8 cannot be a TEXT value, so
-- the text columns hold it as reports show it, each such byte as a \xNN
-- escape, and path_bytes holds the exact bytes of the path, as the host's
-- SQLite file does. NULL for a path that is valid UTF-8.
ALTER TABLE roots ADD COLUMN path_bytes BYTEA;
ALTER TABLE images ADD COLUMN path_bytes BYTEA;
ALTER TABLE files ADD COLUMN path_bytes BYTEA;
