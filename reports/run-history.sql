-- title: History of complete runs
-- about: The last 14 complete runs up to this one, oldest first, with the growth of disk usage since
--   the complete run before each.
-- overview: 80
-- chart: disk_usage_bytes
-- label: run_id
-- plot: line
-- text: run_id started_at image_count virtual_size_bytes disk_usage_bytes disk_usage_growth_bytes data_bytes
SELECT * FROM (
  SELECT run_id,
         started_at,
         image_count,
         error_count,
         virtual_size_bytes,
         disk_usage_bytes,
         disk_usage_bytes - lag(disk_usage_bytes) OVER (ORDER BY run_id) AS disk_usage_growth_bytes,
         data_bytes,
         zero_bytes,
         preallocated_bytes
  FROM run_totals
  WHERE status = 'complete' AND run_id <= $run_id
  ORDER BY run_id DESC
  LIMIT 14
) AS recent
ORDER BY run_id;
