-- API tokens of the city's staff. Only a SHA-256 of the token is stored: tokens are 256-bit
-- random strings, so a fast hash cannot be brute-forced, and a database leak reveals no token.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Space-separated: `admin`, `plan:write`, `registry:<slug>:publish`, `registries:publish`.
    scopes TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Who changed what, when: one row per write, with the record before and after (JSON).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    release_id BIGINT REFERENCES releases (id)
);

-- Uploaded registry files and what became of them. `running` rows left by a process that died
-- are marked `interrupted` when the service starts again.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    registry TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'published', 'rejected', 'interrupted')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    actor TEXT NOT NULL,
    file_name TEXT,
    media_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    idempotency_key TEXT,
    release_id BIGINT REFERENCES releases (id),
    problem_json TEXT,
    UNIQUE (actor, registry, idempotency_key)
);
CREATE INDEX imports_by_registry ON imports (registry, id);
