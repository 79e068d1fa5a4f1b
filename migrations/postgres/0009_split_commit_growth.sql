-- PostgreSQL (central store): SQLite's 0007_split_commit_growth.sql in PostgreSQL's
-- dialect (BIGINT for INTEGER).
-- Why: the commit dry run counted only the data clusters `qemu-img commit`
-- allocates in a qcow2 backing file, not the L2 tables, L1 table growth and
-- refcount blocks it allocates with them (issue #15). The figure now means
-- the growth of the backing file's host clusters in use, data and metadata
-- (what qemu-img check's refcounts count); where placement in the file
-- decides (free clusters refilled or not, refcount blocks), a range.
--
-- commit_growth_bytes: the growth, only when exact (min = max), else NULL.
-- Old qcow2 figures counted data only: they are dropped (NULL). A raw
-- backing file has no metadata: its figures keep their meaning.
ALTER TABLE chains ADD COLUMN commit_growth_min_bytes BIGINT;
ALTER TABLE chains ADD COLUMN commit_growth_max_bytes BIGINT;
-- The data part alone (qcow2: data clusters allocated minus freed), exact.
ALTER TABLE chains ADD COLUMN commit_data_growth_bytes BIGINT;
-- Growth of the image end offset (qcow2 only; qemu-img check's image-end-offset).
ALTER TABLE chains ADD COLUMN commit_end_growth_min_bytes BIGINT;
ALTER TABLE chains ADD COLUMN commit_end_growth_max_bytes BIGINT;

UPDATE chains SET commit_growth_bytes = NULL
WHERE commit_growth_bytes IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM chain_layers cl JOIN files f ON f.id = cl.file_id
                  WHERE cl.chain_id = chains.id AND cl.depth = 1 AND f.format = 'raw');

UPDATE chains SET commit_growth_min_bytes = commit_growth_bytes, commit_growth_max_bytes = commit_growth_bytes,
                  commit_data_growth_bytes = commit_growth_bytes
WHERE commit_growth_bytes IS NOT NULL;
