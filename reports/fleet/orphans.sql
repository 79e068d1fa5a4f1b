-- title: Orphaned bytes per host
-- about: Per host, in its newest complete run: images nothing uses, unchanged for at least the orphan minimum
--   age (check.orphanMinAge) and named by no reference — bases an earlier run's chains read that no chain reads
--   any more, and, where the host's scan had reference sources, images no reference names that are no backing
--   layer. Their disk usage is what deleting them would free.
-- overview: 40
-- text: host orphan_count base_orphan_count orphaned_bytes
WITH latest AS (
  SELECT DISTINCT ON (host_name) id, host_name, local_id, started_at,
         (EXISTS (SELECT 1 FROM run_references x WHERE x.run_id = runs.id)
          OR coalesce(jsonb_array_length(config::jsonb -> 'references' -> 'libvirtDomainDirs'), 0)
             + coalesce(jsonb_array_length(config::jsonb -> 'references' -> 'pathLists'), 0) > 0) AS has_references
  FROM runs WHERE status = 'complete' ORDER BY host_name, local_id DESC
), read_files AS (
  -- Files read as backing layers by the host's runs up to its newest (run_base_files: a few rows per run).
  SELECT l.id AS latest_id, f.path, f.dev, f.ino, bool_or(r.id = l.id) AS is_now
  FROM latest l
  JOIN runs r ON r.host_name = l.host_name AND r.local_id <= l.local_id
  JOIN run_base_files b ON b.run_id = r.id
  JOIN files f ON f.id = b.file_id
  GROUP BY l.id, f.path, f.dev, f.ino
), by_path AS (
  SELECT latest_id, path, bool_or(is_now) AS is_now FROM read_files GROUP BY latest_id, path
), by_file AS (
  SELECT latest_id, dev, ino, bool_or(is_now) AS is_now FROM read_files GROUP BY latest_id, dev, ino
), candidates AS (
  -- Images of the newest run that some run read as a base, and, where there are reference sources, every image.
  SELECT l.id AS run_id, l.host_name, l.started_at, ri.image_id, ri.chain_id
  FROM latest l
  JOIN by_path p ON p.latest_id = l.id
  JOIN images i ON i.path = p.path
  JOIN run_images ri ON ri.run_id = l.id AND ri.image_id = i.id
  UNION
  SELECT l.id, l.host_name, l.started_at, ri.image_id, ri.chain_id
  FROM latest l
  JOIN run_images ri ON ri.run_id = l.id
  WHERE l.has_references
  UNION
  SELECT l.id, l.host_name, l.started_at, ri.image_id, ri.chain_id
  FROM latest l
  JOIN by_file d ON d.latest_id = l.id
  JOIN files f ON f.dev = d.dev AND f.ino = d.ino
  JOIN chains c ON c.top_file_id = f.id
  JOIN run_images ri ON ri.run_id = l.id AND ri.chain_id = c.id
), judged AS (
  SELECT k.host_name, f.allocated_bytes, l.has_references,
         coalesce(p.is_now, false) OR coalesce(d.is_now, false) AS is_read_now,
         p.latest_id IS NOT NULL OR d.latest_id IS NOT NULL AS was_read,
         EXISTS (SELECT 1 FROM run_references x WHERE x.run_id = k.run_id AND x.path = i.path) AS is_referenced,
         k.started_at::timestamptz - to_timestamp(f.mtime_ns / 1e9)
           >= make_interval(secs => $orphan_min_age_s::double precision) AS is_old
  FROM candidates k
  JOIN latest l ON l.id = k.run_id
  JOIN images i ON i.id = k.image_id
  JOIN chains c ON c.id = k.chain_id
  JOIN files f ON f.id = c.top_file_id
  LEFT JOIN by_path p ON p.latest_id = k.run_id AND p.path = i.path
  LEFT JOIN by_file d ON d.latest_id = k.run_id AND d.dev = f.dev AND d.ino = f.ino
)
SELECT host_name AS host,
       count(*) AS orphan_count,
       count(*) FILTER (WHERE was_read) AS base_orphan_count,
       coalesce(sum(allocated_bytes), 0)::bigint AS orphaned_bytes
FROM judged
WHERE NOT is_read_now AND NOT is_referenced AND is_old AND (was_read OR has_references)
GROUP BY host_name
ORDER BY orphaned_bytes DESC, host;
