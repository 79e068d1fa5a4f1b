-- Why: the fleet view reads every host's newest run, and orphans need every
-- base file a host's runs ever read: per image that is millions of rows in
-- a fleet. A push adds, in the run's own transaction, the few rows per run
-- those questions need (a host's files are otherwise only reached through
-- its run_images): the files the run's chains read as backing layers, and
-- the run's shadowed-byte totals. Central only: a host's file has no need.

-- Per run, each file its chains read at depth >= 1, with how many of the
-- run's images read it.
CREATE TABLE run_base_files (
  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  file_id BIGINT NOT NULL REFERENCES files (id),
  chain_count BIGINT NOT NULL,
  PRIMARY KEY (run_id, file_id)
);
CREATE INDEX run_base_files_by_file ON run_base_files (file_id);

-- Per run, the bytes backing layers hold that their chains' upper layers
-- hide (summed over the run's images, like run_depth_totals).
CREATE TABLE run_layer_totals (
  run_id BIGINT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  shadowed_data_bytes BIGINT NOT NULL,
  shadowed_zero_bytes BIGINT NOT NULL,
  shadowed_preallocated_bytes BIGINT NOT NULL
);

-- Orphans match base files by dev:ino as well as by path.
CREATE INDEX files_by_dev_ino ON files (dev, ino);
