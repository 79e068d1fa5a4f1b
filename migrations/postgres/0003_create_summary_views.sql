-- PostgreSQL (central store): the same tables and views as the SQLite
-- migration of the same name, in PostgreSQL's dialect (BIGINT for
-- SQLite's 64-bit INTEGER, identity keys, no WITHOUT ROWID).
-- Why: documented capacity-planning views on top of 0002: per-run totals by
-- category, per-depth totals in long form (one row per depth and category,
-- for dashboards and pivots), and per-run totals per root and per format
-- with disk usage that counts each host file (dev, ino) once.

-- Per run: its counters and its bytes per category (logical: a shared base
-- counts once per chain that reads it). virtual_size_bytes includes images
-- that could not be mapped but whose header was readable.
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
       coalesce((SELECT sum(t.data_bytes) FROM run_depth_totals t WHERE t.run_id = r.id), 0) AS data_bytes,
       coalesce((SELECT sum(t.zero_bytes) FROM run_depth_totals t WHERE t.run_id = r.id), 0) AS zero_bytes,
       coalesce((SELECT sum(t.preallocated_bytes) FROM run_depth_totals t WHERE t.run_id = r.id), 0)
         AS preallocated_bytes,
       r.unallocated_bytes
FROM runs r;

-- Per run, per depth, per category (data, zero, preallocated), one row each;
-- unallocated bytes are chain-level (SPEC 3) and have depth NULL.
CREATE VIEW run_depth_categories AS
SELECT run_id, depth, 'data' AS category, data_bytes AS bytes FROM run_depth_totals
UNION ALL
SELECT run_id, depth, 'zero', zero_bytes FROM run_depth_totals
UNION ALL
SELECT run_id, depth, 'preallocated', preallocated_bytes FROM run_depth_totals
UNION ALL
SELECT id, NULL, 'unallocated', unallocated_bytes FROM runs;

-- The host files a run's images occupy themselves: each image's top file and
-- the external data files of its depth-0 layer, with the image's root and
-- format (what disk usage is counted over).
CREATE VIEW run_image_files AS
SELECT ri.run_id, ro.path AS root, f.format, f.dev, f.ino, f.allocated_bytes
FROM run_images ri
JOIN roots ro ON ro.id = ri.root_id
JOIN chains c ON c.id = ri.chain_id
JOIN files f ON f.id = c.top_file_id
UNION ALL
SELECT ri.run_id, ro.path, tf.format, f.dev, f.ino, f.allocated_bytes
FROM run_images ri
JOIN roots ro ON ro.id = ri.root_id
JOIN chains c ON c.id = ri.chain_id
JOIN files tf ON tf.id = c.top_file_id
JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0
JOIN files f ON f.id = ce.file_id;

-- Per run, per root: images, errors, virtual size, disk usage (each file
-- once within the root) and bytes per category. Filter on run_id: the
-- grouping pushes it down to the run's rows.
CREATE VIEW run_root_totals AS
SELECT g.run_id,
       ro.path AS root,
       g.image_count,
       g.error_count,
       g.virtual_size_bytes,
       (SELECT coalesce(sum(u.bytes), 0) FROM (
          SELECT max(f.allocated_bytes) AS bytes FROM (
            SELECT c2.top_file_id AS file_id FROM run_images r2 JOIN chains c2 ON c2.id = r2.chain_id
            WHERE r2.run_id = g.run_id AND r2.root_id = g.root_id
            UNION
            SELECT ce.file_id FROM run_images r2 JOIN chain_extra_files ce ON ce.chain_id = r2.chain_id AND ce.depth = 0
            WHERE r2.run_id = g.run_id AND r2.root_id = g.root_id) used
          JOIN files f ON f.id = used.file_id
          GROUP BY f.dev, f.ino) u) AS disk_usage_bytes,
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
JOIN roots ro ON ro.id = g.root_id;

-- Per run, per image format (of the image file itself): the same figures
-- as per root. Filter on run_id.
CREATE VIEW run_format_totals AS
SELECT g.run_id,
       g.format,
       g.image_count,
       g.error_count,
       g.virtual_size_bytes,
       (SELECT coalesce(sum(u.bytes), 0) FROM (
          SELECT max(f.allocated_bytes) AS bytes FROM (
            SELECT c2.top_file_id AS file_id FROM run_images r2 JOIN chains c2 ON c2.id = r2.chain_id
            JOIN files tf ON tf.id = c2.top_file_id
            WHERE r2.run_id = g.run_id AND tf.format = g.format
            UNION
            SELECT ce.file_id FROM run_images r2 JOIN chains c2 ON c2.id = r2.chain_id
            JOIN files tf ON tf.id = c2.top_file_id
            JOIN chain_extra_files ce ON ce.chain_id = r2.chain_id AND ce.depth = 0
            WHERE r2.run_id = g.run_id AND tf.format = g.format) used
          JOIN files f ON f.id = used.file_id
          GROUP BY f.dev, f.ino) u) AS disk_usage_bytes,
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
      GROUP BY ri.run_id, f.format) g;
