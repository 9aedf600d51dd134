DROP TABLE imports;
DROP TABLE audit_log;
DROP TABLE api_tokens;
