-- Imports: every import is kept with its report, so a script can read it again
-- (`GET /imports/{id}`), and a caller can list its own.
CREATE TABLE imports (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    format text NOT NULL,
    -- `utf-8`, or `windows-1252` when a spreadsheet saved the file so (converted).
    encoding text NOT NULL,
    dry_run boolean NOT NULL,
    atomic boolean NOT NULL,
    -- Whether the rows it reports as created or updated were saved.
    saved boolean NOT NULL,
    received integer NOT NULL,
    created integer NOT NULL,
    updated integer NOT NULL,
    unchanged integer NOT NULL,
    failed integer NOT NULL,
    report jsonb NOT NULL
);
CREATE INDEX imports_by_account ON imports (account_id, created_at DESC, id DESC);

-- Idempotency keys (`Idempotency-Key`): the first answer to a request, replayed to its
-- retries. In PostgreSQL, so that every instance answers a retry the same. A row without
-- `completed_at` is a request still running: a second one gets 409.
CREATE TABLE idempotency_keys (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key text NOT NULL,
    -- SHA-256 of the method, the path with its query, and the body.
    request_digest bytea NOT NULL,
    -- Which request holds the key: only it stores its answer or releases the key.
    claim_token uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    status smallint,
    content_type text,
    body bytea,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
