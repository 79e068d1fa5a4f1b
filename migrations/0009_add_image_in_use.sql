-- Why: whether a process held an image open when the scan saw it, from QEMU's
-- lock bytes (probed with F_OFD_GETLK, never taken): 'write' when a process
-- holds QEMU's write or resize permission (a running VM, qemu-nbd, qemu-io),
-- 'read' when processes only read it, NULL when nobody holds it (or the image
-- could not be probed). Per run, because it changes while the files do not;
-- images scanned before this migration read as NULL.
ALTER TABLE run_images ADD COLUMN in_use TEXT CHECK (in_use IN ('write', 'read'));

-- Per run, the images a process held open, and how.
CREATE VIEW run_images_in_use AS
SELECT ri.run_id,
       ri.image_id,
       i.path,
       ri.in_use
FROM run_images ri
JOIN images i ON i.id = ri.image_id
WHERE ri.in_use IS NOT NULL;
