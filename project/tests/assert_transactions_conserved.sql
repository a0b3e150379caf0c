-- SPEC §3 Conservation: every bronze transaction row is exactly one of a survivor in
-- stg_transactions, a counted duplicate, or a quarantine row. A returned row is a failure.
select *
from {{ ref('transactions_conservation') }}
where bronze_rows <> survivors + duplicates + quarantined
