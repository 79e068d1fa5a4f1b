-- title: Bytes per format
-- about: Per image format (of the image file itself): images, images that could not be mapped,
--   virtual size, disk usage (each host file once) and bytes per category over their chains.
-- overview: 40
-- text: format image_count error_count virtual_size_bytes disk_usage_bytes data_bytes zero_bytes preallocated_bytes
SELECT format,
       image_count,
       error_count,
       virtual_size_bytes,
       disk_usage_bytes,
       data_bytes,
       zero_bytes,
       preallocated_bytes,
       unallocated_bytes
FROM run_format_totals
WHERE run_id = $run_id
ORDER BY format;
