-- PostgreSQL (central store): SQLite's 0011_index_prune_keys.sql.
-- Why: prune deletes the images no remaining run of any host lists, and
-- PostgreSQL checks each deleted image against every table whose foreign key
-- names images. run_image_use (0010) had no index leading with image_id, so
-- each deleted image read the whole table.
CREATE INDEX run_image_use_by_image ON run_image_use (image_id);
