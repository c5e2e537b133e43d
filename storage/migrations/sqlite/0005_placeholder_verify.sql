-- Placeholder on branch h-verify only: migrations run 1..n without gaps, and 0005 belongs to
-- another branch. The integrator drops this file when that branch's 0005 lands.
SELECT 1;
