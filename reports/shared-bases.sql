-- title: What overlays read of their bases
-- about: Per base file read directly by overlays: its own bytes split into those two or more overlays read
--   (shared), those exactly one overlay reads (deleting that overlay leaves them unread) and those no overlay
--   reads (unread: hidden by every overlay, or never read). Most overlays first, --top N of them;
--   imgaudit report --report base-overlays lists each overlay with the bytes it alone reads.
-- overview: 72
-- chart: shared_bytes read_by_one_bytes unread_bytes
-- label: base_path
-- text: base_path overlay_count disk_usage_bytes own_data_bytes shared_bytes read_by_one_bytes unread_bytes
SELECT f.path AS base_path,
       f.format,
       bs.overlay_count,
       f.allocated_bytes AS disk_usage_bytes,
       fa.data_bytes AS own_data_bytes,
       fa.zero_bytes AS own_zero_bytes,
       fa.preallocated_bytes AS own_preallocated_bytes,
       bs.read_bytes,
       bs.shared_bytes,
       bs.read_bytes - bs.shared_bytes AS read_by_one_bytes,
       bs.unread_bytes
FROM run_base_sharings rbs
JOIN base_sharings bs ON bs.id = rbs.sharing_id
JOIN files f ON f.id = bs.file_id
LEFT JOIN file_allocations fa ON fa.file_id = bs.file_id
WHERE rbs.run_id = $run_id
ORDER BY bs.overlay_count DESC, bs.unread_bytes DESC, f.path
LIMIT $limit;
