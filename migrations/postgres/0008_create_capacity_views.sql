-- PostgreSQL (central store): SQLite's 0006_create_capacity_views.sql in PostgreSQL's
-- dialect (julianday as epoch days, string_agg, greatest, to_char for date(), JOIN for
-- SQLite's CROSS JOIN ... ON, aliases on every derived table).
-- Why: the questions capacity planners ask, as views, so that they need not
-- know how runs share chain states and files: how far each file system is
-- overcommitted, how fast each file system and each root grows and when the
-- space runs out at that rate, and which overlays could be committed into (or
-- flattened with) a base that only they read. The figures are those of
-- `imgaudit report` (JSON `filesystems`, Prometheus `imgaudit_filesystem_*`
-- and `imgaudit_root_growth_bytes_per_day`); docs/sql.md documents every column.
--
-- Every view has a run_id column and is meant to be filtered on it: SQLite
-- pushes that filter one level down into an aggregate subquery (no further),
-- so each view has at most one aggregate between the filter and the base
-- tables, and what needs a second level (each host file counted once, then
-- summed) is a scalar subquery correlated on the row's run and file system
-- or root, which reaches the base tables by their keys (CROSS JOIN fixes the
-- join order where the planner, without statistics, would start from the
-- history). A query thus costs what that run's rows cost (for growth: the
-- kept runs' rows of its roots), never a scan of a whole table; a test
-- checks the plans.
--
-- `filesystem` is st_dev as `major:minor` (the Linux encoding, as
-- /proc/self/mountinfo and the Prometheus label show it).

-- Per run, per file system holding roots, as statfs saw it at the end of the
-- scan: the images under its roots, their virtual sizes, their disk usage
-- (each host file (dev, ino) once: the image files and their external data
-- files) and overcommit_ratio = virtual sizes / capacity.
-- Per run, per file system holding roots, as statfs saw it at the end of the
-- scan: the images under its roots, their virtual sizes, their disk usage
-- (each host file (dev, ino) once: the image files and their external data
-- files) and overcommit_ratio = virtual sizes / capacity.
CREATE VIEW run_filesystem_overcommit AS
SELECT run_id, filesystem, dev, roots, capacity_bytes, free_bytes, available_bytes, image_count, virtual_size_bytes,
       disk_usage_bytes,
       CASE WHEN capacity_bytes > 0 THEN 1.0 * virtual_size_bytes / capacity_bytes END AS overcommit_ratio
FROM (SELECT fs.run_id,
             (((fs.dev >> 8) & 4095) | ((fs.dev >> 32) & ~4095)) || ':' || (((fs.dev & 255) | ((fs.dev >> 12) & ~255))) AS filesystem,
             fs.dev,
             fs.roots,
             fs.capacity_bytes,
             fs.free_bytes,
             fs.available_bytes,
             (SELECT count(*)
              FROM run_filesystems rf
              JOIN run_images ri ON ri.run_id = rf.run_id AND ri.root_id = rf.root_id
              WHERE rf.run_id = fs.run_id AND rf.dev = fs.dev) AS image_count,
             (SELECT coalesce(sum(c.virtual_size_bytes), 0)
              FROM run_filesystems rf
              JOIN run_images ri ON ri.run_id = rf.run_id AND ri.root_id = rf.root_id
              JOIN chains c ON c.id = ri.chain_id
              WHERE rf.run_id = fs.run_id AND rf.dev = fs.dev) AS virtual_size_bytes,
             (SELECT coalesce(sum(bytes), 0)
              FROM (SELECT max(f.allocated_bytes) AS bytes
                    FROM (SELECT c.top_file_id AS file_id
                          FROM run_filesystems rf
                          JOIN run_images ri ON ri.run_id = rf.run_id AND ri.root_id = rf.root_id
                          JOIN chains c ON c.id = ri.chain_id
                          WHERE rf.run_id = fs.run_id AND rf.dev = fs.dev
                          UNION ALL
                          SELECT ce.file_id
                          FROM run_filesystems rf
                          JOIN run_images ri ON ri.run_id = rf.run_id AND ri.root_id = rf.root_id
                          JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0
                          WHERE rf.run_id = fs.run_id AND rf.dev = fs.dev) u
                    JOIN files f ON f.id = u.file_id
                    GROUP BY f.dev, f.ino) per_file) AS disk_usage_bytes
      FROM (SELECT rf.run_id, rf.dev, max(rf.capacity_bytes) AS capacity_bytes, max(rf.free_bytes) AS free_bytes,
                   max(rf.available_bytes) AS available_bytes, string_agg(ro.path, ',' ORDER BY ro.path) AS roots
            FROM run_filesystems rf
            JOIN roots ro ON ro.id = rf.root_id
            GROUP BY rf.run_id, rf.dev) fs) filesystems;

-- The history a root's growth is fitted to: for each run R (run_id) and each
-- root of R, the disk usage of that root's images in every complete run H up
-- to R (R itself when complete) that has images under it, each host file
-- once; history_days is H's start in days relative to R's start (0 or less).
CREATE VIEW run_root_usage_history AS
SELECT run_id, root, history_run_id, history_started_at, history_days, disk_usage_bytes
FROM (SELECT rf.run_id,
             ro.path AS root,
             h.id AS history_run_id,
             h.started_at AS history_started_at,
             (extract(epoch FROM h.started_at::timestamptz) / 86400.0) - (extract(epoch FROM r.started_at::timestamptz) / 86400.0) AS history_days,
             (SELECT sum(bytes)
              FROM (SELECT max(f.allocated_bytes) AS bytes
                    FROM run_images ri
                    JOIN chains c ON c.id = ri.chain_id
                    JOIN files f ON f.id = c.top_file_id
                    WHERE ri.run_id = h.id AND ri.root_id = rf.root_id
                    GROUP BY f.dev, f.ino) per_file) AS disk_usage_bytes
      FROM run_filesystems rf
      JOIN runs r ON r.id = rf.run_id
      JOIN roots ro ON ro.id = rf.root_id
      JOIN runs h ON h.status = 'complete' AND h.id <= rf.run_id AND h.host_name = r.host_name) history
WHERE disk_usage_bytes IS NOT NULL;

-- Per run, per root: the growth of its images' disk usage in bytes per day
-- (the least-squares slope over run_root_usage_history against the runs'
-- start times; NULL with fewer than 2 complete runs or when they span less
-- than a day), and when the available space of the root's file system runs
-- out if this root grows at that rate (days_to_full, floored to a tenth;
-- full_on, the UTC date; both NULL when not growing).
CREATE VIEW run_root_growth AS
SELECT run_id,
       root,
       filesystem,
       available_bytes,
       run_count,
       span_days,
       daily_growth_bytes,
       CASE WHEN daily_growth_bytes > 0
            THEN trunc(greatest(0, available_bytes) / daily_growth_bytes * 10) / 10.0 END AS days_to_full,
       CASE WHEN daily_growth_bytes > 0
            THEN to_char((projected_from::timestamptz + greatest(0, available_bytes) / daily_growth_bytes * interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD') END AS full_on
FROM (SELECT rf.run_id,
             min(ro.path) AS root,
             (((rf.dev >> 8) & 4095) | ((rf.dev >> 32) & ~4095)) || ':' || (((rf.dev & 255) | ((rf.dev >> 12) & ~255))) AS filesystem,
             rf.available_bytes,
             min(coalesce(r.finished_at, r.started_at)) AS projected_from,
             count(*) AS run_count,
             max(h.history_days) - min(h.history_days) AS span_days,
             CASE WHEN count(*) >= 2 AND max(h.history_days) - min(h.history_days) >= 1
                       AND count(*) * sum(h.history_days * h.history_days) - sum(h.history_days) * sum(h.history_days) <> 0
                  THEN (count(*) * sum(h.history_days * h.disk_usage_bytes) - sum(h.history_days) * sum(h.disk_usage_bytes))
                       / (count(*) * sum(h.history_days * h.history_days) - sum(h.history_days) * sum(h.history_days)) END
               AS daily_growth_bytes
      FROM run_filesystems rf
      JOIN runs r ON r.id = rf.run_id
      JOIN roots ro ON ro.id = rf.root_id
      JOIN run_root_usage_history h ON h.run_id = rf.run_id AND h.root = ro.path
      GROUP BY rf.run_id, rf.root_id) growth;

-- Per run, per file system holding roots: the same growth and projection
-- for the disk usage of all the images under its roots, each host file once.
CREATE VIEW run_filesystem_growth AS
SELECT run_id,
       filesystem,
       (SELECT string_agg(ro.path, ',' ORDER BY ro.path)
        FROM run_filesystems rf JOIN roots ro ON ro.id = rf.root_id
        WHERE rf.run_id = g.run_id AND rf.dev = g.dev) AS roots,
       available_bytes,
       run_count,
       span_days,
       daily_growth_bytes,
       CASE WHEN daily_growth_bytes > 0
            THEN trunc(greatest(0, available_bytes) / daily_growth_bytes * 10) / 10.0 END AS days_to_full,
       CASE WHEN daily_growth_bytes > 0
            THEN to_char((projected_from::timestamptz + greatest(0, available_bytes) / daily_growth_bytes * interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD') END AS full_on
FROM (SELECT run_id,
             dev,
             (((dev >> 8) & 4095) | ((dev >> 32) & ~4095)) || ':' || (((dev & 255) | ((dev >> 12) & ~255))) AS filesystem,
             max(available_bytes) AS available_bytes,
             max(projected_from) AS projected_from,
             count(*) AS run_count,
             max(history_days) - min(history_days) AS span_days,
             CASE WHEN count(*) >= 2 AND max(history_days) - min(history_days) >= 1
                       AND count(*) * sum(history_days * history_days) - sum(history_days) * sum(history_days) <> 0
                  THEN (count(*) * sum(history_days * disk_usage_bytes) - sum(history_days) * sum(disk_usage_bytes))
                       / (count(*) * sum(history_days * history_days) - sum(history_days) * sum(history_days)) END
               AS daily_growth_bytes
      FROM (-- per file system (its first root's row) and complete run up to this one: the usage of its roots' images
            SELECT rf.run_id,
                   rf.dev,
                   rf.available_bytes,
                   coalesce(r.finished_at, r.started_at) AS projected_from,
                   (extract(epoch FROM h.started_at::timestamptz) / 86400.0) - (extract(epoch FROM r.started_at::timestamptz) / 86400.0) AS history_days,
                   (SELECT sum(bytes)
                    FROM (SELECT max(f.allocated_bytes) AS bytes
                          FROM run_filesystems rf2
                          JOIN run_images ri ON ri.run_id = h.id AND ri.root_id = rf2.root_id
                          JOIN chains c ON c.id = ri.chain_id
                          JOIN files f ON f.id = c.top_file_id
                          WHERE rf2.run_id = rf.run_id AND rf2.dev = rf.dev
                          GROUP BY f.dev, f.ino) per_file) AS disk_usage_bytes
            FROM run_filesystems rf
            JOIN runs r ON r.id = rf.run_id
            JOIN runs h ON h.status = 'complete' AND h.id <= rf.run_id AND h.host_name = r.host_name
            WHERE NOT EXISTS (SELECT 1 FROM run_filesystems first
                              WHERE first.run_id = rf.run_id AND first.dev = rf.dev AND first.root_id < rf.root_id)) history
      WHERE disk_usage_bytes IS NOT NULL
      GROUP BY run_id, dev) g;

-- Per run, per base file that exactly one file reads directly (the layer
-- above it, in every chain of the run that holds it, is the same file: an
-- external snapshot never committed, or a template with a single clone) and
-- that overlay, when it is an image of the run: what merging the two would
-- cost. `qemu-img commit` of the overlay adds commit_growth_bytes to the base
-- (a dry run from the maps; NULL when unknown); deleting the overlay then
-- frees commit_frees_bytes, unless other images read the overlay as their
-- backing file (overlay_is_backing; commit_frees_bytes is then NULL, as the
-- overlay must stay). Flattening instead (`qemu-img rebase -b ''`, or
-- convert) copies into the overlay the data it reads from its backing chain
-- (backing_data_bytes). A base that a reference names (base_is_referenced: a
-- VM uses it directly) must not be committed into.
CREATE VIEW run_flatten_candidates AS
SELECT s.run_id,
       bf.path AS base_path,
       bf.format AS base_format,
       bf.allocated_bytes AS base_disk_usage_bytes,
       EXISTS (SELECT 1 FROM run_references ref WHERE ref.run_id = s.run_id AND ref.path = bf.path) AS base_is_referenced,
       i.path AS overlay_path,
       tf.format AS overlay_format,
       tf.allocated_bytes AS overlay_disk_usage_bytes,
       c.layer_count AS chain_length,
       (SELECT sum(ocl.data_bytes) FROM chain_layers ocl WHERE ocl.chain_id = c.id AND ocl.depth >= 1) AS backing_data_bytes,
       c.commit_growth_bytes,
       CASE WHEN s.deeper_count = 0 THEN tf.allocated_bytes - c.commit_growth_bytes END AS commit_frees_bytes,
       s.deeper_count > 0 AS overlay_is_backing
FROM (SELECT ri.run_id,
             min(cl.file_id) AS file_id,
             min(CASE WHEN cl.depth = 1 THEN ri.image_id END) AS image_id,
             count(CASE WHEN cl.depth >= 2 THEN 1 END) AS deeper_count
      FROM run_images ri
      JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
      JOIN files f ON f.id = cl.file_id
      JOIN chain_layers above ON above.chain_id = cl.chain_id AND above.depth = cl.depth - 1
      JOIN files af ON af.id = above.file_id
      GROUP BY ri.run_id, f.dev, f.ino
      HAVING count(DISTINCT af.dev || ':' || af.ino) = 1) s
JOIN run_images ri ON ri.run_id = s.run_id AND ri.image_id = s.image_id
JOIN images i ON i.id = ri.image_id
JOIN chains c ON c.id = ri.chain_id
JOIN files tf ON tf.id = c.top_file_id
JOIN files bf ON bf.id = s.file_id;
