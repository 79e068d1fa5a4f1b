-- Why: a central store holds the runs of many hosts. Each run carries the
-- host it came from (the name it pushes under) and its id in that host's
-- SQLite file, so a push can tell which runs are there already and a
-- host's runs can be read back with their own ids. The views that pick
-- "the newest complete run" or compare consecutive runs do so per host.

ALTER TABLE runs ADD COLUMN host_name TEXT NOT NULL;
ALTER TABLE runs ADD COLUMN local_id BIGINT NOT NULL;
ALTER TABLE runs ADD COLUMN pushed_at TEXT NOT NULL;
ALTER TABLE runs ADD CONSTRAINT runs_host_local_id UNIQUE (host_name, local_id);
CREATE INDEX runs_by_host_status ON runs (host_name, status, local_id);

-- run_images is reached by run id (its primary key's prefix); pushes and
-- retention also reach it by chain state.
CREATE INDEX run_images_by_chain ON run_images (chain_id);

-- The newest complete run of each host.
DROP VIEW latest_image_states;
DROP VIEW latest_run;
CREATE VIEW latest_run AS
SELECT DISTINCT ON (host_name) * FROM runs WHERE status = 'complete' ORDER BY host_name, id DESC;

-- Latest state per image, per host.
CREATE VIEW latest_image_states AS
SELECT s.* FROM run_image_states s WHERE s.run_id IN (SELECT id FROM latest_run);

-- Growth per image between consecutive complete runs of the same host.
DROP VIEW image_growth;
CREATE VIEW image_growth AS
WITH complete AS (
  SELECT id, started_at, host_name, lag(id) OVER (PARTITION BY host_name ORDER BY local_id) AS previous_id
  FROM runs WHERE status = 'complete'
)
SELECT c.previous_id AS from_run_id,
       c.id AS to_run_id,
       c.started_at AS to_started_at,
       cur.path,
       cur.disk_usage_bytes - prev.disk_usage_bytes AS disk_usage_growth_bytes,
       cur.virtual_size_bytes - prev.virtual_size_bytes AS virtual_size_growth_bytes,
       cur.data_bytes - prev.data_bytes AS data_growth_bytes,
       prev.disk_usage_bytes AS from_disk_usage_bytes,
       cur.disk_usage_bytes AS to_disk_usage_bytes,
       cur.chain_id <> prev.chain_id AS is_changed,
       c.host_name
FROM complete c
JOIN run_image_states cur ON cur.run_id = c.id
JOIN run_image_states prev ON prev.run_id = c.previous_id AND prev.image_id = cur.image_id;
