-- Why: what `imgaudit push` reads from a host's SQLite file: the runs that
-- have ended and, per run, every row the central store needs to hold it.
-- Id lists are passed as JSON arrays (json_each): the push reads through a
-- read-only connection, which cannot fill temporary tables. A path's exact
-- bytes (path_bytes, set where it is not UTF-8) go as hex text (*_hex).

-- name: ended_runs
SELECT id, started_at, finished_at, status, pid, host, tool_version, roots, config, fingerprint, is_full,
       image_count, error_count, new_count, changed_count, read_count, mapped_bytes, virtual_size_bytes,
       disk_usage_bytes, unallocated_bytes, data_bytes, zero_bytes, preallocated_bytes
FROM runs WHERE status <> 'running' ORDER BY id;

-- name: run_images
SELECT i.path AS image_path, ro.path AS root_path, ri.chain_id, ri.change,
       nullif(hex(i.path_bytes), '') AS image_path_hex, nullif(hex(ro.path_bytes), '') AS root_path_hex
FROM run_images ri
JOIN images i ON i.id = ri.image_id
JOIN roots ro ON ro.id = ri.root_id
WHERE ri.run_id = ?
ORDER BY ri.image_id;

-- name: run_findings
SELECT path, code, severity, message FROM run_findings WHERE run_id = ? ORDER BY id;

-- name: run_depth_totals
SELECT depth, data_bytes, zero_bytes, preallocated_bytes FROM run_depth_totals WHERE run_id = ? ORDER BY depth;

-- name: run_filesystems
SELECT ro.path AS root_path, nullif(hex(ro.path_bytes), '') AS root_path_hex, fs.dev, fs.capacity_bytes, fs.free_bytes, fs.available_bytes
FROM run_filesystems fs JOIN roots ro ON ro.id = fs.root_id
WHERE fs.run_id = ? ORDER BY ro.path;

-- name: run_root_usage
SELECT ro.path AS root_path, nullif(hex(ro.path_bytes), '') AS root_path_hex, u.disk_usage_bytes
FROM run_root_usage u JOIN roots ro ON ro.id = u.root_id
WHERE u.run_id = ? ORDER BY ro.path;

-- name: run_format_usage
SELECT format, disk_usage_bytes FROM run_format_usage WHERE run_id = ? ORDER BY format;

-- name: run_image_use
SELECT i.path AS image_path, nullif(hex(i.path_bytes), '') AS image_path_hex, u.in_use
FROM run_image_use u JOIN images i ON i.id = u.image_id
WHERE u.run_id = ? ORDER BY i.path;

-- name: run_references
SELECT path, source FROM run_references WHERE run_id = ? ORDER BY path, source;

-- name: run_base_sharings
SELECT sharing_id FROM run_base_sharings WHERE run_id = ? ORDER BY sharing_id;

-- name: base_sharings
SELECT id, file_id, overlay_count, read_bytes, shared_bytes, unread_bytes
FROM base_sharings WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id;

-- name: base_sharing_overlays
SELECT sharing_id, chain_id, read_bytes, unique_bytes
FROM base_sharing_overlays WHERE sharing_id IN (SELECT value FROM json_each(?)) ORDER BY sharing_id, chain_id;

-- name: chains
SELECT id, top_file_id, map_id, layer_count, virtual_size_bytes, unallocated_bytes, error_code, error_message,
       commit_growth_bytes, has_layer_figures, commit_growth_min_bytes, commit_growth_max_bytes, commit_data_growth_bytes, commit_end_growth_min_bytes, commit_end_growth_max_bytes
FROM chains WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id;

-- name: chain_layers
SELECT chain_id, depth, file_id, data_bytes, zero_bytes, preallocated_bytes,
       shadowed_data_bytes, shadowed_zero_bytes, shadowed_preallocated_bytes
FROM chain_layers WHERE chain_id IN (SELECT value FROM json_each(?)) ORDER BY chain_id, depth;

-- name: chain_extra_files
SELECT chain_id, depth, file_id
FROM chain_extra_files WHERE chain_id IN (SELECT value FROM json_each(?)) ORDER BY chain_id, depth, file_id;

-- name: chain_findings
SELECT chain_id, seq, code, severity, depth, message
FROM chain_findings WHERE chain_id IN (SELECT value FROM json_each(?)) ORDER BY chain_id, seq;

-- name: files
SELECT id, path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes,
       backing_name, backing_format, cluster_size_bytes, version, flags, nullif(hex(path_bytes), '') AS path_hex
FROM files WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id;

-- name: file_allocations
SELECT file_id, map_id, data_bytes, zero_bytes, preallocated_bytes, true_data_bytes, true_zero_bytes,
       true_preallocated_bytes, unwritten_bytes
FROM file_allocations WHERE file_id IN (SELECT value FROM json_each(?)) ORDER BY file_id;

-- name: file_snapshots
SELECT file_id, seq, snapshot_id, name, created_at, vm_state_bytes
FROM file_snapshots WHERE file_id IN (SELECT value FROM json_each(?)) ORDER BY file_id, seq;

-- name: maps
SELECT id, hash, entry_count, virtual_size_bytes FROM maps WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id;

-- name: map_entries
SELECT map_id, start_bytes, length_bytes, depth, flags, offset_bytes
FROM map_entries WHERE map_id IN (SELECT value FROM json_each(?)) ORDER BY map_id, start_bytes;
