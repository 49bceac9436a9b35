DROP INDEX refresh_tokens_live_family_idx;
DROP INDEX login_failures_email_ip_idx;
DROP TABLE signup_attempts;
