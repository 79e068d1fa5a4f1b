-- title: What committing or deleting an overlay would free
-- about: Per image with a backing file that no other image of the run reads: what deleting the image file frees (its disk usage and that of its
--   external data files), what `qemu-img commit` into its backing file would add to that file (a dry run from
--   the maps and the backing file's L1 and refcount tables: data clusters and the L2 tables, L1 growth and
--   refcount blocks they need; a range [min, max] where placement in the file decides), and what a commit
--   then deleting the overlay frees at least. Most freed first, --top N.
-- overview: 76
-- chart: commit_frees_min_bytes
-- label: path
-- text: path backing_name delete_frees_bytes commit_growth_min_bytes commit_growth_max_bytes commit_frees_min_bytes
WITH backing_files AS (
  -- The files the run's chains read as backing layers (depth >= 1), each once: gathered once per run,
  -- and looked up by (dev, ino) for each image (NOT IN builds an index of them; PostgreSQL hashes them).
  SELECT DISTINCT f.dev, f.ino
  FROM run_images ri
  JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
  JOIN files f ON f.id = cl.file_id
  WHERE ri.run_id = $run_id
)
SELECT path,
       backing_name,
       delete_frees_bytes,
       commit_growth_min_bytes,
       commit_growth_max_bytes,
       delete_frees_bytes - commit_growth_max_bytes AS commit_frees_min_bytes
FROM (SELECT s.path,
             s.backing_name,
             s.disk_usage_bytes + coalesce((SELECT sum(f.allocated_bytes) FROM chain_extra_files ce
                                            JOIN files f ON f.id = ce.file_id
                                            WHERE ce.chain_id = s.chain_id AND ce.depth = 0), 0) AS delete_frees_bytes,
             c.commit_growth_min_bytes,
             c.commit_growth_max_bytes
      FROM run_image_states s
      JOIN chains c ON c.id = s.chain_id
      JOIN files top ON top.id = c.top_file_id
      WHERE s.run_id = $run_id AND c.has_layer_figures = 1 AND c.commit_growth_min_bytes IS NOT NULL
        AND (top.dev, top.ino) NOT IN (SELECT dev, ino FROM backing_files)) AS overlays
ORDER BY commit_frees_min_bytes DESC, path
LIMIT $limit;
