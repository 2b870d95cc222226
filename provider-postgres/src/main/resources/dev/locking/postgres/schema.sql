-- lp_postgres: the lock table, the queue of waiting owners, and the functions every operation runs.
-- {T} is the lock table, {Q} its queue, {fn:x} a function of this table, {idx:x} an index, {CHANNEL} the
-- NOTIFY channel. Keys and owners are the UTF-8 bytes of their strings (a key may hold NUL, which text cannot).
-- Times come from the database's clock only (clock_timestamp()). Statements are separated by lines of two dashes and two slashes.
CREATE TABLE IF NOT EXISTS {T} (
    lock_key     bytea       NOT NULL PRIMARY KEY CHECK (octet_length(lock_key) > 0),
    owner_id     bytea       CHECK (octet_length(owner_id) > 0),  -- NULL: held anonymously
    token        bigint      NOT NULL CHECK (token > 0),
    expires_at   timestamptz,                                      -- NULL: never
    waited_until timestamptz                                       -- a release before it is announced
)
--//
CREATE INDEX IF NOT EXISTS {idx:owner} ON {T} (owner_id) WHERE owner_id IS NOT NULL
--//
CREATE TABLE IF NOT EXISTS {Q} (
    lock_key  bytea       NOT NULL CHECK (octet_length(lock_key) > 0),
    owner_id  bytea       NOT NULL CHECK (octet_length(owner_id) > 0),
    arrival   bigint      GENERATED ALWAYS AS IDENTITY,
    grant_ms  bigint      NOT NULL CHECK (grant_ms > 0),           -- a grant's first lease: min(lease, stay)
    lapses_at timestamptz NOT NULL,
    grant_channel text CHECK (grant_channel ~ '^[a-z0-9_]{1,63}$'),  -- where its grant is announced
    PRIMARY KEY (lock_key, owner_id)
)
--//
-- Version 2 had no grant_channel: added in place (a no-op when it is there; the DDL runs under an advisory lock).
ALTER TABLE {Q} ADD COLUMN IF NOT EXISTS grant_channel text CHECK (grant_channel ~ '^[a-z0-9_]{1,63}$')
--//
CREATE INDEX IF NOT EXISTS {idx:arrival} ON {Q} (lock_key, arrival)
--//
-- A new fencing token: the clock in microseconds, or one more than the key's last token if that is higher.
CREATE OR REPLACE FUNCTION {fn:token}(last bigint) RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, coalesce(last, 0) + 1)
$$
--//
-- Milliseconds from now to t, at least 1 (an expiry just reached counts as 1 ms left); NULL for never.
CREATE OR REPLACE FUNCTION {fn:ms}(t timestamptz, now timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL THEN NULL
                ELSE greatest(1, ceil(extract(epoch FROM (t - now)) * 1000))::bigint END
$$
--//
-- Whether a live queue entry of another owner stands before this owner's (or anywhere, if it has none).
-- PL/pgSQL, not SQL: its plan is cached per session (a SQL function's is made again on every call, ten times
-- slower here). The hot paths (acquire's single key and its look, queue) run the same query inline: the nested
-- call cost more than the query (measured with track_functions).
CREATE OR REPLACE FUNCTION {fn:queued_before}(k bytea, o bytea, now timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM {Q} e
                   WHERE e.lock_key = k AND e.lapses_at > now AND e.owner_id IS DISTINCT FROM o
                     AND e.arrival < coalesce((SELECT m.arrival FROM {Q} m WHERE m.lock_key = k AND m.owner_id = o),
                                              9223372036854775807));
END
$$
--//
-- Version 1 returned nothing from hand_on and a count from release: a return type cannot be replaced, only dropped.
-- Version 3 gave hand_on a fifth argument, and release a third (version 2's release stays as a wrapper, below).
DROP FUNCTION IF EXISTS {fn:release}(bytea[], bytea)
--//
DROP FUNCTION IF EXISTS {fn:hand_on}(bytea, bigint, timestamptz, timestamptz)
--//
-- Hands on a key whose row this transaction has just deleted (last: its token; w: its waited_until): to the first
-- live queued owner (a new row, new token, lease grant_ms, NOTIFY 'g' on the channel of the provider that queued
-- that owner, so that no other JVM wakes; the table's channel for an entry without one), or else, if someone waits
-- in awaitRelease, NOTIFY 'r' on the table's channel. ch: the channel of the provider whose release returns the
-- grant in its reply (NULL: none); a grant to an owner that provider queued is not notified at all, as the reply
-- wakes it at once, without the NOTIFY's detour through the listening connection. A queue row is only ever changed
-- by a transaction that holds its key's row lock. Returns the grant's payload (NULL if none).
CREATE OR REPLACE FUNCTION {fn:hand_on}(k bytea, last bigint, w timestamptz, now timestamptz, ch text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    next_owner bytea;
    next_ms bigint;
    next_channel text;
    t bigint;
    g text;
BEGIN
    -- One statement: the lapsed entries go, and the first live one is taken out.
    WITH lapsed AS (DELETE FROM {Q} WHERE lock_key = k AND lapses_at <= now)
    DELETE FROM {Q} WHERE lock_key = k
        AND arrival = (SELECT min(arrival) FROM {Q} WHERE lock_key = k AND lapses_at > now)
        RETURNING owner_id, grant_ms, grant_channel INTO next_owner, next_ms, next_channel;
    IF next_owner IS NOT NULL THEN
        INSERT INTO {T} (lock_key, owner_id, token, expires_at, waited_until)
            VALUES (k, next_owner, {fn:token}(last), now + next_ms * interval '1 millisecond', w)
            RETURNING token INTO t;
        g := 'g ' || t || ' ' || next_ms || ' ' || md5(k) || ' ' || encode(next_owner, 'hex');
        IF next_channel IS NULL OR next_channel IS DISTINCT FROM ch THEN
            PERFORM pg_notify(coalesce(next_channel, {CHANNEL}), g);
        END IF;
    ELSIF w > now THEN
        PERFORM pg_notify({CHANNEL}, 'r ' || encode(k, 'hex'));
    END IF;
    RETURN g;
END
$$
--//
-- Frees a key whose row the caller has locked, and hands it on.
CREATE OR REPLACE FUNCTION {fn:free}(k bytea, now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    last bigint;
    w timestamptz;
BEGIN
    DELETE FROM {T} WHERE lock_key = k RETURNING token, waited_until INTO last, w;
    PERFORM {fn:hand_on}(k, last, w, now, NULL);
END
$$
--//
-- tryAcquire: all keys or none. at is the 1-based position (in the caller's order) of a key held by
-- someone else or queued for, else NULL; then tokens (in the caller's order) and the first expiry, as ms left.
-- A conflict met after an earlier key was written raises LK409 (the statement rolls back; the caller retries).
CREATE OR REPLACE FUNCTION {fn:acquire}(keys bytea[], o bytea, lease_ms bigint,
        OUT at int, OUT tokens bigint[], OUT left_ms bigint) LANGUAGE plpgsql AS $$
DECLARE
    now timestamptz := clock_timestamp();
    until timestamptz := CASE WHEN lease_ms > 0 THEN now + lease_ms * interval '1 millisecond' END;
    r record;
    k bytea;
    i int;
    t bigint;
    e timestamptz;
    first_expiry timestamptz;
    never boolean := true;
    wrote boolean := false;
    have boolean;
    looked_free boolean := false;  -- the look found nobody queued before o for any key
BEGIN
    IF cardinality(keys) = 1 THEN
        -- The common case, a free key nobody queues for: one insert, no look first (queued_before inline).
        k := keys[1];
        IF NOT EXISTS (SELECT 1 FROM {Q} qe
                       WHERE qe.lock_key = k AND qe.lapses_at > now AND qe.owner_id IS DISTINCT FROM o
                         AND qe.arrival < coalesce((SELECT qm.arrival FROM {Q} qm
                                                    WHERE qm.lock_key = k AND qm.owner_id = o), 9223372036854775807)) THEN
            looked_free := true;
            INSERT INTO {T} (lock_key, owner_id, token, expires_at) VALUES (k, o, {fn:token}(NULL), until)
                ON CONFLICT DO NOTHING RETURNING token INTO t;
            IF FOUND THEN
                tokens := ARRAY[t];
                left_ms := {fn:ms}(until, now);
                RETURN;
            END IF;
            looked_free := false;  -- the row is there: the loop below looks at it first
        END IF;
    ELSE
        -- A look without locks first, so that the common conflict writes nothing and raises nothing.
        SELECT min(x.i) INTO at FROM unnest(keys) WITH ORDINALITY x(k, i)
            LEFT JOIN {T} l ON l.lock_key = x.k AND (l.expires_at IS NULL OR l.expires_at > now)
            WHERE CASE WHEN l.lock_key IS NOT NULL THEN o IS NULL OR l.owner_id IS DISTINCT FROM o
                       ELSE EXISTS (SELECT 1 FROM {Q} qe
                                    WHERE qe.lock_key = x.k AND qe.lapses_at > now AND qe.owner_id IS DISTINCT FROM o
                                      AND qe.arrival < coalesce((SELECT qm.arrival FROM {Q} qm
                                                                WHERE qm.lock_key = x.k AND qm.owner_id = o),
                                                               9223372036854775807)) END;
        IF at IS NOT NULL THEN
            RETURN;
        END IF;
        looked_free := true;
    END IF;
    tokens := array_fill(0::bigint, ARRAY[cardinality(keys)]);
    -- Rows are locked in byte order, as every function here locks them: two calls never deadlock.
    FOR k, i IN SELECT x.k, x.i FROM unnest(keys) WITH ORDINALITY x(k, i) ORDER BY x.k LOOP
        LOOP
            IF looked_free THEN
                -- Free as the look saw it: insert first (a released row is deleted, so this is the common case).
                INSERT INTO {T} (lock_key, owner_id, token, expires_at) VALUES (k, o, {fn:token}(NULL), until)
                    ON CONFLICT DO NOTHING RETURNING token INTO t;
                IF FOUND THEN
                    e := until;
                    EXIT;
                END IF;
            END IF;
            SELECT * INTO r FROM {T} WHERE lock_key = k FOR UPDATE;
            have := FOUND;
            IF have AND (r.expires_at IS NULL OR r.expires_at > now) THEN
                IF o IS NULL OR r.owner_id IS DISTINCT FROM o THEN
                    at := i;
                ELSIF until IS NOT NULL THEN
                    UPDATE {T} SET expires_at = until WHERE lock_key = k;
                    wrote := true;
                END IF;
                t := r.token;
                e := coalesce(until, r.expires_at);
                EXIT;
            END IF;
            -- A queue entry for a key without a row is made without a row lock, so for an absent row a look again
            -- under locks would know no more than the look above; an existing row's lock holds its queue still.
            IF (have OR NOT looked_free) AND {fn:queued_before}(k, o, now) THEN
                at := i;
                EXIT;
            END IF;
            e := until;
            IF have THEN
                UPDATE {T} SET owner_id = o, token = {fn:token}(token), expires_at = until
                    WHERE lock_key = k RETURNING token INTO t;
                EXIT;
            END IF;
            IF NOT looked_free THEN
                INSERT INTO {T} (lock_key, owner_id, token, expires_at) VALUES (k, o, {fn:token}(NULL), until)
                    ON CONFLICT DO NOTHING RETURNING token INTO t;
                EXIT WHEN FOUND;
            END IF;
            -- else another call inserted or deleted it meanwhile: again
        END LOOP;
        IF at IS NOT NULL THEN
            IF wrote THEN
                RAISE EXCEPTION USING ERRCODE = 'LK409', MESSAGE = 'conflict at ' || at;
            END IF;
            tokens := NULL;
            RETURN;
        END IF;
        wrote := true;
        tokens[i] := t;
        IF e IS NOT NULL AND (first_expiry IS NULL OR e < first_expiry) THEN
            first_expiry := e;
        END IF;
    END LOOP;
    left_ms := {fn:ms}(first_expiry, now);
END
$$
--//
-- release: frees the keys held anonymously or by o (handing each on); returns how many it freed, and the payloads
-- of the grants it made (NULL if none). ch: the caller's grant channel, whose grants the caller takes from this reply.
CREATE OR REPLACE FUNCTION {fn:release}(keys bytea[], o bytea, ch text, OUT n int, OUT grants text[])
LANGUAGE plpgsql AS $$
DECLARE
    now timestamptz := clock_timestamp();
    k bytea;
    last bigint;
    w timestamptz;
    r record;
    g text;
BEGIN
    n := 0;
    IF cardinality(keys) = 1 THEN
        -- One key: a statement of its own (one statement for both cases made PostgreSQL plan it anew on every call),
        -- and hand_on only when someone queues or waits.
        k := keys[1];
        DELETE FROM {T} WHERE lock_key = k
            AND (expires_at IS NULL OR expires_at > now) AND (owner_id IS NULL OR owner_id = o)
            RETURNING token, waited_until INTO last, w;
        IF FOUND THEN
            n := 1;
            IF w > now OR EXISTS (SELECT 1 FROM {Q} WHERE lock_key = k) THEN
                g := {fn:hand_on}(k, last, w, now, ch);
                IF g IS NOT NULL THEN
                    grants := ARRAY[g];
                END IF;
            END IF;
        END IF;
        RETURN;
    END IF;
    -- Several keys: the rows are deleted (so locked) first, in byte order of their keys, then each is handed on.
    FOR r IN DELETE FROM {T}
             WHERE lock_key = ANY (ARRAY(
                       SELECT lock_key FROM {T}
                       WHERE lock_key = ANY (keys) AND (expires_at IS NULL OR expires_at > now)
                         AND (owner_id IS NULL OR owner_id = o)
                       ORDER BY lock_key FOR UPDATE))
               AND (expires_at IS NULL OR expires_at > now) AND (owner_id IS NULL OR owner_id = o)
             RETURNING lock_key, token, waited_until LOOP
        n := n + 1;
        IF r.waited_until > now OR EXISTS (SELECT 1 FROM {Q} WHERE lock_key = r.lock_key) THEN
            g := {fn:hand_on}(r.lock_key, r.token, r.waited_until, now, ch);
            IF g IS NOT NULL THEN
                grants := grants || g;
            END IF;
        END IF;
    END LOOP;
END
$$
--//
-- Version 2's release, for a provider of that version still running while the table is upgraded: every grant is
-- notified.
CREATE OR REPLACE FUNCTION {fn:release}(keys bytea[], o bytea, OUT n int, OUT grants text[]) LANGUAGE sql AS $$
    SELECT * FROM {fn:release}(keys, o, NULL)
$$
--//
-- releaseAll(owner) when o is given (through the owner index), else releaseAll(): every row, each handed on.
CREATE OR REPLACE FUNCTION {fn:release_all}(o bytea) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    now timestamptz := clock_timestamp();
    k bytea;
    n int := 0;
BEGIN
    IF o IS NOT NULL THEN
        FOR k IN SELECT lock_key FROM {T} WHERE owner_id = o ORDER BY lock_key FOR UPDATE LOOP
            PERFORM {fn:free}(k, now);
            n := n + 1;
        END LOOP;
    ELSE
        FOR k IN SELECT lock_key FROM {T} ORDER BY lock_key FOR UPDATE LOOP
            PERFORM {fn:free}(k, now);
            n := n + 1;
        END LOOP;
        DELETE FROM {Q} WHERE lapses_at <= now;
    END IF;
    RETURN n;
END
$$
--//
-- acquireOrQueue: state 1 = the owner holds the key (taken now or handed to it), with token and ms left;
-- state 0 = queued (or its entry renewed in place), with the holder's ms left (NULL: never or unknown). ch: the
-- caller's grant channel (NULL: the table's).
CREATE OR REPLACE FUNCTION {fn:queue}(k bytea, o bytea, lease_ms bigint, stay_ms bigint, ch text,
        OUT state int, OUT token bigint, OUT left_ms bigint) LANGUAGE plpgsql AS $$
DECLARE
    now timestamptz := clock_timestamp();
    until timestamptz := now + lease_ms * interval '1 millisecond';
    r record;
    have boolean;
BEGIN
    LOOP
        SELECT * INTO r FROM {T} WHERE lock_key = k FOR UPDATE;
        have := FOUND;
        IF have AND (r.expires_at IS NULL OR r.expires_at > now) THEN
            IF r.owner_id = o THEN
                DELETE FROM {Q} WHERE lock_key = k AND owner_id = o;
                state := 1;
                token := r.token;
                left_ms := {fn:ms}(r.expires_at, now);
                RETURN;
            END IF;
            left_ms := {fn:ms}(r.expires_at, now);
            EXIT;
        END IF;
        EXIT WHEN EXISTS (SELECT 1 FROM {Q} qe  -- queued_before, inline
                          WHERE qe.lock_key = k AND qe.lapses_at > now AND qe.owner_id IS DISTINCT FROM o
                            AND qe.arrival < coalesce((SELECT qm.arrival FROM {Q} qm
                                                       WHERE qm.lock_key = k AND qm.owner_id = o), 9223372036854775807));
        IF have THEN
            UPDATE {T} SET owner_id = o, token = {fn:token}({T}.token), expires_at = until
                WHERE lock_key = k RETURNING {T}.token INTO token;
        ELSE
            INSERT INTO {T} (lock_key, owner_id, token, expires_at) VALUES (k, o, {fn:token}(NULL), until)
                ON CONFLICT DO NOTHING RETURNING {T}.token INTO token;
            CONTINUE WHEN NOT FOUND;
        END IF;
        DELETE FROM {Q} WHERE lock_key = k AND owner_id = o;
        state := 1;
        left_ms := lease_ms;
        RETURN;
    END LOOP;
    INSERT INTO {Q} (lock_key, owner_id, grant_ms, lapses_at, grant_channel)
        VALUES (k, o, least(lease_ms, stay_ms), now + stay_ms * interval '1 millisecond', ch)
        ON CONFLICT (lock_key, owner_id) DO UPDATE SET grant_ms = EXCLUDED.grant_ms, lapses_at = EXCLUDED.lapses_at,
            grant_channel = EXCLUDED.grant_channel;
    -- A queue entry alone does not wait for its commit to be flushed: the key's row lock is held until the commit
    -- ends, and the release that hands on the key waits for it. A crash may lose the entry (never a lock): the
    -- owner's next call, within a slice, queues it again at the tail. A grant made from the entry is flushed with
    -- the release's own commit, which comes later in the log.
    PERFORM set_config('synchronous_commit', 'off', true);
    state := 0;
END
$$
--//
-- Version 2's acquireOrQueue, for a provider of that version still running while the table is upgraded: its owners'
-- grants go to the table's channel, which it listens to.
CREATE OR REPLACE FUNCTION {fn:queue}(k bytea, o bytea, lease_ms bigint, stay_ms bigint,
        OUT state int, OUT token bigint, OUT left_ms bigint) LANGUAGE sql AS $$
    SELECT * FROM {fn:queue}(k, o, lease_ms, stay_ms, NULL)
$$
--//
-- leaveQueue: out of the queue; a key the owner holds is freed (and handed on). Returns whether it held it.
CREATE OR REPLACE FUNCTION {fn:leave}(k bytea, o bytea) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    now timestamptz := clock_timestamp();
    r record;
BEGIN
    SELECT * INTO r FROM {T} WHERE lock_key = k FOR UPDATE;
    IF NOT FOUND THEN
        DELETE FROM {Q} WHERE lock_key = k AND owner_id = o;
        RETURN false;
    END IF;
    DELETE FROM {Q} WHERE lock_key = k AND owner_id = o;
    IF r.owner_id = o AND (r.expires_at IS NULL OR r.expires_at > now) THEN
        PERFORM {fn:free}(k, now);
        RETURN true;
    END IF;
    RETURN false;
END
$$
--//
-- awaitRelease's look: marks the held keys as waited for (their release then sends NOTIFY 'r') for mark_ms,
-- and answers how many keys are held or queued for, and the first of their expiries as ms left.
CREATE OR REPLACE FUNCTION {fn:wait}(keys bytea[], mark_ms bigint, OUT busy int, OUT left_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    now timestamptz := clock_timestamp();
    mark timestamptz := now + mark_ms * interval '1 millisecond';
    k bytea;
    r record;
    first_expiry timestamptz;
BEGIN
    busy := 0;
    FOR k IN SELECT x FROM unnest(keys) x ORDER BY x LOOP
        UPDATE {T} SET waited_until = greatest(waited_until, mark) WHERE lock_key = k
            RETURNING expires_at, (expires_at IS NULL OR expires_at > now) AS live INTO r;
        IF FOUND AND r.live THEN
            busy := busy + 1;
            IF r.expires_at IS NOT NULL AND (first_expiry IS NULL OR r.expires_at < first_expiry) THEN
                first_expiry := r.expires_at;
            END IF;
        ELSIF {fn:queued_before}(k, NULL, now) THEN
            busy := busy + 1;  -- free, but a queued owner takes it first: look again after a slice
        END IF;
    END LOOP;
    left_ms := {fn:ms}(first_expiry, now);
    -- A mark is a hint: one lost in a crash costs its waiter a slice, never a lock. Its commit does not wait for the
    -- flush, as the row locks it holds until then would hold the holder's release back.
    PERFORM set_config('synchronous_commit', 'off', true);
END
$$
--//
-- Garbage: rows whose lease lapsed more than older_ms ago with nobody queued, and queue entries that lapsed
-- as long ago (their owners died). Locked rows are skipped, so this never waits and never deadlocks.
CREATE OR REPLACE FUNCTION {fn:sweep}(older_ms bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    cut timestamptz := clock_timestamp() - older_ms * interval '1 millisecond';
    n int;
BEGIN
    DELETE FROM {Q} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM {Q} WHERE lapses_at < cut LIMIT 1000 FOR UPDATE SKIP LOCKED));
    DELETE FROM {T} WHERE lock_key = ANY (ARRAY(
        SELECT l.lock_key FROM {T} l
        WHERE l.expires_at < cut AND NOT EXISTS (SELECT 1 FROM {Q} q WHERE q.lock_key = l.lock_key)
        LIMIT 1000 FOR UPDATE SKIP LOCKED));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$
