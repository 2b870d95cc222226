package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.AcquireOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.postgres.PostgresServer;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** lp_postgres on the application's own PostgreSQL DataSource, against a real server. */
class PostgresDataSourceTest {
    @RegisterExtension
    static final PostgresServer PG = PostgresServer.shared();

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
            AutoConfigurations.of(LockingAutoConfiguration.class, LockingClientsAutoConfiguration.class));

    @Test
    void lpPostgres_usesTheApplicationsDataSource_andItsTableOptions() {
        CountingDataSource dataSource = new CountingDataSource(PG.options());
        runner.withBean(DataSource.class, () -> dataSource)
                .withPropertyValues("spring.datasource.url=" + PG.url(), "locking.providers.postgres.table=spring_locks")
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    locking.acquire("clients:pg", AcquireOptions.builder().ownerId("alice").provider("lp_postgres").build());
                    assertThat(dataSource.connections.get()).as("connections taken from the application's DataSource")
                            .isPositive();
                    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
                            ResultSet rs = st.executeQuery("SELECT count(*) FROM spring_locks")) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(1);
                    }
                    locking.releaseAll(ReleaseAllOptions.builder().ownerId("alice").provider("lp_postgres").build());
                });
    }

    @Test
    void aDataSourceOfAnotherDatabase_isNeverHandedToLpPostgres() {
        CountingDataSource dataSource = new CountingDataSource(PG.options());
        runner.withBean(DataSource.class, () -> dataSource)
                .withPropertyValues("spring.datasource.url=jdbc:h2:mem:orders",
                        "locking.providers.postgres.url=" + PG.url(), "locking.providers.postgres.table=own_locks")
                .withPropertyValues(credentials())
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    locking.acquire("clients:pg2", AcquireOptions.builder().ownerId("bob").provider("lp_postgres").build());
                    assertThat(dataSource.connections.get()).isZero();
                    locking.releaseAll(ReleaseAllOptions.builder().ownerId("bob").provider("lp_postgres").build());
                });
    }

    private static String[] credentials() {
        Map<String, String> options = PG.options();
        return options.entrySet().stream().filter(e -> !e.getKey().equals("url"))
                .map(e -> "locking.providers.postgres." + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
    }

    /** The application's DataSource, counting the connections taken from it. */
    static final class CountingDataSource implements DataSource {
        final AtomicInteger connections = new AtomicInteger();
        private final PGSimpleDataSource target = new PGSimpleDataSource();

        CountingDataSource(Map<String, String> options) {
            target.setURL(options.get("url"));
            if (options.get("user") != null) {
                target.setUser(options.get("user"));
            }
            if (options.get("password") != null) {
                target.setPassword(options.get("password"));
            }
        }

        @Override
        public Connection getConnection() throws SQLException {
            connections.incrementAndGet();
            return target.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            connections.incrementAndGet();
            return target.getConnection(username, password);
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return target.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            target.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            target.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return target.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            return target.unwrap(type);
        }

        @Override
        public boolean isWrapperFor(Class<?> type) throws SQLException {
            return target.isWrapperFor(type);
        }
    }
}
