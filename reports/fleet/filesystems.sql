-- title: File systems per host
-- about: Per host, the file systems holding its roots at its newest complete run: capacity, what unprivileged
--   writers still have (available), how that shrank per day since the oldest complete run of the last
--   --window days, and the days until it is gone at that rate (empty: not shrinking, or runs less than a day apart).
-- overview: 30
-- text: host root capacity_bytes available_bytes used_pct growth_per_day_bytes days_to_full
WITH latest AS (
  SELECT DISTINCT ON (host_name) id, host_name, local_id, started_at
  FROM runs WHERE status = 'complete' ORDER BY host_name, local_id DESC
), first AS (
  SELECT DISTINCT ON (r.host_name) r.id, r.host_name, r.started_at
  FROM runs r JOIN latest l ON l.host_name = r.host_name
  WHERE r.status = 'complete'
    AND r.started_at::timestamptz >= l.started_at::timestamptz - make_interval(days => $window_days::int)
  ORDER BY r.host_name, r.local_id
), now_fs AS (
  SELECT l.host_name, l.started_at, fs.dev, min(ro.path) AS root, max(fs.capacity_bytes) AS capacity_bytes,
         max(fs.available_bytes) AS available_bytes
  FROM latest l JOIN run_filesystems fs ON fs.run_id = l.id JOIN roots ro ON ro.id = fs.root_id
  GROUP BY l.host_name, l.started_at, fs.dev
), then_fs AS (
  SELECT f.host_name, f.started_at, fs.dev, max(fs.available_bytes) AS available_bytes
  FROM first f JOIN run_filesystems fs ON fs.run_id = f.id
  GROUP BY f.host_name, f.started_at, fs.dev
), rates AS (
  SELECT n.*,
         CASE WHEN extract(epoch FROM n.started_at::timestamptz - t.started_at::timestamptz) >= 86400
              THEN (t.available_bytes - n.available_bytes)
                   / (extract(epoch FROM n.started_at::timestamptz - t.started_at::timestamptz) / 86400) END AS per_day
  FROM now_fs n LEFT JOIN then_fs t ON t.host_name = n.host_name AND t.dev = n.dev
)
SELECT host_name AS host,
       root,
       capacity_bytes,
       available_bytes,
       round((100.0 * (capacity_bytes - available_bytes) / nullif(capacity_bytes, 0))::numeric, 1) AS used_pct,
       round(per_day)::bigint AS growth_per_day_bytes,
       CASE WHEN per_day > 0 THEN floor(available_bytes / per_day)::bigint END AS days_to_full
FROM rates
ORDER BY days_to_full NULLS LAST, host, root;
