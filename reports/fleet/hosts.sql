-- title: Hosts
-- about: Per host: its newest complete run (the host's own run id) and when it finished, its age, the host's
--   newest run of any status, and the runs the central store holds. A host whose last complete run is older
--   than --stale-after (or that has none) is stale: a finding.
-- overview: 10
-- text: host run_id last_success_at age_hours newest_run_id newest_status run_count is_stale
WITH latest AS (
  SELECT DISTINCT ON (host_name) host_name, local_id, finished_at
  FROM runs WHERE status = 'complete' ORDER BY host_name, local_id DESC
), newest AS (
  SELECT DISTINCT ON (host_name) host_name, local_id, status
  FROM runs ORDER BY host_name, local_id DESC
), counts AS (
  SELECT host_name, count(*) AS run_count FROM runs GROUP BY host_name
)
SELECT n.host_name AS host,
       l.local_id AS run_id,
       l.finished_at AS last_success_at,
       round((extract(epoch FROM $now::timestamptz - l.finished_at::timestamptz) / 3600)::numeric, 1) AS age_hours,
       n.local_id AS newest_run_id,
       n.status AS newest_status,
       c.run_count,
       (l.finished_at IS NULL
        OR l.finished_at::timestamptz < $now::timestamptz - make_interval(secs => $stale_after_s::double precision)) AS is_stale
FROM newest n
JOIN counts c ON c.host_name = n.host_name
LEFT JOIN latest l ON l.host_name = n.host_name
ORDER BY is_stale DESC, host;
