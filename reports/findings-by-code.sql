-- title: Findings the scan recorded, by code
-- about: The findings the scan recorded for the run, counted by code. imgaudit check lists them one by one,
--   together with those it derives from the estate (orphans, file systems, old snapshots, deep chains).
-- overview: 90
-- text: severity code finding_count image_count
SELECT severity,
       code,
       count(*) AS finding_count,
       count(DISTINCT path) AS image_count
FROM run_findings_all
WHERE run_id = $run_id
GROUP BY severity, code
ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, code;
