-- Why: paths are bytes. A name that is not UTF-8 cannot be a TEXT value (the
-- driver would store U+FFFD for each such byte, losing it), so the text
-- columns hold it as reports show it, each such byte as a \xNN escape, and
-- path_bytes holds the exact bytes of the path: what a later scan stats and
-- opens when it checks that the file is unchanged. NULL for a path that is
-- valid UTF-8 (every row written before this migration, and nearly all
-- after): the text is then the path itself.
ALTER TABLE roots ADD COLUMN path_bytes BLOB;
ALTER TABLE images ADD COLUMN path_bytes BLOB;
ALTER TABLE files ADD COLUMN path_bytes BLOB;
