-- Why: the first schema of the scan database. A run lists the images it saw;
-- everything an image's state consists of (its files, its chain, its map, its
-- per-depth totals) is stored once per distinct content and referenced, so
-- nightly runs over an unchanged estate only add their run row, one narrow
-- run_images row per image and the run's totals.

-- One row per `imgaudit scan` invocation.
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,                 -- ISO 8601 UTC
  finished_at TEXT,                         -- NULL while running and after a crash
  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted', 'failed')),
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  roots TEXT NOT NULL,                      -- JSON array of absolute root paths
  config TEXT NOT NULL,                     -- JSON of the effective configuration
  fingerprint TEXT NOT NULL,                -- what mapping results depend on; reuse needs equality
  is_full INTEGER NOT NULL CHECK (is_full IN (0, 1)),
  -- Totals, materialised when the run ends (or is found interrupted):
  image_count INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,   -- images that could not be mapped
  new_count INTEGER NOT NULL DEFAULT 0,     -- images absent from the previous complete run
  changed_count INTEGER NOT NULL DEFAULT 0, -- images whose chain state differs from it
  read_count INTEGER NOT NULL DEFAULT 0,    -- chains opened and mapped (the rest were reused)
  mapped_bytes INTEGER NOT NULL DEFAULT 0,  -- virtual bytes of the chains read
  virtual_size_bytes INTEGER NOT NULL DEFAULT 0,
  disk_usage_bytes INTEGER NOT NULL DEFAULT 0,  -- st_blocks x 512, each (dev, ino) once
  unallocated_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_status ON runs (status, id);

-- Configured roots, by path.
CREATE TABLE roots (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE
);

-- Every path ever audited as the top of a chain.
CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE
);

-- A host file as observed: identity plus what its header says. A new row
-- appears only when the file changes (any of the identity columns).
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  dev INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL,
  allocated_bytes INTEGER NOT NULL,         -- st_blocks x 512 (disk usage)
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  format TEXT NOT NULL,                     -- qemu driver name ('raw' for external data files)
  virtual_size_bytes INTEGER,               -- NULL when the header could not be read
  backing_name TEXT,                        -- as stored in the image, unresolved
  backing_format TEXT,
  cluster_size_bytes INTEGER,
  version TEXT,
  flags TEXT NOT NULL DEFAULT '[]',         -- JSON array: "dirty", "corrupt", "encrypted:luks", ...
  UNIQUE (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format)
);

-- A distinct map (qemu-img map --output=json entries of a chain), by content.
CREATE TABLE maps (
  id INTEGER PRIMARY KEY,
  hash TEXT UNIQUE,                         -- sha256 of the entries; NULL while a large map is written
  entry_count INTEGER NOT NULL DEFAULT 0,
  virtual_size_bytes INTEGER NOT NULL
);

-- The entries of a map, as qemu-img map prints them (without `filename`).
CREATE TABLE map_entries (
  map_id INTEGER NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
  start_bytes INTEGER NOT NULL,
  length_bytes INTEGER NOT NULL,
  depth INTEGER NOT NULL,
  flags INTEGER NOT NULL,                   -- 1 present | 2 zero | 4 data | 8 compressed
  offset_bytes INTEGER,                     -- NULL when qemu-img prints no offset
  PRIMARY KEY (map_id, start_bytes)
) WITHOUT ROWID;

-- A distinct chain state: its layers' file states, its map (or its error)
-- and its findings. `key` hashes all of that, so unchanged images keep
-- pointing at the same row run after run.
CREATE TABLE chains (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  top_file_id INTEGER NOT NULL REFERENCES files (id),
  map_id INTEGER REFERENCES maps (id),      -- NULL when the chain could not be mapped
  layer_count INTEGER NOT NULL,             -- layers opened (the chain length when mapped)
  virtual_size_bytes INTEGER,
  unallocated_bytes INTEGER,                -- SPEC 3: chain-level, not per depth
  error_code TEXT,                          -- E_... when the chain could not be mapped
  error_message TEXT
);
CREATE INDEX chains_by_map ON chains (map_id);
CREATE INDEX chains_by_top_file ON chains (top_file_id);

-- One row per layer of a chain state, keyed (chain, depth): the file at that
-- depth and the bytes the chain's map charges to that depth (SPEC 3). Per
-- layer figures (own allocation, shadowed bytes) belong here too.
CREATE TABLE chain_layers (
  chain_id INTEGER NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
  depth INTEGER NOT NULL,
  file_id INTEGER NOT NULL REFERENCES files (id),
  data_bytes INTEGER,                       -- NULL when the chain was not mapped
  zero_bytes INTEGER,
  preallocated_bytes INTEGER,
  PRIMARY KEY (chain_id, depth)
) WITHOUT ROWID;
CREATE INDEX chain_layers_by_file ON chain_layers (file_id);

-- Files a layer reads besides its own (qcow2 external data files).
CREATE TABLE chain_extra_files (
  chain_id INTEGER NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
  depth INTEGER NOT NULL,
  file_id INTEGER NOT NULL REFERENCES files (id),
  PRIMARY KEY (chain_id, depth, file_id)
) WITHOUT ROWID;
CREATE INDEX chain_extra_files_by_file ON chain_extra_files (file_id);

-- Findings that belong to a chain state (mapping errors, header bits, names).
CREATE TABLE chain_findings (
  chain_id INTEGER NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  code TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
  depth INTEGER,                            -- layer concerned, when there is one
  message TEXT NOT NULL,
  PRIMARY KEY (chain_id, seq)
) WITHOUT ROWID;

-- The images a run saw and the chain state each had.
CREATE TABLE run_images (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images (id),
  chain_id INTEGER NOT NULL REFERENCES chains (id),
  root_id INTEGER NOT NULL REFERENCES roots (id),
  change INTEGER NOT NULL CHECK (change IN (0, 1, 2)),  -- 0 unchanged, 1 changed, 2 new (see run_image_states)
  PRIMARY KEY (run_id, image_id)
) WITHOUT ROWID;
-- No secondary index: this is the one table that grows with every run, and
-- every query reaches it by run (the primary key's prefix).

-- Findings that belong to one run (an image changing during the scan, a
-- missing root, a file named like an image that is none).
CREATE TABLE run_findings (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  code TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
  message TEXT NOT NULL
);
CREATE INDEX run_findings_by_run ON run_findings (run_id);

-- Per run, per depth totals over all the run's images (logical: a shared
-- base counts once per chain), materialised when the run ends.
CREATE TABLE run_depth_totals (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  depth INTEGER NOT NULL,
  data_bytes INTEGER NOT NULL,
  zero_bytes INTEGER NOT NULL,
  preallocated_bytes INTEGER NOT NULL,
  PRIMARY KEY (run_id, depth)
) WITHOUT ROWID;
