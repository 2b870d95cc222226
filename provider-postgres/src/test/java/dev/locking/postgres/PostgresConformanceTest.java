package dev.locking.postgres;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.jdbc.SqlValues;
import dev.locking.tck.LockingProviderConformance;
import dev.locking.tck.TestConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole conformance kit against one PostgreSQL server, with two clients, several JVMs and a dead server. */
class PostgresConformanceTest extends LockingProviderConformance {
    @RegisterExtension
    static final PostgresServer PG = PostgresServer.shared();

    /** This class's table: the kit's releaseAll() tests must not see anybody else's locks. */
    private final String table = "tck_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);

    @AfterAll
    void dropThisClassesTable() throws SQLException {
        PG.drop(table);
    }

    @Override
    protected LockingProvider newProvider(String id) {
        return PG.provider(id, "table", table);
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return PG.provider(id, "table", table);
    }

    @Override
    protected LockingProvider newUnreachableProvider(String id) {
        return new PostgresProviderFactory().create(TestConfig.of(id, "url",
                "jdbc:postgresql://127.0.0.1:" + closedPort() + "/postgres", "connectTimeout", "1s", "timeout", "1s"));
    }

    @Override
    protected InetSocketAddress backendAddress() {
        URI uri = URI.create(PG.url().substring("jdbc:".length()));
        return new InetSocketAddress(uri.getHost(), uri.getPort());
    }

    @Override
    protected LockingProvider newProviderThrough(String id, InetSocketAddress proxy) {
        return new PostgresProviderFactory().create(new TestConfig(id, PG.options("table", table,
                "url", "jdbc:postgresql://" + proxy.getHostString() + ":" + proxy.getPort() + "/postgres",
                "connectTimeout", "1s", "timeout", "1s")));
    }

    /** A lock row whose owner is not UTF-8: no row this provider writes looks like that. */
    @Override
    protected boolean plantForeignData(String key) {
        provider().inspect("warm-up"); // the provider creates its table on first use
        try (Connection c = PG.admin(); PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (lock_key, owner_id, token, expires_at) VALUES (?, '\\xfffe'::bytea, 1, NULL)")) {
            ps.setBytes(1, SqlValues.bytes(key));
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return true;
    }

    @Override
    protected Map<String, String> childJvmProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("locking.default", PROVIDER_ID);
        properties.put("locking.providers.tck.type", PostgresProviderFactory.TYPE);
        PG.options("table", table).forEach((k, v) -> properties.put("locking.providers.tck." + k, v));
        return properties;
    }
}
