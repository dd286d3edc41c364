-- What a database holds: bytes of its tables with indexes and TOAST, rows
-- inserted since the cluster started, rows live. Run in each database
-- before and after a benchmark (deploy/CAPACITY.md divides the difference).
SELECT current_database() AS db,
       sum(pg_total_relation_size(relid))::bigint AS bytes,
       sum(n_tup_ins)::bigint AS rows_inserted,
       sum(n_tup_upd)::bigint AS rows_updated,
       sum(n_live_tup)::bigint AS rows_live
FROM pg_stat_user_tables;
