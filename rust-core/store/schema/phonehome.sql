-- The records store: every flow and finding of every session, one row each, with the
-- JSON line flows.jsonl / findings.jsonl has for it (the `json` column, which queries and
-- exports return as it is). One file for both writers:
--   * rust-core/store (rusqlite, `include_str!`) for `phonehome watch` and `analyze`;
--   * the Android app (android.database.sqlite), which ships this folder as its assets.
-- Comments are whole lines starting with `--`, and every statement ends with `;` at the
-- end of a line: the app splits there and runs one statement at a time
-- (SQLiteDatabase.execSQL runs a single statement).
-- Tables and indexes are created IF NOT EXISTS: opening an existing store is harmless.

-- Connection settings, not schema: the app skips every PRAGMA line. Android's
-- SQLiteDatabase manages the journal mode itself (the app turns WAL on with
-- enableWriteAheadLogging; its documentation says not to set journal_mode by PRAGMA then)
-- and applies its own sync mode to each connection of its pool.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;

-- Flow ids are unique within one session (a run of the monitor), not across sessions.
CREATE TABLE IF NOT EXISTS flows (
    session INTEGER NOT NULL,
    id INTEGER NOT NULL,
    proto TEXT NOT NULL,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    app TEXT,
    host TEXT,
    host_source TEXT,
    vendor TEXT,
    category TEXT,
    service TEXT,
    bytes_out INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    close TEXT NOT NULL,
    json TEXT NOT NULL,
    -- The company behind the destination (`vendor` holds the same, under the name it had
    -- before issue 16), its owners nearest first joined by ' > ', and `first`/`third`
    -- party. Added after the first release: older stores get them by ALTER TABLE (the
    -- last columns, in both).
    company TEXT,
    parent TEXT,
    party TEXT,
    -- What TLS interception did with the flow (`intercepted`, `pinned`, `passthrough`,
    -- `upstream-rejected`); NULL when it was not in its hands. Added by ALTER TABLE to
    -- older stores, like the columns above.
    tls TEXT,
    -- The registrable domain of `host` (`example.co.uk`, `my-app.appspot.com`), as the
    -- core computes it; what hosts the catalog does not know are grouped by. NULL when no
    -- name was seen, and in rows recorded before it was kept (added by ALTER TABLE).
    domain TEXT,
    PRIMARY KEY (session, id)
);

-- `id` is the order findings were recorded in: newest first is ORDER BY id DESC.
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    flow INTEGER NOT NULL,
    app TEXT,
    proto TEXT NOT NULL,
    dst TEXT NOT NULL,
    host TEXT,
    host_source TEXT,
    vendor TEXT,
    category TEXT,
    kind TEXT NOT NULL,
    encoding TEXT NOT NULL,
    digest_form TEXT,
    truncated INTEGER NOT NULL,
    place TEXT NOT NULL,
    direction TEXT NOT NULL,
    confidence TEXT NOT NULL,
    evidence TEXT NOT NULL,
    bytes_out INTEGER,
    bytes_in INTEGER,
    json TEXT NOT NULL,
    -- The wrappings the value was found inside, outermost first, as a JSON list
    -- (`["hex","gzip"]`); NULL when found as it travelled. Added after the first release:
    -- older stores get it by ALTER TABLE (the last column, in both).
    layers TEXT,
    -- As in flows: the company (also in `vendor`), its owners, first or third party.
    company TEXT,
    parent TEXT,
    party TEXT,
    -- As in flows: `intercepted` for a value read inside TLS.
    tls TEXT,
    -- As in flows: the registrable domain of `host`.
    domain TEXT
);

CREATE INDEX IF NOT EXISTS findings_by_app ON findings (app, host, kind);
CREATE INDEX IF NOT EXISTS flows_by_end ON flows (end_ms);

-- Device identifiers nobody configured, found by discovery: one row per value with its
-- latest sums (apps, registrable domains, first and last seen), replaced as they grow.
-- Unlike findings it holds the value itself, so that it can be added to the identifiers.
-- `keys`, `apps` and `domains` are comma-separated; `json` is the discovered.jsonl line.
CREATE TABLE IF NOT EXISTS discovered (
    value TEXT PRIMARY KEY NOT NULL,
    shape TEXT NOT NULL,
    keys TEXT NOT NULL,
    apps TEXT NOT NULL,
    domains TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    json TEXT NOT NULL
);
