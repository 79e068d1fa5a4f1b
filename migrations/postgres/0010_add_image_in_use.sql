-- PostgreSQL (central store): SQLite's 0009_add_image_in_use.sql in PostgreSQL's
-- dialect (BIGINT for INTEGER, no WITHOUT ROWID).
-- Why: whether a process held an image open when a scan saw it, from QEMU's
-- lock bytes (read without taking a lock): 'write' when a process holds
-- QEMU's write or resize permission (a running VM, qemu-nbd, qemu-io), 'read'
-- when processes only read it. Per run, because it changes while the files do
-- not. A separate table with a row only for images held open: run_images, the
-- one table that grows with every run, stays as narrow as it was, and the
-- plans of the views over it do not change. Runs scanned before this
-- migration have no rows (nobody recorded).
CREATE TABLE run_image_use (
  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  image_id BIGINT NOT NULL REFERENCES images (id),
  in_use TEXT NOT NULL CHECK (in_use IN ('write', 'read')),
  PRIMARY KEY (run_id, image_id)
);

-- Per run, the images a process held open, and how.
CREATE VIEW run_images_in_use AS
SELECT u.run_id,
       u.image_id,
       i.path,
       u.in_use
FROM run_image_use u
JOIN images i ON i.id = u.image_id;
