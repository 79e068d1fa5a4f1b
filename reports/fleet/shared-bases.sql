-- title: Base images shared across hosts
-- about: Backing files of the hosts' newest complete runs that are copies of one image on several hosts: same
--   file name, format, virtual size and own allocation map (maps are stored once per content across the fleet).
--   Files are the copies the hosts keep on disk; chains are the overlays reading them.
-- overview: 60
-- chart: disk_usage_bytes
-- label: name
WITH latest AS (
  SELECT DISTINCT ON (host_name) id, host_name FROM runs WHERE status = 'complete' ORDER BY host_name, local_id DESC
), bases AS (
  SELECT l.host_name, b.file_id, b.chain_count
  FROM latest l JOIN run_base_files b ON b.run_id = l.id
)
SELECT regexp_replace(f.path, '^.*/', '') AS name,
       f.format,
       count(DISTINCT b.host_name) AS host_count,
       count(*) AS file_count,
       sum(b.chain_count)::bigint AS chain_count,
       max(f.virtual_size_bytes) AS virtual_size_bytes,
       max(fa.data_bytes) AS own_data_bytes,
       sum(f.allocated_bytes)::bigint AS disk_usage_bytes
FROM bases b
JOIN files f ON f.id = b.file_id
JOIN file_allocations fa ON fa.file_id = b.file_id
GROUP BY regexp_replace(f.path, '^.*/', ''), f.format, f.virtual_size_bytes, fa.map_id
HAVING count(DISTINCT b.host_name) >= 2
ORDER BY disk_usage_bytes DESC, name
LIMIT $limit;
