-- title: Orphaned bytes per host
-- about: Per host, in its newest complete run: images nothing uses, unchanged for at least the orphan minimum
--   age (check.orphanMinAge) and named by no reference — bases an earlier run's chains read that no chain reads
--   any more, and, where the host's scan had reference sources, images no reference names that are no backing
--   layer. Their disk usage is what deleting them would free.
-- overview: 40
-- text: host orphan_count base_orphan_count orphaned_bytes
WITH latest AS (
  SELECT DISTINCT ON (host_name) id, host_name, local_id, started_at, config
  FROM runs WHERE status = 'complete' ORDER BY host_name, local_id DESC
), host_runs AS (
  SELECT r.id, l.id AS latest_id FROM latest l JOIN runs r ON r.host_name = l.host_name AND r.local_id <= l.local_id
), backing AS (
  -- Files (by path and by dev:ino) read at depth >= 1: by the latest run (now) or by any run up to it (ever).
  SELECT DISTINCT hr.latest_id, hr.id = hr.latest_id AS is_now, f.path, f.dev, f.ino
  FROM host_runs hr
  JOIN (SELECT DISTINCT run_id, chain_id FROM run_images) ri ON ri.run_id = hr.id
  JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
  JOIN files f ON f.id = cl.file_id
), candidates AS (
  SELECT l.host_name, l.id AS run_id, i.path, f.dev, f.ino, f.allocated_bytes,
         EXISTS (SELECT 1 FROM backing b WHERE b.latest_id = l.id AND b.is_now AND (b.path = i.path OR (b.dev = f.dev AND b.ino = f.ino))) AS is_read_now,
         EXISTS (SELECT 1 FROM backing b WHERE b.latest_id = l.id AND (b.path = i.path OR (b.dev = f.dev AND b.ino = f.ino))) AS was_read,
         EXISTS (SELECT 1 FROM run_references x WHERE x.run_id = l.id AND x.path = i.path) AS is_referenced,
         (EXISTS (SELECT 1 FROM run_references x WHERE x.run_id = l.id)
          OR coalesce(jsonb_array_length(l.config::jsonb -> 'references' -> 'libvirtDomainDirs'), 0)
             + coalesce(jsonb_array_length(l.config::jsonb -> 'references' -> 'pathLists'), 0) > 0) AS has_references,
         l.started_at::timestamptz - to_timestamp(f.mtime_ns / 1e9) >= make_interval(secs => $orphan_min_age_s::double precision) AS is_old
  FROM latest l
  JOIN run_images ri ON ri.run_id = l.id
  JOIN images i ON i.id = ri.image_id
  JOIN chains c ON c.id = ri.chain_id
  JOIN files f ON f.id = c.top_file_id
)
SELECT host_name AS host,
       count(*) FILTER (WHERE was_read OR has_references) AS orphan_count,
       count(*) FILTER (WHERE was_read) AS base_orphan_count,
       coalesce(sum(allocated_bytes), 0)::bigint AS orphaned_bytes
FROM candidates
WHERE NOT is_read_now AND NOT is_referenced AND is_old AND (was_read OR has_references)
GROUP BY host_name
ORDER BY orphaned_bytes DESC, host;
