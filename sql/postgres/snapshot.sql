-- Why: reading one host's runs back out of the central store, with the
-- columns of the SQLite tables of the same names and the host's own run
-- ids, into an in-memory SQLite image on which the reading commands run
-- exactly as on the host's file (host-snapshot.ts). Shared rows keep their
-- central ids. Everything is read in one READ ONLY REPEATABLE READ
-- transaction.

-- name: hosts
SELECT host_name, count(*) AS run_count FROM runs GROUP BY host_name ORDER BY host_name;

-- name: runs
SELECT local_id AS id, started_at, finished_at, status, pid, host, tool_version, roots, config, fingerprint, is_full,
       image_count, error_count, new_count, changed_count, read_count, mapped_bytes, virtual_size_bytes,
       disk_usage_bytes, unallocated_bytes, data_bytes, zero_bytes, preallocated_bytes
FROM runs WHERE host_name = $1 ORDER BY local_id;

-- name: run_images
SELECT r.local_id AS run_id, ri.image_id, ri.chain_id, ri.root_id, ri.change
FROM runs r JOIN run_images ri ON ri.run_id = r.id
WHERE r.host_name = $1;

-- name: run_findings
SELECT r.local_id AS run_id, rf.path, rf.code, rf.severity, rf.message
FROM runs r JOIN run_findings rf ON rf.run_id = r.id
WHERE r.host_name = $1 ORDER BY rf.id;

-- name: run_depth_totals
SELECT r.local_id AS run_id, t.depth, t.data_bytes, t.zero_bytes, t.preallocated_bytes
FROM runs r JOIN run_depth_totals t ON t.run_id = r.id
WHERE r.host_name = $1;

-- name: run_base_sharings
SELECT r.local_id AS run_id, s.sharing_id
FROM runs r JOIN run_base_sharings s ON s.run_id = r.id
WHERE r.host_name = $1;

-- name: run_filesystems
SELECT r.local_id AS run_id, f.root_id, f.dev, f.capacity_bytes, f.free_bytes, f.available_bytes
FROM runs r JOIN run_filesystems f ON f.run_id = r.id
WHERE r.host_name = $1;

-- name: run_root_usage
SELECT r.local_id AS run_id, u.root_id, u.disk_usage_bytes
FROM runs r JOIN run_root_usage u ON u.run_id = r.id
WHERE r.host_name = $1;

-- name: run_format_usage
SELECT r.local_id AS run_id, u.format, u.disk_usage_bytes
FROM runs r JOIN run_format_usage u ON u.run_id = r.id
WHERE r.host_name = $1;

-- name: run_image_use
SELECT r.local_id AS run_id, u.image_id, u.in_use
FROM runs r JOIN run_image_use u ON u.run_id = r.id
WHERE r.host_name = $1;

-- name: run_references
SELECT r.local_id AS run_id, x.path, x.source
FROM runs r JOIN run_references x ON x.run_id = r.id
WHERE r.host_name = $1;

-- name: roots
SELECT id, path FROM roots WHERE id = ANY($1::bigint[]);

-- name: images
SELECT id, path FROM images WHERE id = ANY($1::bigint[]);

-- name: base_sharings
SELECT id, key, file_id, overlay_count, read_bytes, shared_bytes, unread_bytes
FROM base_sharings WHERE id = ANY($1::bigint[]);

-- name: base_sharing_overlays
SELECT sharing_id, chain_id, read_bytes, unique_bytes
FROM base_sharing_overlays WHERE sharing_id = ANY($1::bigint[]);

-- name: chains
SELECT id, key, top_file_id, map_id, layer_count, virtual_size_bytes, unallocated_bytes, error_code, error_message,
       commit_growth_bytes, has_layer_figures, commit_growth_min_bytes, commit_growth_max_bytes, commit_data_growth_bytes, commit_end_growth_min_bytes, commit_end_growth_max_bytes
FROM chains WHERE id = ANY($1::bigint[]);

-- name: chain_layers
SELECT chain_id, depth, file_id, data_bytes, zero_bytes, preallocated_bytes,
       shadowed_data_bytes, shadowed_zero_bytes, shadowed_preallocated_bytes
FROM chain_layers WHERE chain_id = ANY($1::bigint[]);

-- name: chain_extra_files
SELECT chain_id, depth, file_id FROM chain_extra_files WHERE chain_id = ANY($1::bigint[]);

-- name: chain_findings
SELECT chain_id, seq, code, severity, depth, message FROM chain_findings WHERE chain_id = ANY($1::bigint[]);

-- name: files
SELECT id, path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes,
       backing_name, backing_format, cluster_size_bytes, version, flags
FROM files WHERE id = ANY($1::bigint[]);

-- name: file_allocations
SELECT file_id, map_id, data_bytes, zero_bytes, preallocated_bytes, true_data_bytes, true_zero_bytes,
       true_preallocated_bytes, unwritten_bytes
FROM file_allocations WHERE file_id = ANY($1::bigint[]);

-- name: file_snapshots
SELECT file_id, seq, snapshot_id, name, created_at, vm_state_bytes FROM file_snapshots WHERE file_id = ANY($1::bigint[]);

-- name: maps
SELECT id, hash, entry_count, virtual_size_bytes FROM maps WHERE id = ANY($1::bigint[]);

-- name: map_entries
SELECT map_id, start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries WHERE map_id = ANY($1::bigint[]);
