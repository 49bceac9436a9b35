DROP TABLE webhook_events;
DROP TABLE call_events;
DROP TABLE calls;
DROP TABLE dids;
DROP TABLE twilio_accounts;
