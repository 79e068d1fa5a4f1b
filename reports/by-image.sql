-- title: Images
-- about: Every image of the run, audited as the top of its own chain: bytes per category summed
--   over the chain's depths (a shared base's bytes appear under every image that reads it), and
--   the disk usage of the image file itself.
-- text: path layers virtual_size_bytes disk_usage_bytes data_bytes zero_bytes preallocated_bytes error_code
-- detail: error_code
SELECT path,
       format,
       chain_length AS layers,
       virtual_size_bytes,
       disk_usage_bytes,
       data_bytes,
       zero_bytes,
       preallocated_bytes,
       unallocated_bytes,
       backing_name,
       error_code
FROM run_image_states
WHERE run_id = $run_id
ORDER BY path;
