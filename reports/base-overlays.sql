-- title: Overlays of shared bases
-- about: Per base file and overlay reading it directly: what the overlay's chain reads from the base, and
--   how much of that no other overlay reads (unique: deleting the overlay leaves it unread).
-- text: base_path overlay_path read_bytes unique_bytes
SELECT f.path AS base_path,
       tf.path AS overlay_path,
       bso.read_bytes,
       bso.unique_bytes
FROM run_base_sharings rbs
JOIN base_sharings bs ON bs.id = rbs.sharing_id
JOIN files f ON f.id = bs.file_id
JOIN base_sharing_overlays bso ON bso.sharing_id = bs.id
JOIN chains c ON c.id = bso.chain_id
JOIN files tf ON tf.id = c.top_file_id
WHERE rbs.run_id = $run_id
ORDER BY f.path, tf.path;
