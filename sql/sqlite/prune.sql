-- Why: retention on a host's SQLite file (imgaudit prune, and a scan's
-- configured retention). Old runs are dropped, then every base sharing,
-- chain state, file, map, image and root that only they referenced. The
-- shared rows are found from the dropped runs, not by sweeping whole tables:
-- each step narrows a set of candidates (temporary tables prune_*) to those no
-- remaining row references, through the indexes on the referencing columns,
-- then deletes the children of the doomed rows in one statement per table
-- before the rows themselves. The cost grows with what the dropped runs
-- held, not with what is kept. test/unit/store/query-plans.test.ts plans
-- every statement here, and the foreign-key checks and cascades each
-- deletion makes SQLite run.

-- name: create_sets
CREATE TEMP TABLE IF NOT EXISTS prune_runs (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS prune_sharings (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS prune_chains (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS prune_files (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS prune_maps (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS prune_images (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS prune_roots (id INTEGER PRIMARY KEY);
DELETE FROM prune_runs;
DELETE FROM prune_sharings;
DELETE FROM prune_chains;
DELETE FROM prune_files;
DELETE FROM prune_maps;
DELETE FROM prune_images;
DELETE FROM prune_roots;

-- name: runs_by_count
-- The runs to drop: before the newest $keep complete runs ...
INSERT OR IGNORE INTO prune_runs (id)
SELECT id FROM runs
WHERE status <> 'running'
  AND id < (SELECT id FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1 OFFSET $keep - 1);

-- name: runs_by_age
-- ... or started before $cutoff; never the newest complete run.
INSERT OR IGNORE INTO prune_runs (id)
SELECT id FROM runs
WHERE status <> 'running' AND started_at < $cutoff
  AND id IS NOT (SELECT id FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1);

-- name: count_runs
SELECT count(*) FROM prune_runs;

-- name: run_image_rows
-- Rows the dropped runs list, and of all runs (they choose how run_images is deleted).
SELECT coalesce(sum(CASE WHEN id IN (SELECT id FROM prune_runs) THEN image_count ELSE 0 END), 0) AS deleting,
       coalesce(sum(image_count), 0) AS total
FROM runs;

-- name: candidate_chains
-- What the dropped runs referenced: the candidates.
INSERT OR IGNORE INTO prune_chains (id)
SELECT chain_id FROM run_images WHERE run_id IN (SELECT id FROM prune_runs);

-- name: candidate_images
INSERT OR IGNORE INTO prune_images (id)
SELECT image_id FROM run_images WHERE run_id IN (SELECT id FROM prune_runs);
INSERT OR IGNORE INTO prune_images (id)
SELECT image_id FROM run_image_use WHERE run_id IN (SELECT id FROM prune_runs);

-- name: candidate_roots
-- A run's roots with images are those of its materialised disk usage (run_root_usage, written when the run
-- ends: every pruned run has ended), read here instead of every image of the run.
INSERT INTO prune_roots (id)
SELECT root_id FROM run_filesystems WHERE run_id IN (SELECT id FROM prune_runs)
UNION
SELECT root_id FROM run_root_usage WHERE run_id IN (SELECT id FROM prune_runs);

-- name: candidate_sharings
INSERT INTO prune_sharings (id)
SELECT DISTINCT sharing_id FROM run_base_sharings WHERE run_id IN (SELECT id FROM prune_runs);

-- name: delete_run_images
-- The dropped runs' rows; the per-run tables left go with the runs (ON DELETE CASCADE, by run_id).
DELETE FROM run_images WHERE run_id IN (SELECT id FROM prune_runs);

-- name: delete_run_sharings
DELETE FROM run_base_sharings WHERE run_id IN (SELECT id FROM prune_runs);

-- name: delete_runs
DELETE FROM runs WHERE id IN (SELECT id FROM prune_runs);

-- name: keep_used_sharings
-- Base sharings no remaining run links; their overlay rows name chain states, which become candidates.
DELETE FROM prune_sharings
WHERE EXISTS (SELECT 1 FROM run_base_sharings r WHERE r.sharing_id = prune_sharings.id);

-- name: sharing_overlay_rows
SELECT coalesce((SELECT sum(overlay_count) FROM base_sharings WHERE id IN (SELECT id FROM prune_sharings)), 0) AS deleting,
       coalesce((SELECT sum(overlay_count) FROM base_sharings), 0) AS total;

-- name: sharing_candidates
-- The overlay chains of a sharing are in its key: every run linking it lists them, so they are candidates
-- already. The base file is one too (a layer of those chains), named here all the same.
INSERT OR IGNORE INTO prune_files (id)
SELECT DISTINCT file_id FROM base_sharings WHERE id IN (SELECT id FROM prune_sharings);

-- name: delete_sharing_overlays
DELETE FROM base_sharing_overlays WHERE sharing_id IN (SELECT id FROM prune_sharings);

-- name: delete_sharings
DELETE FROM base_sharings WHERE id IN (SELECT id FROM prune_sharings);

-- name: keep_used_chains
-- Chain states no remaining run lists and no remaining sharing names; their files and maps become candidates.
DELETE FROM prune_chains
WHERE EXISTS (SELECT 1 FROM run_images ri WHERE ri.chain_id = prune_chains.id)
   OR EXISTS (SELECT 1 FROM base_sharing_overlays o WHERE o.chain_id = prune_chains.id);

-- name: chain_candidates
INSERT OR IGNORE INTO prune_files (id)
SELECT top_file_id FROM chains WHERE id IN (SELECT id FROM prune_chains)
UNION
SELECT file_id FROM chain_layers WHERE chain_id IN (SELECT id FROM prune_chains)
UNION
SELECT file_id FROM chain_extra_files WHERE chain_id IN (SELECT id FROM prune_chains);
INSERT OR IGNORE INTO prune_maps (id)
SELECT DISTINCT map_id FROM chains WHERE id IN (SELECT id FROM prune_chains) AND map_id IS NOT NULL;

-- name: delete_chain_rows
DELETE FROM chain_layers WHERE chain_id IN (SELECT id FROM prune_chains);
DELETE FROM chain_extra_files WHERE chain_id IN (SELECT id FROM prune_chains);
DELETE FROM chain_findings WHERE chain_id IN (SELECT id FROM prune_chains);

-- name: delete_chains
DELETE FROM chains WHERE id IN (SELECT id FROM prune_chains);

-- name: keep_used_files
-- Files no remaining chain state or sharing names; their own allocation's map becomes a candidate.
DELETE FROM prune_files
WHERE EXISTS (SELECT 1 FROM chains c WHERE c.top_file_id = prune_files.id)
   OR EXISTS (SELECT 1 FROM chain_layers l WHERE l.file_id = prune_files.id)
   OR EXISTS (SELECT 1 FROM chain_extra_files e WHERE e.file_id = prune_files.id)
   OR EXISTS (SELECT 1 FROM base_sharings s WHERE s.file_id = prune_files.id);

-- name: file_candidates
INSERT OR IGNORE INTO prune_maps (id)
SELECT DISTINCT map_id FROM file_allocations WHERE file_id IN (SELECT id FROM prune_files);

-- name: delete_file_rows
DELETE FROM file_allocations WHERE file_id IN (SELECT id FROM prune_files);
DELETE FROM file_snapshots WHERE file_id IN (SELECT id FROM prune_files);

-- name: keep_used_maps
-- Maps no remaining chain state or own allocation uses (a map still being written has no hash: kept).
DELETE FROM prune_maps
WHERE EXISTS (SELECT 1 FROM maps m WHERE m.id = prune_maps.id AND m.hash IS NULL)
   OR EXISTS (SELECT 1 FROM chains c WHERE c.map_id = prune_maps.id)
   OR EXISTS (SELECT 1 FROM file_allocations a WHERE a.map_id = prune_maps.id);

-- name: delete_map_entries
DELETE FROM map_entries WHERE map_id IN (SELECT id FROM prune_maps);

-- name: delete_maps
DELETE FROM maps WHERE id IN (SELECT id FROM prune_maps);

-- name: delete_files
DELETE FROM files WHERE id IN (SELECT id FROM prune_files);

-- name: delete_images
-- Images no remaining run lists. Roots no remaining run lists an image, a file system or a disk usage of.
DELETE FROM prune_images
WHERE EXISTS (SELECT 1 FROM run_images ri WHERE ri.image_id = prune_images.id)
   OR EXISTS (SELECT 1 FROM run_image_use u WHERE u.image_id = prune_images.id);
DELETE FROM images WHERE id IN (SELECT id FROM prune_images);

-- name: delete_roots
DELETE FROM prune_roots
WHERE EXISTS (SELECT 1 FROM run_images WHERE run_id IN (SELECT id FROM runs) AND root_id = prune_roots.id)
   OR EXISTS (SELECT 1 FROM run_filesystems WHERE run_id IN (SELECT id FROM runs) AND root_id = prune_roots.id)
   OR EXISTS (SELECT 1 FROM run_root_usage WHERE run_id IN (SELECT id FROM runs) AND root_id = prune_roots.id);
DELETE FROM roots WHERE id IN (SELECT id FROM prune_roots);

-- name: drop_sets
DROP TABLE IF EXISTS temp.prune_runs;
DROP TABLE IF EXISTS temp.prune_sharings;
DROP TABLE IF EXISTS temp.prune_chains;
DROP TABLE IF EXISTS temp.prune_files;
DROP TABLE IF EXISTS temp.prune_maps;
DROP TABLE IF EXISTS temp.prune_images;
DROP TABLE IF EXISTS temp.prune_roots;

-- name: secondary_indexes
-- The secondary indexes of a table (rebuilt around a delete that removes most of its rows).
SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name;
