-- title: Layers hiding the most bytes
-- about: Backing layers whose own bytes the chain's upper layers completely hide (shadowed: committing the
--   layers above would free them; otherwise they are dead weight), most first, --top N of them. A layer read
--   by several chains appears once per chain. imgaudit report --by layer lists every layer of every image.
-- overview: 74
-- chart: shadowed_data_bytes shadowed_zero_bytes shadowed_preallocated_bytes
-- label: path
-- text: path depth own_data_bytes visible_data_bytes shadowed_data_bytes shadowed_bytes layer_path
-- detail: layer_path
SELECT path,
       depth,
       layer_path,
       own_data_bytes,
       visible_data_bytes,
       shadowed_data_bytes,
       shadowed_zero_bytes,
       shadowed_preallocated_bytes,
       shadowed_data_bytes + shadowed_zero_bytes + shadowed_preallocated_bytes AS shadowed_bytes
FROM run_layer_figures
WHERE run_id = $run_id
  AND depth >= 1
  AND shadowed_data_bytes + shadowed_zero_bytes + shadowed_preallocated_bytes > 0
ORDER BY shadowed_bytes DESC, path, depth
LIMIT $limit;
