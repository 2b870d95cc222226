package dev.locking.postgres;

import dev.locking.spi.support.jdbc.DedicatedConnection;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL part of the provider's one {@code LISTEN} connection (the toolkit's {@link DedicatedConnection}
 * keeps it open, pings it, reconnects it and runs the sweep on it): after every connect it {@code LISTEN}s to
 * each of its channels, and it hands every payload that arrives to the provider.
 *
 * <p>Concurrency: used by the connection's thread only; its fields are final.
 */
final class NotifyListener implements DedicatedConnection.Session {
    private static final Logger log = LoggerFactory.getLogger(NotifyListener.class);

    private final String providerId;
    private final List<String> channels;
    private final Consumer<String> onPayload;

    /** Listens to {@code channels} (plain identifiers) and hands their payloads to {@code onPayload}. */
    NotifyListener(String providerId, List<String> channels, Consumer<String> onPayload) {
        this.providerId = providerId;
        this.channels = List.copyOf(channels);
        this.onPayload = onPayload;
    }

    @Override
    public void setUp(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET application_name = 'locking " + providerId.replace("'", "''") + " listen'");
            for (String channel : channels) {
                st.execute("LISTEN " + channel);
            }
        }
    }

    @Override
    public void poll(Connection c, int millis) throws SQLException {
        PGNotification[] notifications = c.unwrap(PGConnection.class).getNotifications(millis);
        if (notifications == null) {
            return;
        }
        for (PGNotification n : notifications) {
            try {
                onPayload.accept(n.getParameter());
            } catch (RuntimeException e) {
                log.warn("{}: ignored a notification it could not read ({})", providerId, e.toString());
            }
        }
    }
}
