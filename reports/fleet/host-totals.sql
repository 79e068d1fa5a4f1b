-- title: Totals per host
-- about: The newest complete run of each host: images, errors, virtual size, disk usage (each host file once),
--   bytes per category (a shared base counts once per chain that reads it, as in each host's own report) and
--   the bytes backing layers hold that their chains' upper layers hide (shadowed). The last row is the fleet:
--   the sum over the hosts.
-- overview: 20
-- text: host image_count error_count virtual_size_bytes disk_usage_bytes data_bytes zero_bytes preallocated_bytes shadowed_bytes
WITH latest AS (
  SELECT DISTINCT ON (host_name) id, host_name, image_count, error_count, virtual_size_bytes, disk_usage_bytes,
         unallocated_bytes
  FROM runs WHERE status = 'complete' ORDER BY host_name, local_id DESC
), categories AS (
  SELECT t.run_id, sum(t.data_bytes) AS data_bytes, sum(t.zero_bytes) AS zero_bytes,
         sum(t.preallocated_bytes) AS preallocated_bytes
  FROM latest l JOIN run_depth_totals t ON t.run_id = l.id
  GROUP BY t.run_id
), shadowed AS (
  SELECT t.run_id, t.shadowed_data_bytes + t.shadowed_zero_bytes + t.shadowed_preallocated_bytes AS shadowed_bytes
  FROM latest l JOIN run_layer_totals t ON t.run_id = l.id
)
SELECT coalesce(l.host_name, '(fleet)') AS host,
       sum(l.image_count)::bigint AS image_count,
       sum(l.error_count)::bigint AS error_count,
       sum(l.virtual_size_bytes)::bigint AS virtual_size_bytes,
       sum(l.disk_usage_bytes)::bigint AS disk_usage_bytes,
       sum(coalesce(c.data_bytes, 0))::bigint AS data_bytes,
       sum(coalesce(c.zero_bytes, 0))::bigint AS zero_bytes,
       sum(coalesce(c.preallocated_bytes, 0))::bigint AS preallocated_bytes,
       sum(l.unallocated_bytes)::bigint AS unallocated_bytes,
       sum(coalesce(s.shadowed_bytes, 0))::bigint AS shadowed_bytes
FROM latest l
LEFT JOIN categories c ON c.run_id = l.id
LEFT JOIN shadowed s ON s.run_id = l.id
GROUP BY GROUPING SETS ((l.host_name), ())
ORDER BY grouping(l.host_name), l.host_name;
