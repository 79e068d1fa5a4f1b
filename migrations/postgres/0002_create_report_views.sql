-- PostgreSQL (central store): the same tables and views as the SQLite
-- migration of the same name, in PostgreSQL's dialect (BIGINT for
-- SQLite's 64-bit INTEGER, identity keys, no WITHOUT ROWID).
-- Why: documented read-only views for reports and capacity-planning SQL, so
-- that queries need not know how chain states are shared between runs.

-- Per run, per image: the image's figures in that run.
CREATE VIEW run_image_states AS
SELECT ri.run_id,
       ri.image_id,
       i.path,
       ro.path AS root,
       CASE ri.change WHEN 0 THEN 'unchanged' WHEN 1 THEN 'changed' ELSE 'new' END AS change,
       f.format,
       c.virtual_size_bytes,
       f.size_bytes AS file_size_bytes,
       f.allocated_bytes AS disk_usage_bytes,
       f.backing_name,
       c.layer_count AS chain_length,
       (SELECT sum(cl.data_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id) AS data_bytes,
       (SELECT sum(cl.zero_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id) AS zero_bytes,
       (SELECT sum(cl.preallocated_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id) AS preallocated_bytes,
       c.unallocated_bytes,
       c.error_code,
       c.error_message,
       c.id AS chain_id,
       c.map_id
FROM run_images ri
JOIN images i ON i.id = ri.image_id
JOIN roots ro ON ro.id = ri.root_id
JOIN chains c ON c.id = ri.chain_id
JOIN files f ON f.id = c.top_file_id;

-- Per run, per image, per depth: the bytes charged to each depth (SPEC 3).
CREATE VIEW run_image_depths AS
SELECT ri.run_id,
       ri.image_id,
       i.path,
       cl.depth,
       f.path AS layer_path,
       f.format AS layer_format,
       cl.data_bytes,
       cl.zero_bytes,
       cl.preallocated_bytes
FROM run_images ri
JOIN images i ON i.id = ri.image_id
JOIN chain_layers cl ON cl.chain_id = ri.chain_id
JOIN files f ON f.id = cl.file_id;

-- The newest complete run (zero or one row).
CREATE VIEW latest_run AS
SELECT * FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1;

-- Latest state per image: the images of the newest complete run.
CREATE VIEW latest_image_states AS
SELECT s.* FROM run_image_states s WHERE s.run_id = (SELECT id FROM latest_run);

-- Per run, per root, per depth totals (logical: a shared base counts once per chain).
CREATE VIEW run_root_depth_totals AS
SELECT ri.run_id,
       ro.path AS root,
       cl.depth,
       sum(cl.data_bytes) AS data_bytes,
       sum(cl.zero_bytes) AS zero_bytes,
       sum(cl.preallocated_bytes) AS preallocated_bytes
FROM run_images ri
JOIN roots ro ON ro.id = ri.root_id
JOIN chain_layers cl ON cl.chain_id = ri.chain_id
GROUP BY ri.run_id, ro.path, cl.depth;

-- Growth per image between consecutive complete runs (images present in both).
CREATE VIEW image_growth AS
WITH complete AS (
  SELECT id, started_at, lag(id) OVER (ORDER BY id) AS previous_id
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
       cur.chain_id <> prev.chain_id AS is_changed
FROM complete c
JOIN run_image_states cur ON cur.run_id = c.id
JOIN run_image_states prev ON prev.run_id = c.previous_id AND prev.image_id = cur.image_id;

-- Shared base usage: per run, each file (dev, ino) used as a backing layer
-- (depth >= 1), how many chains use it and how many of its bytes they read.
CREATE VIEW run_base_usage AS
SELECT ri.run_id,
       min(f.path) AS base_path,
       min(f.format) AS format,
       count(DISTINCT ri.image_id) AS chain_count,
       min(cl.depth) AS min_depth,
       max(cl.depth) AS max_depth,
       sum(cl.data_bytes) AS data_bytes_read_by_chains,
       max(f.allocated_bytes) AS disk_usage_bytes,
       max(f.virtual_size_bytes) AS virtual_size_bytes
FROM run_images ri
JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
JOIN files f ON f.id = cl.file_id
GROUP BY ri.run_id, f.dev, f.ino;

-- All findings of a run: those of its images' chain states and its own.
CREATE VIEW run_findings_all AS
SELECT ri.run_id, i.path, cf.code, cf.severity, cf.depth, cf.message
FROM run_images ri
JOIN images i ON i.id = ri.image_id
JOIN chain_findings cf ON cf.chain_id = ri.chain_id
UNION ALL
SELECT run_id, path, code, severity, NULL AS depth, message FROM run_findings;

-- Map entries with their flags spelled out, as qemu-img map --output=json has them.
CREATE VIEW map_entries_expanded AS
SELECT map_id,
       start_bytes,
       length_bytes,
       depth,
       (flags & 1) <> 0 AS present,
       (flags & 2) <> 0 AS zero,
       (flags & 4) <> 0 AS data,
       (flags & 8) <> 0 AS compressed,
       offset_bytes
FROM map_entries;
