-- title: Hosts growing fastest
-- about: Disk usage of each host's newest complete run against its oldest complete run of the last --window days,
--   most growth first, --top N of them.
-- overview: 50
-- chart: disk_usage_growth_bytes
-- label: host
WITH latest AS (
  SELECT DISTINCT ON (host_name) id, host_name, local_id, started_at, disk_usage_bytes, virtual_size_bytes
  FROM runs WHERE status = 'complete' ORDER BY host_name, local_id DESC
), first AS (
  SELECT DISTINCT ON (r.host_name) r.host_name, r.started_at, r.disk_usage_bytes, r.virtual_size_bytes
  FROM runs r JOIN latest l ON l.host_name = r.host_name
  WHERE r.status = 'complete'
    AND r.started_at::timestamptz >= l.started_at::timestamptz - make_interval(days => $window_days::int)
  ORDER BY r.host_name, r.local_id
)
SELECT l.host_name AS host,
       f.disk_usage_bytes AS from_disk_usage_bytes,
       l.disk_usage_bytes,
       l.disk_usage_bytes - f.disk_usage_bytes AS disk_usage_growth_bytes,
       l.virtual_size_bytes - f.virtual_size_bytes AS virtual_size_growth_bytes,
       round((extract(epoch FROM l.started_at::timestamptz - f.started_at::timestamptz) / 86400)::numeric, 1) AS days
FROM latest l JOIN first f ON f.host_name = l.host_name
ORDER BY disk_usage_growth_bytes DESC, host
LIMIT $limit;
