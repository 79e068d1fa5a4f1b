-- Why: per-layer figures (what each layer holds itself, what upper layers
-- hide of it, what a shared base gives each overlay alone, what committing an
-- overlay down would cost), true preallocation from the file system's extent
-- map, and the estate facts behind orphans, growth and overcommit.
--
-- What depends only on a file is stored once per file state (files row);
-- what depends on a chain sits on chain_layers / chains (chain states are
-- shared across runs); what depends on the whole run (which overlays share a
-- base, the file systems' free space, the references) is per run but keyed
-- so that an unchanged estate adds small rows only.

-- A file's own allocation: the layer mapped alone, as qemu-img map maps it
-- opened with "backing": null. `map_id` is a map whose present depth-0
-- entries are that allocation: the chain map of the file audited as the top
-- of its own chain when there is one, otherwise a map of the layer alone.
CREATE TABLE file_allocations (
  file_id INTEGER PRIMARY KEY REFERENCES files (id),
  map_id INTEGER NOT NULL REFERENCES maps (id),
  -- SPEC 3 categories over the present depth-0 entries.
  data_bytes INTEGER NOT NULL,
  zero_bytes INTEGER NOT NULL,
  preallocated_bytes INTEGER NOT NULL,
  -- The same bytes re-categorised with the file system's extent map (FIEMAP):
  -- host bytes in unwritten (fallocated) extents are preallocated, whatever
  -- qemu-img map says. NULL when the file system cannot tell, or the layer's
  -- bytes live in other files (external data files, vmdk extents).
  true_data_bytes INTEGER,
  true_zero_bytes INTEGER,
  true_preallocated_bytes INTEGER,
  -- Host bytes of the file in unwritten extents, all of them (NULL: unknown).
  unwritten_bytes INTEGER
);
CREATE INDEX file_allocations_by_map ON file_allocations (map_id);

-- qcow2 internal snapshots, per file state.
CREATE TABLE file_snapshots (
  file_id INTEGER NOT NULL REFERENCES files (id),
  seq INTEGER NOT NULL,
  snapshot_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,                  -- ISO 8601 UTC
  vm_state_bytes INTEGER NOT NULL,
  PRIMARY KEY (file_id, seq)
) WITHOUT ROWID;

-- Per chain state, per layer: what the chain's top does not read of the
-- layer's own allocation (within the top's virtual size), by category:
-- own − visible (chain_layers.data_bytes etc. are the visible bytes).
ALTER TABLE chain_layers ADD COLUMN shadowed_data_bytes INTEGER;
ALTER TABLE chain_layers ADD COLUMN shadowed_zero_bytes INTEGER;
ALTER TABLE chain_layers ADD COLUMN shadowed_preallocated_bytes INTEGER;

-- Per chain state with a backing file: a dry run of `qemu-img commit` of the
-- top into its backing file (depth 1): the host bytes the backing file would
-- gain. NULL when the chain has no backing file or the figure is unknown.
ALTER TABLE chains ADD COLUMN commit_growth_bytes INTEGER;
-- Set once the post-scan pass has computed the figures above (0/1).
ALTER TABLE chains ADD COLUMN has_layer_figures INTEGER NOT NULL DEFAULT 0;

-- A base file and the set of overlays reading it directly (chains whose
-- depth-1 layer is the file), keyed by a hash of both, with what those
-- overlays read of it.
CREATE TABLE base_sharings (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  file_id INTEGER NOT NULL REFERENCES files (id),
  overlay_count INTEGER NOT NULL,
  read_bytes INTEGER NOT NULL,               -- union of what the overlays read from it
  shared_bytes INTEGER NOT NULL,             -- read by two or more overlays
  unread_bytes INTEGER NOT NULL              -- own allocation no overlay reads
);
-- Retention drops the files no chain uses: SQLite checks this reference by file_id.
CREATE INDEX base_sharings_by_file ON base_sharings (file_id);

-- Per overlay of a sharing: the base bytes it alone reads.
CREATE TABLE base_sharing_overlays (
  sharing_id INTEGER NOT NULL REFERENCES base_sharings (id) ON DELETE CASCADE,
  chain_id INTEGER NOT NULL REFERENCES chains (id),
  read_bytes INTEGER NOT NULL,               -- what this overlay's chain reads from the base
  unique_bytes INTEGER NOT NULL,             -- ... that no other overlay reads
  PRIMARY KEY (sharing_id, chain_id)
) WITHOUT ROWID;
-- Retention drops chain states: SQLite checks this reference by chain_id.
CREATE INDEX base_sharing_overlays_by_chain ON base_sharing_overlays (chain_id);

CREATE TABLE run_base_sharings (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  sharing_id INTEGER NOT NULL REFERENCES base_sharings (id),
  PRIMARY KEY (run_id, sharing_id)
) WITHOUT ROWID;
-- Retention drops the sharings no run uses (a handful of rows per run: one per base).
CREATE INDEX run_base_sharings_by_sharing ON run_base_sharings (sharing_id);

-- Per run, per root: the file system holding it, as statfs saw it at the
-- end of the scan.
CREATE TABLE run_filesystems (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  root_id INTEGER NOT NULL REFERENCES roots (id),
  dev INTEGER NOT NULL,
  capacity_bytes INTEGER NOT NULL,
  free_bytes INTEGER NOT NULL,               -- f_bfree x f_bsize
  available_bytes INTEGER NOT NULL,          -- f_bavail x f_bsize (what unprivileged writers get)
  PRIMARY KEY (run_id, root_id)
) WITHOUT ROWID;

-- Paths that reference sources (libvirt domain XML, path lists) name as in
-- use, per run.
CREATE TABLE run_references (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  source TEXT NOT NULL,                      -- the file that names it
  PRIMARY KEY (run_id, path, source)
) WITHOUT ROWID;

-- Per run, per image, per layer: what the layer holds itself, what the chain
-- reads from it and what it hides of it.
CREATE VIEW run_layer_figures AS
SELECT ri.run_id,
       i.path,
       cl.depth,
       f.path AS layer_path,
       f.format AS layer_format,
       f.allocated_bytes AS layer_disk_usage_bytes,
       fa.data_bytes AS own_data_bytes,
       fa.zero_bytes AS own_zero_bytes,
       fa.preallocated_bytes AS own_preallocated_bytes,
       fa.true_data_bytes,
       fa.true_zero_bytes,
       fa.true_preallocated_bytes,
       cl.data_bytes AS visible_data_bytes,
       cl.zero_bytes AS visible_zero_bytes,
       cl.preallocated_bytes AS visible_preallocated_bytes,
       cl.shadowed_data_bytes,
       cl.shadowed_zero_bytes,
       cl.shadowed_preallocated_bytes
FROM run_images ri
JOIN images i ON i.id = ri.image_id
JOIN chain_layers cl ON cl.chain_id = ri.chain_id
JOIN files f ON f.id = cl.file_id
LEFT JOIN file_allocations fa ON fa.file_id = cl.file_id;
