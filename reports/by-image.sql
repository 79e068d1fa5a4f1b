-- title: Images
-- about: Every image of the run, audited as the top of its own chain: bytes per category summed
--   over the chain's depths (a shared base's bytes appear under every image that reads it), and
--   the disk usage of the image file itself. `in_use` says whether a process held the image open
--   when the scan saw it (QEMU's lock bytes: a running VM, qemu-nbd, qemu-io), for writing or only
--   for reading; text shows it below the image's row.
-- text: path layers virtual_size_bytes disk_usage_bytes data_bytes zero_bytes preallocated_bytes error_code in_use
-- detail: error_code in_use
SELECT s.path,
       s.format,
       s.chain_length AS layers,
       s.virtual_size_bytes,
       s.disk_usage_bytes,
       s.data_bytes,
       s.zero_bytes,
       s.preallocated_bytes,
       s.unallocated_bytes,
       s.backing_name,
       s.error_code,
       CASE u.in_use WHEN 'write' THEN 'held open for writing' WHEN 'read' THEN 'held open for reading' END AS in_use
FROM run_image_states s
LEFT JOIN run_image_use u ON u.run_id = s.run_id AND u.image_id = s.image_id
WHERE s.run_id = $run_id
ORDER BY s.path;
