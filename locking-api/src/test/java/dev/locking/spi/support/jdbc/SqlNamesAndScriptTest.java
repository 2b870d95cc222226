package dev.locking.spi.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SqlNamesAndScriptTest {

    @Test
    void aUrl_showsHostPortAndDatabase_neverCredentialsOrParameters() {
        assertThat(SqlNames.describeUrl("jdbc:postgresql://127.0.0.1:5432/postgres")).isEqualTo("127.0.0.1:5432/postgres");
        assertThat(SqlNames.describeUrl("jdbc:postgresql://bob:pw@db:5433/app?password=pw&ssl=true")).isEqualTo("db:5433/app");
        assertThat(SqlNames.describeUrl("jdbc:postgresql:app")).isEqualTo("app");
        assertThat(SqlNames.describeUrl("jdbc:mysql://u:pw@db:3306/app?useSSL=true")).isEqualTo("db:3306/app");
        assertThat(SqlNames.describeUrl("jdbc:oracle:thin:scott/tiger@//db:1521/svc")).isEqualTo("db:1521/svc");
        assertThat(SqlNames.describeUrl("jdbc:oracle:thin:@db:1521:orcl")).isEqualTo("db:1521:orcl");
        assertThat(SqlNames.describeUrl("jdbc:sqlserver://db:1433;databaseName=app;password=pw")).isEqualTo("db:1433");
    }

    @Test
    void identifiers_arePlain_andWithinTheirLength() {
        assertThat(SqlNames.plainIdentifier("table", "app_locks_2", 40)).isEqualTo("app_locks_2");
        assertThatThrownBy(() -> SqlNames.plainIdentifier("table", "t".repeat(41), 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("option table").hasMessageContaining("at most 40");
        for (String bad : new String[] {"", "1abc", "a-b", "a\"b", "locks; DROP TABLE x", "é"}) {
            assertThatThrownBy(() -> SqlNames.plainIdentifier("schema", bad, 63)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aScript_isFilledIn_andSplitAtItsSeparator() {
        String text = "CREATE TABLE {T} (k int);\n--//\n\nCREATE FUNCTION {fn:f}() AS $$ SELECT 1; SELECT '{x}' $$;\r\n--//\r\n";
        assertThat(SqlScript.statements(text, Pattern.compile("\\{(T|fn:\\w+)}"),
                p -> p.equals("T") ? "s.locks" : "s.locks_" + p.substring(3), "--//"))
                .containsExactly("CREATE TABLE s.locks (k int);", "CREATE FUNCTION s.locks_f() AS $$ SELECT 1; SELECT '{x}' $$;");
        assertThat(SqlScript.resource(SqlNamesAndScriptTest.class, "script.sql")).contains("SELECT $1");
        assertThatThrownBy(() -> SqlScript.resource(SqlNamesAndScriptTest.class, "missing.sql"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("missing.sql");
    }
}
