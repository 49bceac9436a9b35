DROP TABLE rates;
DROP TABLE ledger_entries;
DROP TABLE top_ups;
DROP TABLE balances;
