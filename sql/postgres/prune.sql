-- Why: retention on the central store (imgaudit prune --db postgres://...):
-- each host's runs are dropped by the same rules as in its SQLite file (the
-- newest complete run of a host is always kept), then every base sharing,
-- chain state, map, file, image and root no remaining run of any host
-- references. Pushes hold the same lock shared: content a push has found
-- is never dropped under it.

-- name: lock
SELECT pg_advisory_xact_lock(72431905);

-- name: hosts
SELECT DISTINCT host_name FROM runs WHERE $1::text IS NULL OR host_name = $1 ORDER BY host_name;

-- name: run_ids
SELECT local_id FROM runs WHERE host_name = $1 ORDER BY local_id;

-- name: drop_by_count
DELETE FROM runs
WHERE host_name = $1 AND status <> 'running'
  AND local_id < (SELECT local_id FROM runs WHERE host_name = $1 AND status = 'complete'
                  ORDER BY local_id DESC LIMIT 1 OFFSET $2::bigint - 1);

-- name: drop_by_age
DELETE FROM runs
WHERE host_name = $1 AND status <> 'running' AND started_at < $2
  AND local_id IS DISTINCT FROM (SELECT local_id FROM runs WHERE host_name = $1 AND status = 'complete'
                                 ORDER BY local_id DESC LIMIT 1);

-- name: drop_sharings
DELETE FROM base_sharings s WHERE NOT EXISTS (SELECT 1 FROM run_base_sharings r WHERE r.sharing_id = s.id);

-- name: drop_chains
DELETE FROM chains c WHERE NOT EXISTS (SELECT 1 FROM run_images r WHERE r.chain_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM base_sharing_overlays o WHERE o.chain_id = c.id);

-- name: drop_file_facts
WITH unused AS (
  SELECT f.id FROM files f
  WHERE NOT EXISTS (SELECT 1 FROM chains c WHERE c.top_file_id = f.id)
    AND NOT EXISTS (SELECT 1 FROM chain_layers cl WHERE cl.file_id = f.id)
    AND NOT EXISTS (SELECT 1 FROM chain_extra_files ce WHERE ce.file_id = f.id)
    AND NOT EXISTS (SELECT 1 FROM base_sharings s WHERE s.file_id = f.id)
), allocations AS (
  DELETE FROM file_allocations WHERE file_id IN (SELECT id FROM unused)
)
DELETE FROM file_snapshots WHERE file_id IN (SELECT id FROM unused);

-- name: drop_maps
DELETE FROM maps m WHERE hash IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM chains c WHERE c.map_id = m.id)
  AND NOT EXISTS (SELECT 1 FROM file_allocations a WHERE a.map_id = m.id);

-- name: drop_files
DELETE FROM files f
WHERE NOT EXISTS (SELECT 1 FROM chains c WHERE c.top_file_id = f.id)
  AND NOT EXISTS (SELECT 1 FROM chain_layers cl WHERE cl.file_id = f.id)
  AND NOT EXISTS (SELECT 1 FROM chain_extra_files ce WHERE ce.file_id = f.id)
  AND NOT EXISTS (SELECT 1 FROM base_sharings s WHERE s.file_id = f.id)
  AND NOT EXISTS (SELECT 1 FROM file_allocations a WHERE a.file_id = f.id)
  AND NOT EXISTS (SELECT 1 FROM run_base_files b WHERE b.file_id = f.id);

-- name: drop_images
DELETE FROM images i WHERE NOT EXISTS (SELECT 1 FROM run_images r WHERE r.image_id = i.id)
  AND NOT EXISTS (SELECT 1 FROM run_image_use u WHERE u.image_id = i.id);

-- name: drop_roots
DELETE FROM roots o WHERE NOT EXISTS (SELECT 1 FROM run_images r WHERE r.root_id = o.id)
  AND NOT EXISTS (SELECT 1 FROM run_filesystems f WHERE f.root_id = o.id)
  AND NOT EXISTS (SELECT 1 FROM run_root_usage u WHERE u.root_id = o.id);

-- name: push_lock
SELECT pg_advisory_xact_lock_shared(72431905);

-- name: database_bytes
SELECT pg_database_size(current_database()) AS bytes;
