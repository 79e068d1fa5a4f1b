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
       (SELECT count(*) FROM run_image_depths d
        WHERE d.run_id = t.run_id AND d.depth = t.depth AND d.data_bytes IS NOT NULL) AS image_count,
       t.data_bytes,
       t.zero_bytes,
       t.preallocated_bytes,
       t.data_bytes + t.zero_bytes + t.preallocated_bytes AS total_bytes,
       round(100.0 * (t.data_bytes + t.zero_bytes + t.preallocated_bytes) / nullif(m.virtual_size_bytes, 0), 1)
         AS of_virtual_pct
FROM run_depth_totals t, mapped m
WHERE t.run_id = $run_id
ORDER BY t.depth;
