//! The vault's tables, and every statement it sends: one statement per operation, each fenced
//! as the engine's docs say. Times are milliseconds since the Unix epoch on the vault's clock.

/// The schema version this boxauth writes.
pub(super) const VERSION: i32 = 1;

/// Creates version 1 (idempotent), under an advisory lock so concurrent starts do not race.
pub(super) const CREATE: &str = "
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('boxauth_vault_schema'));
CREATE TABLE IF NOT EXISTS boxauth_vault_meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   integer NOT NULL
);
INSERT INTO boxauth_vault_meta (version) VALUES (1) ON CONFLICT (singleton) DO NOTHING;
CREATE TABLE IF NOT EXISTS boxauth_vault_identities (
    user_key          text PRIMARY KEY,
    generation        bigint  NOT NULL,
    sealed            bytea   NOT NULL,
    state             text    NOT NULL CHECK (state IN ('active', 'needs_reauth', 'disconnecting')),
    reason            text             CHECK (reason IN ('refused', 'expired', 'lost_in_flight')),
    refreshed_at      bigint  NOT NULL,
    access_expires_at bigint  NOT NULL,
    next_keepalive_at bigint  NOT NULL,
    lease_owner       text,
    lease_until       bigint,
    spending          boolean NOT NULL DEFAULT false,
    writer            text,
    updated_at        bigint  NOT NULL
);
CREATE INDEX IF NOT EXISTS boxauth_vault_due
    ON boxauth_vault_identities (next_keepalive_at) WHERE state = 'active';
CREATE INDEX IF NOT EXISTS boxauth_vault_needs_reauth
    ON boxauth_vault_identities (user_key) WHERE state = 'needs_reauth';
COMMIT;
";

pub(super) const VERSION_NOW: &str = "SELECT version FROM boxauth_vault_meta";

/// The columns a row is read with, in `Row` order.
macro_rules! row_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".user_key, ",
            $t,
            ".generation, ",
            $t,
            ".sealed, ",
            $t,
            ".state, ",
            $t,
            ".reason, ",
            $t,
            ".refreshed_at, ",
            $t,
            ".access_expires_at, ",
            $t,
            ".next_keepalive_at, ",
            $t,
            ".updated_at"
        )
    };
}

pub(super) const LOAD: &str = concat!(
    "SELECT ",
    row_columns!("t"),
    " FROM boxauth_vault_identities t WHERE t.user_key = $1"
);

/// $1 key, $2 sealed, $3 refreshed_at, $4 access_expires_at, $5 next_keepalive_at, $6 now.
pub(super) const PUT: &str = "
INSERT INTO boxauth_vault_identities AS t
    (user_key, generation, sealed, state, reason, refreshed_at, access_expires_at,
     next_keepalive_at, lease_owner, lease_until, spending, writer, updated_at)
VALUES ($1, 1, $2, 'active', NULL, $3, $4, $5, NULL, NULL, false, NULL, $6)
ON CONFLICT (user_key) DO UPDATE SET
    generation = t.generation + 1, sealed = EXCLUDED.sealed, state = 'active', reason = NULL,
    refreshed_at = EXCLUDED.refreshed_at, access_expires_at = EXCLUDED.access_expires_at,
    next_keepalive_at = EXCLUDED.next_keepalive_at, lease_owner = NULL, lease_until = NULL,
    spending = false, writer = NULL, updated_at = EXCLUDED.updated_at
RETURNING generation";

/// The lease, taken if free or expired, with the spend marker set; the row as it was, whether
/// the lease was taken, and the marker it replaced. $1 key, $2 owner, $3 now, $4 until.
pub(super) const LEASE: &str = concat!(
    "WITH old AS (SELECT t.*, t.spending AS was_spending FROM boxauth_vault_identities t WHERE t.user_key = $1 FOR UPDATE),
taken AS (
    UPDATE boxauth_vault_identities t SET lease_owner = $2, lease_until = $4, spending = true
    FROM old WHERE t.user_key = old.user_key AND (old.lease_until IS NULL OR old.lease_until <= $3)
    RETURNING t.user_key)
SELECT (SELECT count(*) FROM taken) = 1, old.was_spending, old.lease_until, ",
    row_columns!("old"),
    " FROM old"
);

/// The tokens, if the row is still at the lease's generation (and the lease freed, when it is
/// the writer's); or the generation this writer wrote already (a write sent again). $1 key,
/// $2 generation, $3 owner, $4 sealed, $5 refreshed_at, $6 access_expires_at,
/// $7 next_keepalive_at, $8 now.
pub(super) const WRITE: &str = "
WITH written AS (
    UPDATE boxauth_vault_identities SET
        generation = generation + 1, sealed = $4, state = 'active', reason = NULL,
        refreshed_at = $5, access_expires_at = $6, next_keepalive_at = $7, updated_at = $8,
        writer = $3,
        spending = CASE WHEN lease_owner = $3 THEN false ELSE spending END,
        lease_until = CASE WHEN lease_owner = $3 THEN NULL ELSE lease_until END,
        lease_owner = CASE WHEN lease_owner = $3 THEN NULL ELSE lease_owner END
    WHERE user_key = $1 AND generation = $2
    RETURNING generation)
SELECT generation FROM written
UNION ALL
SELECT generation FROM boxauth_vault_identities
    WHERE user_key = $1 AND generation = $2 + 1 AND writer = $3 AND NOT EXISTS (SELECT 1 FROM written)";

/// Frees the lease, the marker cleared. $1 key, $2 owner.
pub(super) const RELEASE_NOT_SPENT: &str = "
UPDATE boxauth_vault_identities SET lease_owner = NULL, lease_until = NULL, spending = false
WHERE user_key = $1 AND lease_owner = $2";

/// Frees the lease, the marker kept (the outcome is unknown). $1 key, $2 owner.
pub(super) const RELEASE_UNKNOWN: &str = "
UPDATE boxauth_vault_identities SET lease_owner = NULL, lease_until = NULL
WHERE user_key = $1 AND lease_owner = $2";

/// Frees the lease and, if the row is still at the refused generation and active, marks it as
/// needing its user; returns whether it did. $1 key, $2 owner, $3 generation, $4 reason, $5 now.
pub(super) const RELEASE_REFUSED: &str = "
WITH marked AS (
    UPDATE boxauth_vault_identities SET
        lease_owner = NULL, lease_until = NULL, spending = false,
        generation = generation + 1, state = 'needs_reauth', reason = $4, updated_at = $5
    WHERE user_key = $1 AND lease_owner = $2 AND generation = $3 AND state = 'active'
    RETURNING 1),
freed AS (
    UPDATE boxauth_vault_identities SET lease_owner = NULL, lease_until = NULL, spending = false
    WHERE user_key = $1 AND lease_owner = $2 AND NOT (generation = $3 AND state = 'active')
    RETURNING 1)
SELECT (SELECT count(*) FROM marked) = 1";

/// A disconnect begins: the row as it was. $1 key, $2 now.
pub(super) const BEGIN_DISCONNECT: &str = concat!(
    "WITH old AS (SELECT * FROM boxauth_vault_identities WHERE user_key = $1 FOR UPDATE),
moved AS (
    UPDATE boxauth_vault_identities t SET generation = t.generation + 1, state = 'disconnecting',
        updated_at = $2
    FROM old WHERE t.user_key = old.user_key RETURNING 1)
SELECT ",
    row_columns!("old"),
    " FROM old"
);

pub(super) const DELETE: &str = "DELETE FROM boxauth_vault_identities WHERE user_key = $1";

/// $1 after (or NULL), $2 needs_reauth only, $3 limit.
pub(super) const LIST: &str = "
SELECT user_key, state, reason, refreshed_at, access_expires_at, updated_at
FROM boxauth_vault_identities
WHERE ($1::text IS NULL OR user_key > $1) AND (NOT $2 OR state = 'needs_reauth')
ORDER BY user_key LIMIT $3";

/// Claims due identities: their due time moves to $2. $1 now, $2 claim until, $3 limit.
pub(super) const CLAIM_DUE: &str = "
UPDATE boxauth_vault_identities SET next_keepalive_at = $2
WHERE user_key IN (
    SELECT user_key FROM boxauth_vault_identities
    WHERE state = 'active' AND next_keepalive_at <= $1
    ORDER BY next_keepalive_at LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING user_key";

/// $1 now.
pub(super) const COUNTS: &str = "
SELECT state, reason, count(*),
    count(*) FILTER (WHERE state = 'active' AND next_keepalive_at <= $1),
    min(next_keepalive_at) FILTER (WHERE state = 'active' AND next_keepalive_at <= $1)
FROM boxauth_vault_identities GROUP BY state, reason";

/// Rows sealed with another key than $1 (the key ID is bytes 3.. of the sealed value, its
/// length byte 2). $1 key ID, $2 after (or NULL), $3 limit.
pub(super) const SEALED_WITH_OTHER_KEYS: &str = concat!(
    "SELECT ",
    row_columns!("t"),
    " FROM boxauth_vault_identities t
WHERE ($2::text IS NULL OR t.user_key > $2)
    AND substring(t.sealed FROM 3 FOR get_byte(t.sealed, 1)) <> convert_to($1, 'UTF8')
ORDER BY t.user_key LIMIT $3"
);

/// $1 key, $2 generation, $3 sealed.
pub(super) const RESEAL: &str =
    "UPDATE boxauth_vault_identities SET sealed = $3 WHERE user_key = $1 AND generation = $2";
