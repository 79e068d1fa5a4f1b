-- title: Bytes per root
-- about: Per storage root: images, images that could not be mapped, virtual size, disk usage (each
--   host file once) and bytes per category over the root's chains.
-- overview: 30
-- chart: data_bytes zero_bytes preallocated_bytes
-- text: root image_count error_count virtual_size_bytes disk_usage_bytes data_bytes zero_bytes preallocated_bytes
SELECT root,
       image_count,
       error_count,
       virtual_size_bytes,
       disk_usage_bytes,
       data_bytes,
       zero_bytes,
       preallocated_bytes,
       unallocated_bytes
FROM run_root_totals
WHERE run_id = $run_id
ORDER BY root;
