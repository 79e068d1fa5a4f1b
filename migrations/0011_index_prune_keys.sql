-- Why: prune deletes the images no remaining run lists, and SQLite checks
-- each deleted image against every table whose foreign key names images.
-- run_image_use (0009) had no index leading with image_id, so each deleted
-- image scanned the whole table: a prune's cost grew with the rows kept
-- times the images dropped. With this index every foreign key of the schema
-- is searched through an index when its parent row goes, except the roots'
-- (test/unit/store/query-plans.test.ts lists why those may scan).
CREATE INDEX run_image_use_by_image ON run_image_use (image_id);
