-- title: Largest growth since the previous complete run
-- about: Images present in both runs whose disk usage or data grew, most growth first.
-- overview: 60
-- chart: disk_usage_growth_bytes
-- label: path
SELECT cur.path,
       prev.disk_usage_bytes AS from_disk_usage_bytes,
       cur.disk_usage_bytes,
       cur.disk_usage_bytes - prev.disk_usage_bytes AS disk_usage_growth_bytes,
       coalesce(cur.data_bytes, 0) - coalesce(prev.data_bytes, 0) AS data_growth_bytes
FROM run_image_states cur
JOIN run_image_states prev ON prev.run_id = $previous_run_id AND prev.image_id = cur.image_id
WHERE cur.run_id = $run_id
  AND (cur.disk_usage_bytes > prev.disk_usage_bytes OR coalesce(cur.data_bytes, 0) > coalesce(prev.data_bytes, 0))
ORDER BY disk_usage_growth_bytes DESC, data_growth_bytes DESC, cur.path
LIMIT $limit;
