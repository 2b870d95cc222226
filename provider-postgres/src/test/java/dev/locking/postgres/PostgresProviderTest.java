package dev.locking.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.jdbc.SqlValues;
import dev.locking.tck.TestConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** What the kit does not check: the table's creation, options and messages, notifications, deadlocks. */
class PostgresProviderTest {
    @RegisterExtension
    static final PostgresServer PG = PostgresServer.shared();

    private final String table = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    private final List<LockingProvider> providers = new ArrayList<>();

    @AfterEach
    void closeAndDrop() throws SQLException {
        providers.forEach(LockingProvider::close);
        PG.drop(table);
        try (Connection c = PG.admin(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM pg_proc WHERE proname LIKE '" + table + "\\_%'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("functions left behind").isZero();
        }
    }

    private LockingProvider provider(String... options) {
        String[] all = new String[options.length + 2];
        all[0] = "table";
        all[1] = table;
        System.arraycopy(options, 0, all, 2, options.length);
        LockingProvider p = PG.provider("lp_pg", all);
        providers.add(p);
        return p;
    }

    private boolean tableExists() throws SQLException {
        try (Connection c = PG.admin(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Test
    void withoutCreateTable_aMissingTableFails_withTheDdlToRun_andNothingIsCreated() throws SQLException {
        LockingProvider p = provider("createTable", "false");
        Throwable thrown = catchThrowable(() -> p.tryAcquire(List.of("k"), "o", Duration.ofSeconds(5)));
        assertThat(thrown).isInstanceOf(LockingException.class).isNotInstanceOf(ProviderUnavailableException.class)
                .hasMessageContaining("table \"public\".\"" + table + "\" is missing")
                .hasMessageContaining("createTable is false")
                .hasMessageContaining("CREATE TABLE IF NOT EXISTS \"public\".\"" + table + "\"")
                .hasMessageContaining("CREATE OR REPLACE FUNCTION \"public\".\"" + table + "_acquire\"");
        assertThat(tableExists()).isFalse();
    }

    @Test
    void aTableOfTheWrongShape_isNamed_andLeftUntouched_withOrWithoutCreateTable() throws SQLException {
        try (Connection c = PG.admin(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + table + " (lock_key text PRIMARY KEY, note text)");
            st.execute("INSERT INTO " + table + " VALUES ('k', 'the application''s own row')");
        }
        for (String create : List.of("false", "true")) {
            LockingProvider p = provider("createTable", create);
            assertThat(catchThrowable(() -> p.inspect("k"))).as("createTable=%s", create)
                    .isInstanceOf(LockingException.class)
                    .hasMessageContaining("column lock_key of type text, not bytea")
                    .hasMessageContaining("CREATE TABLE IF NOT EXISTS");
        }
        try (Connection c = PG.admin(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT note FROM " + table)) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("the application's own row");
        }
    }

    @Test
    void severalProvidersCreatingTheTableAtOnce_allSucceed() throws Exception {
        List<LockingProvider> ps = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ps.add(provider());
        }
        Duration lease = Duration.ofSeconds(30);
        for (AcquireResult r : atOnce(ps.size(), i -> ps.get(i).tryAcquire(List.of("k" + i), null, lease))) {
            assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
        }
    }

    /** Makes n calls at once, each on a thread of its own, released together; their results in order. */
    private static <T> List<T> atOnce(int n, java.util.function.IntFunction<T> call) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    start.await();
                    return call.apply(index);
                }));
            }
            start.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A table of version 2 (its queue without grant_channel) is upgraded in place by the first providers of this
     * version, several at once, keeping its rows and queue entries; with createTable=false the message says so and
     * holds the DDL. An entry queued without a channel still gets its grant, on the table's channel.
     */
    @Test
    void aVersion2Table_isUpgradedInPlace_bySeveralProvidersAtOnce() throws Exception {
        PostgresLockingProvider old = (PostgresLockingProvider) provider();
        Duration lease = Duration.ofSeconds(30);
        assertThat(old.tryAcquire(List.of("held"), "holder", lease)).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(old.acquireOrQueue("held", "exec:old", lease, lease)).isInstanceOf(AcquireResult.Conflict.class);
        try (Connection c = PG.admin(); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE " + table + "_queue DROP COLUMN grant_channel"); // as version 2 made it
            st.execute("CREATE OR REPLACE FUNCTION " + table + "_version() RETURNS int LANGUAGE sql IMMUTABLE AS"
                    + " 'SELECT 2'");
        }
        LockingProvider strict = provider("createTable", "false");
        assertThat(catchThrowable(() -> strict.inspect("held"))).isInstanceOf(LockingException.class)
                .hasMessageContaining("is of an older version (no column grant_channel)")
                .hasMessageContaining("ADD COLUMN IF NOT EXISTS grant_channel");

        List<LockingProvider> upgraders = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            upgraders.add(provider());
        }
        List<Optional<dev.locking.api.LockInfo>> seen = atOnce(upgraders.size(), i -> upgraders.get(i).inspect("held"));
        for (Optional<dev.locking.api.LockInfo> info : seen) {
            assertThat(info.map(i -> i.ownerId())).contains("holder");
        }
        try (Connection c = PG.admin(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT " + table + "_version(),"
                        + " (SELECT count(*) FROM " + table + "_queue WHERE grant_channel IS NULL),"
                        + " (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '" + table
                        + "_queue'::regclass AND attname = 'grant_channel')")) {
            rs.next();
            assertThat(rs.getInt(1)).as("version").isEqualTo(Schema.VERSION);
            assertThat(rs.getInt(2)).as("the entry queued before, without a channel").isEqualTo(1);
            assertThat(rs.getString(3)).isEqualTo("text");
        }
        assertThat(upgraders.get(0).release(List.of("held"), "holder")).isTrue();
        AcquireResult.Acquired grant = old.awaitGrant("held", "exec:old", Duration.ofSeconds(20));
        assertThat(grant).as("the grant to the entry without a channel, on the table's channel").isNotNull();
        assertThat(old.grantPayloadsHeard()).isEqualTo(1);
        old.leaveQueue("held", "exec:old");
    }

    @Test
    void theSchemaIsCreatedWhereTheOptionSays() throws SQLException {
        String schema = "s_" + table;
        try {
            LockingProvider p = provider("schema", schema);
            assertThat(p.tryAcquire(List.of("k"), "o", null)).isInstanceOf(AcquireResult.Acquired.class);
            try (Connection c = PG.admin(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FROM " + schema + "." + table)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        } finally {
            try (Connection c = PG.admin(); Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    @Test
    void thePasswordNeverAppearsInAMessage_norTheUrlsParameters() {
        String secret = "pw-" + UUID.randomUUID();
        LockingProvider wrong = new PostgresProviderFactory().create(new TestConfig("lp_pg",
                PG.options("table", table, "password", secret, "connectTimeout", "2s")));
        providers.add(wrong);
        Throwable thrown = catchThrowable(() -> wrong.inspect("k"));
        assertThat(thrown).isInstanceOf(ProviderUnavailableException.class);
        assertNowhere(thrown, secret);

        String urlSecret = "in-url-" + UUID.randomUUID();
        LockingProvider inUrl = new PostgresProviderFactory().create(new TestConfig("lp_pg", PG.options("table",
                table, "url", PG.url() + "?password=" + urlSecret, "connectTimeout", "2s")));
        providers.add(inUrl);
        Throwable thrown2 = catchThrowable(() -> inUrl.inspect("k"));
        assertThat(thrown2).isInstanceOf(ProviderUnavailableException.class);
        assertNowhere(thrown2, urlSecret);

        Throwable badOption = catchThrowable(() -> new PostgresProviderFactory().create(new TestConfig("lp_pg",
                PG.options("url", "postgresql://host/db?password=" + urlSecret))));
        assertThat(badOption).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("url");
        assertNowhere(badOption, urlSecret);
    }

    private static void assertNowhere(Throwable thrown, String secret) {
        for (Throwable e = thrown; e != null; e = e.getCause()) {
            assertThat(String.valueOf(e.getMessage())).doesNotContain(secret);
            assertThat(e.toString()).doesNotContain(secret);
        }
    }

    @Test
    void aReleaseNobodyWaitsFor_sendsNoNotification_oneSomebodyWaitsFor_does() throws Exception {
        LockingProvider p = provider();
        p.inspect("warm-up");
        String channel = new Schema("public", table).channel;
        try (Connection listen = PG.admin()) {
            try (Statement st = listen.createStatement()) {
                st.execute("LISTEN " + channel);
            }
            PGConnection pg = listen.unwrap(PGConnection.class);
            for (int i = 0; i < 20; i++) {
                assertThat(p.tryAcquire(List.of("a", "b"), "o", Duration.ofSeconds(5)))
                        .isInstanceOf(AcquireResult.Acquired.class);
                assertThat(p.release(List.of("a", "b"), "o")).isTrue();
            }
            assertThat(notifications(pg, 300)).as("notifications after releases nobody waited for").isEmpty();

            p.tryAcquire(List.of("a"), "o", Duration.ofSeconds(5));
            Thread waiter = new Thread(() -> {
                try {
                    p.awaitRelease(List.of("a"), Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            waiter.start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> ((PostgresLockingProvider) p).sleepingWaiters() == 1);
            long released = System.nanoTime();
            p.release(List.of("a"), "o");
            waiter.join(5000);
            assertThat(waiter.isAlive()).isFalse();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released)).as("ms to wake").isLessThan(900);
            assertThat(notifications(pg, 300)).containsExactly("r " + Codec.hex(SqlValues.bytes("a")));
        }
    }

    private static List<String> notifications(PGConnection pg, int waitMillis) throws SQLException {
        List<String> out = new ArrayList<>();
        PGNotification[] ns = pg.getNotifications(waitMillis);
        if (ns != null) {
            for (PGNotification n : ns) {
                out.add(n.getParameter());
            }
        }
        return out;
    }

    /**
     * Through an application's DataSource whose connections come out of autocommit (as some pools are set up):
     * each statement still commits at once, and LISTEN still hears the grant.
     */
    @Test
    void aProviderOnTheApplicationsDataSource_locksAndHandsOff() throws Exception {
        org.postgresql.ds.PGSimpleDataSource plain = new org.postgresql.ds.PGSimpleDataSource();
        plain.setUrl(PG.url());
        PG.options().forEach((k, v) -> {
            if (k.equals("user")) {
                plain.setUser(v);
            } else if (k.equals("password")) {
                plain.setPassword(v);
            }
        });
        javax.sql.DataSource ds = (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {javax.sql.DataSource.class}, (proxy, method, args) -> {
                    Object result = method.invoke(plain, args);
                    if (result instanceof Connection c) {
                        c.setAutoCommit(false);
                    }
                    return result;
                });
        LockingProvider p = PostgresProviderFactory.fromDataSource("lp_app", ds, java.util.Map.of("table", table));
        providers.add(p);
        LockingProvider other = provider();
        AcquireResult held = p.tryAcquire(List.of("k"), "holder", Duration.ofSeconds(30));
        assertThat(held).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(other.inspect("k").map(i -> i.ownerId())).contains("holder");
        assertThat(p.acquireOrQueue("k", "exec:w", Duration.ofSeconds(30), Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Conflict.class);
        assertThat(other.release(List.of("k"), "holder")).isTrue();
        AcquireResult.Acquired grant = p.awaitGrant("k", "exec:w", Duration.ofSeconds(20));
        assertThat(grant).isNotNull();
        assertThat(grant.fencingTokens().get("k")).isGreaterThan(((AcquireResult.Acquired) held).fencingTokens().get("k"));
        p.leaveQueue("k", "exec:w");
        assertThat(other.inspect("k")).isEmpty();
    }

    @Test
    void theSweep_deletesRowsLapsedAMinuteAgo_butNotOnesSomebodyQueuesFor_norLiveOnes() throws Exception {
        PostgresLockingProvider p = (PostgresLockingProvider) provider();
        for (String k : List.of("old", "old-queued", "live")) {
            assertThat(p.tryAcquire(List.of(k), "o", Duration.ofSeconds(30))).isInstanceOf(AcquireResult.Acquired.class);
        }
        assertThat(p.acquireOrQueue("old-queued", "exec:w", Duration.ofSeconds(30), Duration.ofMinutes(5)))
                .isInstanceOf(AcquireResult.Conflict.class);
        assertThat(p.acquireOrQueue("live", "exec:dead", Duration.ofSeconds(30), Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Conflict.class);
        try (Connection c = PG.admin(); Statement st = c.createStatement()) {
            st.execute("UPDATE " + table + " SET expires_at = now() - interval '2 minutes'"
                    + " WHERE lock_key IN ('old'::bytea, 'old-queued'::bytea)");
            st.execute("UPDATE " + table + "_queue SET lapses_at = now() - interval '2 minutes'"
                    + " WHERE owner_id = 'exec:dead'::bytea");
            p.sweep(c);
            try (ResultSet rs = st.executeQuery("SELECT convert_from(lock_key, 'UTF8') FROM " + table
                    + " ORDER BY 1")) {
                List<String> left = new ArrayList<>();
                while (rs.next()) {
                    left.add(rs.getString(1));
                }
                assertThat(left).containsExactly("live", "old-queued");
            }
            try (ResultSet rs = st.executeQuery("SELECT convert_from(owner_id, 'UTF8') FROM " + table + "_queue")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("exec:w");
                assertThat(rs.next()).isFalse();
            }
        }
    }

    /**
     * A release that hands the key to an owner waiting in this JVM wakes it from its own reply, before it returns:
     * the next holder does not wait for the NOTIFY's detour (commit, the listening backend, the listener thread),
     * which took about as long again as the release itself.
     */
    @Test
    void aReleaseHandsTheKeyToAWaiterOfThisJvm_beforeItReturns() throws Exception {
        LockingProvider p = provider();
        Duration lease = Duration.ofSeconds(30);
        for (int i = 0; i < 20; i++) {
            String key = "direct-" + i;
            AcquireResult held = p.acquireOrQueue(key, "a" + i, lease, lease);
            assertThat(held).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(p.acquireOrQueue(key, "b" + i, lease, lease)).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(p.release(List.of(key), "a" + i)).isTrue();
            AcquireResult.Acquired grant = p.awaitGrant(key, "b" + i, Duration.ofNanos(1));
            assertThat(grant).as("hand-off %d: the grant, as soon as the release returned", i).isNotNull();
            assertThat(grant.fencingTokens().get(key))
                    .isGreaterThan(((AcquireResult.Acquired) held).fencingTokens().get(key));
            assertThat(p.inspect(key).map(info -> info.ownerId())).contains("b" + i);
            assertThat(p.release(List.of(key), "b" + i)).isTrue();
        }
    }

    /**
     * A grant to an owner the releasing provider queued itself travels only in the release's reply: no NOTIFY, so
     * neither the listening backend nor the listener thread wakes for it. A marker sent on the table's channel after
     * the releases proves that the listener has read everything sent before it.
     */
    @Test
    void aGrantToAnOwnerOfTheReleasingProvider_sendsNoNotification() throws Exception {
        PostgresLockingProvider p = (PostgresLockingProvider) provider();
        Duration lease = Duration.ofSeconds(30);
        for (int i = 0; i < 5; i++) {
            String key = "own-" + i;
            assertThat(p.acquireOrQueue(key, "a" + i, lease, lease)).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(p.acquireOrQueue(key, "b" + i, lease, lease)).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(p.release(List.of(key), "a" + i)).isTrue();
            assertThat(p.awaitGrant(key, "b" + i, Duration.ofNanos(1))).as("hand-off %d, from the reply", i).isNotNull();
            assertThat(p.release(List.of(key), "b" + i)).isTrue();
        }
        try (Connection c = PG.admin(); Statement st = c.createStatement()) {
            st.execute("NOTIFY " + new Schema("public", table).channel + ", 'marker'");
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> p.payloadsHeard() - p.grantPayloadsHeard() >= 1);
        assertThat(p.grantPayloadsHeard()).as("grant payloads the listener heard").isZero();
    }

    /**
     * Queuing (or refreshing a queue entry) does not wait for its commit to be flushed, while the key's row lock
     * holds every release of that key back; taking a key does.
     */
    @Test
    void aQueueEntryCommitsWithoutWaitingForTheFlush_aTakenKeyWaits() throws Exception {
        LockingProvider p = provider();
        assertThat(p.tryAcquire(List.of("busy"), "holder", Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Acquired.class);
        assertThat(queueCallCommitMode("busy", "waiter")).as("queued").isEqualTo("0 off");
        assertThat(queueCallCommitMode("free", "taker")).as("taken").isEqualTo("1 on");
    }

    /**
     * An awaitRelease's mark on a row is a hint (a lost one costs its waiter one slice), so it commits without waiting
     * for its flush: the row lock it takes would otherwise hold the holder's release back for that flush.
     */
    @Test
    void aWaitersMarkCommitsWithoutWaitingForTheFlush() throws Exception {
        LockingProvider p = provider();
        assertThat(p.tryAcquire(List.of("busy"), "holder", Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Acquired.class);
        try (Connection c = PG.admin()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL synchronous_commit = on"); // the test server's own default is off
                try (ResultSet rs = st.executeQuery("SELECT busy FROM \"" + table
                        + "_wait\"(ARRAY['busy'::bytea], 2000)")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("busy keys").isEqualTo(1);
                }
                try (ResultSet mode = st.executeQuery("SELECT current_setting('synchronous_commit')")) {
                    mode.next();
                    assertThat(mode.getString(1)).as("the mark's commit mode").isEqualTo("off");
                }
            }
            c.commit();
        }
    }

    /** Runs the queue function in a durable transaction of its own: its state, and the commit mode it leaves. */
    private String queueCallCommitMode(String key, String owner) throws SQLException {
        try (Connection c = PG.admin()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL synchronous_commit = on"); // the test server's own default is off
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT state FROM \"" + table
                    + "_queue\"(?, ?, 30000, 30000)")) {
                ps.setBytes(1, key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                ps.setBytes(2, owner.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                try (ResultSet rs = ps.executeQuery(); Statement st = c.createStatement();
                        ResultSet mode = st.executeQuery("SELECT current_setting('synchronous_commit')")) {
                    rs.next();
                    mode.next();
                    String answer = rs.getInt(1) + " " + mode.getString(1);
                    c.commit();
                    return answer;
                }
            }
        }
    }

    /**
     * The longest key and owner (1024 characters of 3 UTF-8 bytes each) fit in a grant's NOTIFY payload. The
     * release runs on another provider (another client, as another JVM would be), so the grant can reach the
     * waiter only by the notification, not from the release's reply.
     */
    @Test
    void aGrantToTheLongestOwnerForTheLongestKey_arrivesByNotification() throws Exception {
        LockingProvider p = provider();
        LockingProvider releaser = provider();
        String key = "\uFFFD".repeat(1024);
        String owner = "\u20AC".repeat(1024);
        AcquireResult held = releaser.tryAcquire(List.of(key), "holder", Duration.ofSeconds(30));
        assertThat(held).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(p.acquireOrQueue(key, owner, Duration.ofSeconds(30), Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Conflict.class);
        assertThat(releaser.release(List.of(key), "holder")).isTrue();
        long start = System.nanoTime();
        AcquireResult.Acquired grant = p.awaitGrant(key, owner, Duration.ofSeconds(20));
        assertThat(grant).as("the grant, by notification").isNotNull();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5000);
        assertThat(grant.fencingTokens().get(key))
                .isGreaterThan(((AcquireResult.Acquired) held).fencingTokens().get(key));
        assertThat(p.inspect(key).map(i -> i.ownerId())).contains(owner);
        p.leaveQueue(key, owner);
        assertThat(p.inspect(key)).isEmpty();
    }

    /**
     * A grant goes to the channel of the provider that queued its owner: another provider on the same table (another
     * JVM, as far as the database can tell) is not woken by it. A marker sent on the table's channel after the grant
     * proves that the other provider's listener has read everything sent before it.
     */
    @Test
    void aGrantWakesOnlyTheProviderThatQueuedItsOwner() throws Exception {
        PostgresLockingProvider waiting = (PostgresLockingProvider) provider();
        PostgresLockingProvider other = (PostgresLockingProvider) provider();
        LockingProvider releaser = provider();
        Duration lease = Duration.ofSeconds(30);
        assertThat(other.acquireOrQueue("other-key", "exec:other", lease, lease)) // starts its listener
                .isInstanceOf(AcquireResult.Acquired.class);
        other.leaveQueue("other-key", "exec:other");
        assertThat(releaser.tryAcquire(List.of("k"), "holder", lease)).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(waiting.acquireOrQueue("k", "exec:w", lease, lease)).isInstanceOf(AcquireResult.Conflict.class);
        assertThat(releaser.release(List.of("k"), "holder")).isTrue();
        assertThat(waiting.awaitGrant("k", "exec:w", Duration.ofSeconds(20))).as("the grant, by notification")
                .isNotNull();
        try (Connection c = PG.admin(); Statement st = c.createStatement()) {
            st.execute("NOTIFY " + new Schema("public", table).channel + ", 'marker'");
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> other.payloadsHeard() - other.grantPayloadsHeard() >= 1);
        assertThat(waiting.grantPayloadsHeard()).as("grant payloads the waiting provider heard").isEqualTo(1);
        assertThat(other.grantPayloadsHeard()).as("grant payloads the other provider heard").isZero();
        waiting.leaveQueue("k", "exec:w");
    }

    /** Multi-key acquires in every order, releases and releaseAll(owner) at once: never a deadlock error. */
    @Test
    void multiKeyCallsInAnyOrder_neverDeadlock() throws Exception {
        LockingProvider p = provider();
        LockingProvider q = provider();
        List<String> keys = List.of("k0", "k1", "k2", "k3", "k4", "k5", "\uD83D\uDE00", "\uE000");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                LockingProvider client = t % 2 == 0 ? p : q;
                String owner = "owner-" + t;
                done.add(pool.submit(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    for (int i = 0; i < 150; i++) {
                        List<String> mine = new ArrayList<>(keys);
                        Collections.shuffle(mine, r);
                        List<String> some = new ArrayList<>(mine.subList(0, 2 + r.nextInt(4)));
                        Collections.sort(some);
                        try {
                            if (client.tryAcquire(some, owner, Duration.ofSeconds(10)) instanceof AcquireResult.Acquired) {
                                if (r.nextBoolean()) {
                                    client.release(some, owner);
                                } else {
                                    client.releaseAll(owner);
                                }
                            }
                        } catch (RuntimeException e) {
                            errors.add(e);
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(errors).isEmpty();
        for (String k : keys) {
            assertThat(p.inspect(k)).isEqualTo(Optional.empty());
        }
    }
}
