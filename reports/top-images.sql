-- title: Largest images
-- about: The images whose files use the most disk (st_blocks x 512), largest first.
-- overview: 50
-- chart: disk_usage_bytes
-- label: path
SELECT path,
       format,
       chain_length AS layers,
       virtual_size_bytes,
       disk_usage_bytes,
       data_bytes
FROM run_image_states
WHERE run_id = $run_id
ORDER BY disk_usage_bytes DESC, path
LIMIT $limit;
