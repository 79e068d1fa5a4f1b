-- title: Shared base images
-- about: Files that chains read as backing layers (depth 1 or more): how many chains read each, the
--   data bytes those chains read from it, and its own disk usage (counted once).
-- overview: 70
-- chart: chain_read_data_bytes
-- label: base_path
-- text: base_path format chain_count chain_read_data_bytes disk_usage_bytes virtual_size_bytes
SELECT base_path,
       format,
       chain_count,
       min_depth,
       max_depth,
       data_bytes_read_by_chains AS chain_read_data_bytes,
       disk_usage_bytes,
       virtual_size_bytes
FROM run_base_usage
WHERE run_id = $run_id
ORDER BY chain_count DESC, disk_usage_bytes DESC, base_path;
