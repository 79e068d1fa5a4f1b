-- title: Bytes per chain depth
-- about: Data, zero and preallocated bytes charged to each chain depth, over all images of the run
--   (one category per byte). Depth 0 is the images themselves, depth 1 their backing files, and so on; a base
--   that N chains read counts N times. Percentages are of the mapped images' virtual size.
-- overview: 10
-- chart: data_bytes zero_bytes preallocated_bytes
WITH mapped AS (
  SELECT coalesce(sum(t.data_bytes + t.zero_bytes + t.preallocated_bytes), 0)
         + (SELECT unallocated_bytes FROM runs WHERE id = $run_id) AS virtual_size_bytes
  FROM run_depth_totals t WHERE t.run_id = $run_id
)
SELECT t.depth,
       coalesce(n.image_count, 0) AS image_count,
       t.data_bytes,
       t.zero_bytes,
       t.preallocated_bytes,
       t.data_bytes + t.zero_bytes + t.preallocated_bytes AS total_bytes,
       round(100.0 * (t.data_bytes + t.zero_bytes + t.preallocated_bytes)
             / nullif((SELECT virtual_size_bytes FROM mapped), 0), 1) AS of_virtual_pct
FROM run_depth_totals t
LEFT JOIN (SELECT d.depth, count(*) AS image_count FROM run_image_depths d
           WHERE d.run_id = $run_id AND d.data_bytes IS NOT NULL
           GROUP BY d.depth) n ON n.depth = t.depth
WHERE t.run_id = $run_id
ORDER BY t.depth;
