-- Why: what `imgaudit push` runs on the central store. Rows go in as
-- multi-row inserts over unnest() of one array per column (one statement
-- per table and batch, whatever the row count). Shared content (paths,
-- file states, maps, chain states, base sharings) is inserted with ON
-- CONFLICT DO NOTHING on its natural or content key, then looked up, so
-- hosts pushing at once never duplicate it.

-- name: host_lock
SELECT pg_advisory_xact_lock(72431904, hashtext($1));

-- name: pushed_local_ids
SELECT local_id, started_at FROM runs WHERE host_name = $1 ORDER BY local_id;

-- name: has_run
SELECT id FROM runs WHERE host_name = $1 AND local_id = $2;

-- name: insert_roots
INSERT INTO roots (path, path_bytes) SELECT p, decode(h, 'hex') FROM unnest($1::text[], $2::text[]) AS t(p, h) ORDER BY p
ON CONFLICT (path) DO NOTHING;

-- name: root_ids
SELECT id, path FROM roots WHERE path = ANY($1::text[]);

-- name: insert_images
INSERT INTO images (path, path_bytes) SELECT p, decode(h, 'hex') FROM unnest($1::text[], $2::text[]) AS t(p, h) ORDER BY p
ON CONFLICT (path) DO NOTHING;

-- name: image_ids
SELECT id, path FROM images WHERE path = ANY($1::text[]);

-- name: existing_chains
SELECT id, key FROM chains WHERE key = ANY($1::text[]);

-- name: existing_sharings
SELECT id, key FROM base_sharings WHERE key = ANY($1::text[]);

-- name: insert_files
INSERT INTO files (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes,
                   backing_name, backing_format, cluster_size_bytes, version, flags, path_bytes)
SELECT path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes,
       backing_name, backing_format, cluster_size_bytes, version, flags, decode(path_hex, 'hex')
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
            $8::text[], $9::bigint[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[])
     AS t(path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes,
          backing_name, backing_format, cluster_size_bytes, version, flags, path_hex)
ON CONFLICT (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format) DO NOTHING;

-- name: file_ids
SELECT f.id, t.ord
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
     WITH ORDINALITY AS t(path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, ord)
JOIN files f ON f.path = t.path AND f.dev = t.dev AND f.ino = t.ino AND f.size_bytes = t.size_bytes
            AND f.allocated_bytes = t.allocated_bytes AND f.mtime_ns = t.mtime_ns AND f.ctime_ns = t.ctime_ns
            AND f.format = t.format;

-- name: existing_maps
SELECT id, hash FROM maps WHERE hash = ANY($1::text[]);

-- name: insert_maps
INSERT INTO maps (hash, entry_count, virtual_size_bytes)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
ON CONFLICT (hash) DO NOTHING
RETURNING id, hash;

-- name: insert_map_entries
INSERT INTO map_entries (map_id, start_bytes, length_bytes, depth, flags, offset_bytes)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]);

-- name: insert_chains
INSERT INTO chains (key, top_file_id, map_id, layer_count, virtual_size_bytes, unallocated_bytes, error_code,
                    error_message, commit_growth_bytes, has_layer_figures, commit_growth_min_bytes, commit_growth_max_bytes, commit_data_growth_bytes, commit_end_growth_min_bytes, commit_end_growth_max_bytes)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[],
                     $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
                     $15::bigint[])
ON CONFLICT (key) DO NOTHING
RETURNING id, key;

-- name: insert_chain_layers
INSERT INTO chain_layers (chain_id, depth, file_id, data_bytes, zero_bytes, preallocated_bytes,
                          shadowed_data_bytes, shadowed_zero_bytes, shadowed_preallocated_bytes)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                     $7::bigint[], $8::bigint[], $9::bigint[]);

-- name: insert_chain_extra_files
INSERT INTO chain_extra_files (chain_id, depth, file_id)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]);

-- name: insert_chain_findings
INSERT INTO chain_findings (chain_id, seq, code, severity, depth, message)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]);

-- name: insert_file_allocations
INSERT INTO file_allocations (file_id, map_id, data_bytes, zero_bytes, preallocated_bytes, true_data_bytes,
                              true_zero_bytes, true_preallocated_bytes, unwritten_bytes)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                     $7::bigint[], $8::bigint[], $9::bigint[])
ON CONFLICT (file_id) DO NOTHING;

-- name: insert_file_snapshots
INSERT INTO file_snapshots (file_id, seq, snapshot_id, name, created_at, vm_state_bytes)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])
ON CONFLICT (file_id, seq) DO NOTHING;

-- name: insert_sharings
INSERT INTO base_sharings (key, file_id, overlay_count, read_bytes, shared_bytes, unread_bytes)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
ON CONFLICT (key) DO NOTHING
RETURNING id, key;

-- name: insert_sharing_overlays
INSERT INTO base_sharing_overlays (sharing_id, chain_id, read_bytes, unique_bytes)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]);

-- name: insert_run
INSERT INTO runs (started_at, finished_at, status, pid, host, tool_version, roots, config, fingerprint, is_full,
                  image_count, error_count, new_count, changed_count, read_count, mapped_bytes, virtual_size_bytes,
                  disk_usage_bytes, unallocated_bytes, data_bytes, zero_bytes, preallocated_bytes, host_name, local_id, pushed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
RETURNING id;

-- name: insert_run_images
INSERT INTO run_images (run_id, image_id, chain_id, root_id, change)
SELECT $1::bigint, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]);

-- name: insert_run_findings
INSERT INTO run_findings (run_id, path, code, severity, message)
SELECT $1::bigint, p, c, s, m FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(p, c, s, m, ord)
ORDER BY ord;

-- name: insert_run_depth_totals
INSERT INTO run_depth_totals (run_id, depth, data_bytes, zero_bytes, preallocated_bytes)
SELECT $1::bigint, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]);

-- name: insert_run_filesystems
INSERT INTO run_filesystems (run_id, root_id, dev, capacity_bytes, free_bytes, available_bytes)
SELECT $1::bigint, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]);

-- name: insert_run_root_usage
INSERT INTO run_root_usage (run_id, root_id, disk_usage_bytes)
SELECT $1::bigint, * FROM unnest($2::bigint[], $3::bigint[]);

-- name: insert_run_format_usage
INSERT INTO run_format_usage (run_id, format, disk_usage_bytes)
SELECT $1::bigint, * FROM unnest($2::text[], $3::bigint[]);

-- name: insert_run_image_use
INSERT INTO run_image_use (run_id, image_id, in_use)
SELECT $1::bigint, * FROM unnest($2::bigint[], $3::text[]);

-- name: insert_run_references
INSERT INTO run_references (run_id, path, source)
SELECT $1::bigint, * FROM unnest($2::text[], $3::text[]);

-- name: insert_run_base_sharings
INSERT INTO run_base_sharings (run_id, sharing_id)
SELECT $1::bigint, s FROM unnest($2::bigint[]) AS t(s);

-- name: insert_run_base_files
INSERT INTO run_base_files (run_id, file_id, chain_count)
SELECT ri.run_id, cl.file_id, count(*)
FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
WHERE ri.run_id = $1
GROUP BY ri.run_id, cl.file_id;

-- name: insert_run_layer_totals
INSERT INTO run_layer_totals (run_id, shadowed_data_bytes, shadowed_zero_bytes, shadowed_preallocated_bytes)
SELECT $1::bigint, coalesce(sum(cl.shadowed_data_bytes), 0), coalesce(sum(cl.shadowed_zero_bytes), 0),
       coalesce(sum(cl.shadowed_preallocated_bytes), 0)
FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
WHERE ri.run_id = $1;
