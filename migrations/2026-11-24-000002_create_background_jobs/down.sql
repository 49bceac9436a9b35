DROP TABLE periodic_jobs;
DROP TABLE background_jobs;
