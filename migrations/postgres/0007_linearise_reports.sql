-- PostgreSQL (central store): SQLite's 0005_linearise_reports.sql in PostgreSQL's
-- dialect (BIGINT for INTEGER, no WITHOUT ROWID).
-- Why: reports must stay linear in images and runs. Three changes:
--
-- 1. Per-run category totals are materialised on the run row (runs.data_bytes
--    etc., written when the run ends, like its other totals), so run_totals
--    reads one row per run instead of summing run_depth_totals per run.
-- 2. Per run, the disk usage of each root and of each image format (each host
--    file once within the root or format) is materialised too (tables
--    run_root_usage, run_format_usage), so run_root_totals and
--    run_format_totals no longer walk the whole run once per root or format.
-- 3. Secondary indexes on run_images by chain state and by image: deleting a
--    chain state or an image (imgaudit prune) makes SQLite look for rows
--    still referencing it, a scan of run_images per deleted row without them.

ALTER TABLE runs ADD COLUMN data_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN zero_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN preallocated_bytes BIGINT NOT NULL DEFAULT 0;

UPDATE runs SET (data_bytes, zero_bytes, preallocated_bytes) = (
  SELECT coalesce(sum(t.data_bytes), 0), coalesce(sum(t.zero_bytes), 0), coalesce(sum(t.preallocated_bytes), 0)
  FROM run_depth_totals t WHERE t.run_id = runs.id);

CREATE INDEX IF NOT EXISTS run_images_by_chain ON run_images (chain_id);  -- 0005_add_fleet_columns made it already
CREATE INDEX run_images_by_image ON run_images (image_id);

-- Per run: its counters and its bytes per category (logical: a shared base
-- counts once per chain that reads it). virtual_size_bytes includes images
-- that could not be mapped but whose header was readable.
DROP VIEW run_totals;
CREATE VIEW run_totals AS
SELECT r.id AS run_id,
       r.started_at,
       r.finished_at,
       r.status,
       r.image_count,
       r.error_count,
       r.new_count,
       r.changed_count,
       r.virtual_size_bytes,
       r.disk_usage_bytes,
       r.data_bytes,
       r.zero_bytes,
       r.preallocated_bytes,
       r.unallocated_bytes
FROM runs r;


-- Per run, per root: the disk usage of the root's images (st_blocks x 512 of
-- their files and of their top layers' external data files, each (dev, ino)
-- once), materialised when the run ends.
CREATE TABLE run_root_usage (
  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  root_id BIGINT NOT NULL REFERENCES roots (id),
  disk_usage_bytes BIGINT NOT NULL,
  PRIMARY KEY (run_id, root_id)
);

-- The same per image format (of the image file itself).
CREATE TABLE run_format_usage (
  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  format TEXT NOT NULL,
  disk_usage_bytes BIGINT NOT NULL,
  PRIMARY KEY (run_id, format)
);

INSERT INTO run_root_usage (run_id, root_id, disk_usage_bytes)
SELECT used.run_id, used.root_id, sum(used.bytes)
FROM (SELECT per_file.run_id, per_file.root_id, max(f.allocated_bytes) AS bytes
      FROM (SELECT ri.run_id, ri.root_id AS root_id, c.top_file_id AS file_id
            FROM run_images ri JOIN chains c ON c.id = ri.chain_id
            UNION
            SELECT ri.run_id, ri.root_id AS root_id, ce.file_id
            FROM run_images ri
            JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0) per_file
      JOIN files f ON f.id = per_file.file_id
      GROUP BY per_file.run_id, per_file.root_id, f.dev, f.ino) used
GROUP BY used.run_id, used.root_id;

INSERT INTO run_format_usage (run_id, format, disk_usage_bytes)
SELECT used.run_id, used.format, sum(used.bytes)
FROM (SELECT per_file.run_id, per_file.format, max(f.allocated_bytes) AS bytes
      FROM (SELECT ri.run_id, tf.format AS format, c.top_file_id AS file_id
            FROM run_images ri JOIN chains c ON c.id = ri.chain_id
            JOIN files tf ON tf.id = c.top_file_id
            UNION
            SELECT ri.run_id, tf.format AS format, ce.file_id
            FROM run_images ri
            JOIN chains c ON c.id = ri.chain_id
            JOIN files tf ON tf.id = c.top_file_id
            JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0) per_file
      JOIN files f ON f.id = per_file.file_id
      GROUP BY per_file.run_id, per_file.format, f.dev, f.ino) used
GROUP BY used.run_id, used.format;

-- Per run, per root: images, errors, virtual size, disk usage (each file
-- once within the root) and bytes per category. Filter on run_id.
DROP VIEW run_root_totals;
CREATE VIEW run_root_totals AS
SELECT g.run_id,
       ro.path AS root,
       g.image_count,
       g.error_count,
       g.virtual_size_bytes,
       coalesce(u.disk_usage_bytes, 0) AS disk_usage_bytes,
       g.data_bytes,
       g.zero_bytes,
       g.preallocated_bytes,
       g.unallocated_bytes
FROM (SELECT ri.run_id,
             ri.root_id,
             count(*) AS image_count,
             count(c.error_code) AS error_count,
             coalesce(sum(c.virtual_size_bytes), 0) AS virtual_size_bytes,
             coalesce(sum((SELECT sum(cl.data_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id)), 0) AS data_bytes,
             coalesce(sum((SELECT sum(cl.zero_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id)), 0) AS zero_bytes,
             coalesce(sum((SELECT sum(cl.preallocated_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id)), 0)
               AS preallocated_bytes,
             coalesce(sum(c.unallocated_bytes), 0) AS unallocated_bytes
      FROM run_images ri
      JOIN chains c ON c.id = ri.chain_id
      GROUP BY ri.run_id, ri.root_id) g
JOIN roots ro ON ro.id = g.root_id
LEFT JOIN run_root_usage u ON u.run_id = g.run_id AND u.root_id = g.root_id;

-- Per run, per image format (of the image file itself): the same figures
-- as per root. Filter on run_id.
DROP VIEW run_format_totals;
CREATE VIEW run_format_totals AS
SELECT g.run_id,
       g.format,
       g.image_count,
       g.error_count,
       g.virtual_size_bytes,
       coalesce(u.disk_usage_bytes, 0) AS disk_usage_bytes,
       g.data_bytes,
       g.zero_bytes,
       g.preallocated_bytes,
       g.unallocated_bytes
FROM (SELECT ri.run_id,
             f.format,
             count(*) AS image_count,
             count(c.error_code) AS error_count,
             coalesce(sum(c.virtual_size_bytes), 0) AS virtual_size_bytes,
             coalesce(sum((SELECT sum(cl.data_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id)), 0) AS data_bytes,
             coalesce(sum((SELECT sum(cl.zero_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id)), 0) AS zero_bytes,
             coalesce(sum((SELECT sum(cl.preallocated_bytes) FROM chain_layers cl WHERE cl.chain_id = c.id)), 0)
               AS preallocated_bytes,
             coalesce(sum(c.unallocated_bytes), 0) AS unallocated_bytes
      FROM run_images ri
      JOIN chains c ON c.id = ri.chain_id
      JOIN files f ON f.id = c.top_file_id
      GROUP BY ri.run_id, f.format) g
LEFT JOIN run_format_usage u ON u.run_id = g.run_id AND u.format = g.format;

-- Central only: PostgreSQL expands `*` when a view is created, so the views
-- over runs.* are made again to carry the new columns (as SQLite's do).
DROP VIEW latest_image_states;
DROP VIEW latest_run;
CREATE VIEW latest_run AS
SELECT DISTINCT ON (host_name) * FROM runs WHERE status = 'complete' ORDER BY host_name, id DESC;
CREATE VIEW latest_image_states AS
SELECT s.* FROM run_image_states s WHERE s.run_id IN (SELECT id FROM latest_run);
