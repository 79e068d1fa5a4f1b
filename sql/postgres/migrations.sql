-- Why: the bookkeeping of the central store's migrations (pg-migrator.ts).

-- name: lock
SELECT pg_advisory_xact_lock(7243190421);

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL);

-- name: has_migrations_table
SELECT to_regclass('_migrations') IS NOT NULL AS present;

-- name: applied
SELECT name, checksum FROM _migrations ORDER BY name;

-- name: record
INSERT INTO _migrations (name, checksum, applied_at) VALUES ($1, $2, $3);
