-- SPEC §3 Conservation: every bronze transaction row is exactly one of a survivor in
-- stg_transactions, a counted duplicate, or a quarantine row. A returned row is a failure.
-- An audit: `c360 run` checks it too (on the one-row count table the run just built), so a
-- run that leaves bronze rows unaccounted for fails instead of reporting success.
{{ config(audit=true) }}
select *
from {{ ref('transactions_conservation') }}
where bronze_rows <> survivors + duplicates + quarantined
