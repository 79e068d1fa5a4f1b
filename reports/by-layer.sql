-- title: Layers
-- about: Every layer of every image's chain, one row per image and layer (depth 0 is the image itself):
--   own bytes (the layer mapped alone, as if it had no backing file), the same with preallocation told by the
--   file system's extent map (true_*, where the file system can tell), the bytes the chain's top reads from
--   it (visible: the per-depth bytes) and the own bytes the upper layers hide (shadowed: freed by committing
--   the layers above into it, wasted otherwise). Empty figures: not computed for this run.
-- text: path depth own_data_bytes visible_data_bytes shadowed_data_bytes true_preallocated_bytes layer_path
-- detail: layer_path
SELECT path,
       depth,
       layer_path,
       layer_format,
       layer_disk_usage_bytes,
       own_data_bytes,
       own_zero_bytes,
       own_preallocated_bytes,
       true_data_bytes,
       true_zero_bytes,
       true_preallocated_bytes,
       visible_data_bytes,
       visible_zero_bytes,
       visible_preallocated_bytes,
       shadowed_data_bytes,
       shadowed_zero_bytes,
       shadowed_preallocated_bytes
FROM run_layer_figures
WHERE run_id = $run_id
ORDER BY path, depth;
