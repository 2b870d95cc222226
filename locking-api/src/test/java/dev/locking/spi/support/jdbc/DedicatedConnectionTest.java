package dev.locking.spi.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Against H2, an embedded SQL database: the session "listens" by reading a table of messages, which is how a
 * provider on a database without notifications would poll.
 */
class DedicatedConnectionTest {

    private String url;
    private final List<String> heard = new CopyOnWriteArrayList<>();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger setUps = new AtomicInteger();
    private final AtomicReference<Connection> current = new AtomicReference<>();

    @BeforeEach
    void database() throws SQLException {
        url = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE messages (id IDENTITY PRIMARY KEY, body VARCHAR(100))");
        }
    }

    /** Hands on the messages with an id above the last one heard, then waits out the poll. */
    private final DedicatedConnection.Session session = new DedicatedConnection.Session() {
        private long last;

        @Override
        public void setUp(Connection c) {
            current.set(c);
            setUps.incrementAndGet();
        }

        @Override
        public void poll(Connection c, int millis) throws SQLException {
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT id, body FROM messages WHERE id > " + last + " ORDER BY id")) {
                while (rs.next()) {
                    last = rs.getLong(1);
                    heard.add(rs.getString(2));
                }
            }
            try {
                Thread.sleep(Math.min(millis, 20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // closing: the loop looks at closed next
            }
        }
    };

    private final DedicatedConnection.Events recorder = new DedicatedConnection.Events() {
        @Override
        public void up(boolean again) {
            events.add(again ? "up again" : "up");
        }

        @Override
        public void down(Exception failure, boolean first) {
            events.add(first ? "down" : "still down");
        }
    };

    private void send(String body) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("INSERT INTO messages (body) VALUES ('" + body + "')");
        }
    }

    @Test
    void startWaitsForTheFirstSetUp_thenMessagesArrive_andCloseStopsTheThread() throws Exception {
        DedicatedConnection kept = DedicatedConnection.builder("lp_x", () -> DriverManager.getConnection(url), session)
                .events(recorder).startWait(Duration.ofSeconds(30)).build();
        assertThat(kept.isUp()).isFalse();
        assertThat(setUps).hasValue(0); // nothing connects before start
        kept.start();
        assertThat(kept.isUp()).isTrue();
        assertThat(setUps).hasValue(1);
        assertThat(current.get().getAutoCommit()).isTrue();
        send("hello");
        await().atMost(Duration.ofSeconds(30)).until(() -> heard.contains("hello"));
        kept.close();
        assertThat(kept.isUp()).isFalse();
        assertThat(current.get().isClosed()).isTrue();
        assertThat(events).containsExactly("up");
    }

    @Test
    void aDroppedConnection_isReplaced_andTheProviderIsToldBothTimes() throws Exception {
        try (DedicatedConnection kept = DedicatedConnection.builder("lp_x", () -> DriverManager.getConnection(url), session)
                .events(recorder).backoff(Duration.ofMillis(10), Duration.ofMillis(50)).build()) {
            kept.start();
            Connection first = current.get();
            first.close(); // the session's next poll fails, as after a server restart
            await().atMost(Duration.ofSeconds(30)).until(() -> setUps.get() == 2 && kept.isUp());
            assertThat(current.get()).isNotSameAs(first);
            assertThat(events).containsExactly("up", "down", "up again");
            send("after");
            await().atMost(Duration.ofSeconds(30)).until(() -> heard.contains("after"));
        }
    }

    @Test
    void aServerThatIsNotThere_isRetriedWithBackoff_reportedOnce_andStartGivesUpAfterItsWait() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (DedicatedConnection kept = DedicatedConnection.builder("lp_x", () -> {
            if (attempts.incrementAndGet() < 4) {
                throw new SQLException("Connection refused", "08001");
            }
            return DriverManager.getConnection(url);
        }, session).events(recorder).backoff(Duration.ofMillis(10), Duration.ofMillis(20)).startWait(Duration.ZERO).build()) {
            kept.start(); // does not wait: its wait is zero
            await().atMost(Duration.ofSeconds(30)).until(kept::isUp);
            assertThat(events).containsExactly("down", "still down", "still down", "up again");
        }
    }

    @Test
    void theChore_runsOnTheConnectionAtItsInterval() throws Exception {
        List<Connection> choreConnections = new CopyOnWriteArrayList<>();
        try (DedicatedConnection kept = DedicatedConnection.builder("lp_x", () -> DriverManager.getConnection(url), session)
                .chore(Duration.ofMillis(50), choreConnections::add).pingAfter(Duration.ofMillis(30)).build()) {
            kept.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> choreConnections.size() >= 2);
            assertThat(choreConnections).allMatch(c -> c == current.get());
            assertThat(kept.isUp()).isTrue(); // the pings (isValid) found the connection alive
            assertThat(setUps).hasValue(1);
        }
    }

    @Test
    void aSilentConnectionThatDied_isFoundByThePing_andReplaced() throws Exception {
        AtomicReference<Integer> sessionId = new AtomicReference<>();
        DedicatedConnection.Session silent = new DedicatedConnection.Session() {
            @Override
            public void setUp(Connection c) throws SQLException {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT SESSION_ID()")) {
                    sessionId.set(SqlValues.firstInt(rs));
                }
                setUps.incrementAndGet();
            }

            @Override
            public void poll(Connection c, int millis) {
                try {
                    Thread.sleep(Math.min(millis, 20)); // sends nothing: only the ping can notice the end
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (DedicatedConnection kept = DedicatedConnection.builder("lp_x", () -> DriverManager.getConnection(url), silent)
                .events(recorder).pingAfter(Duration.ofMillis(50)).backoff(Duration.ofMillis(10), Duration.ofMillis(50))
                .build(); Connection admin = DriverManager.getConnection(url); Statement st = admin.createStatement()) {
            kept.start();
            int first = sessionId.get();
            st.execute("CALL ABORT_SESSION(" + first + ")");
            await().atMost(Duration.ofSeconds(30)).until(() -> setUps.get() == 2 && kept.isUp());
            assertThat(sessionId.get()).isNotEqualTo(first);
            assertThat(events).containsExactly("up", "down", "up again");
        }
    }
}
