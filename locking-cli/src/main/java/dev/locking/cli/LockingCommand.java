package dev.locking.cli;

import dev.locking.api.AcquireOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseOptions;
import dev.locking.core.Locking;
import dev.locking.spi.OptionValues;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** The {@code locking} command line. Exit codes: 0 success, 1 the operation failed, 2 bad usage. */
public final class LockingCommand {
    static final String USAGE = """
            Usage: locking <command> [options]

            Commands:
              demo                      ten buyers, five items: first without a lock, then with execute
              providers                 the configured providers and the default
              inspect <key>             who holds a key
              acquire <key>             take a lock (waits only with --wait); prints the lease
              release <key>             release a lock
              bench [--full]            benchmarks against the peer libraries (run by ./locking, see docs/BENCHMARKS.md)

            Options:
              --provider <id>           the provider, e.g. lp_redis (default: the configured default)
              --owner <id>              owner id for acquire/release
              --expire <duration>       lease for acquire, e.g. 30s, 500ms, PT1M (default: never expires)
              --wait <duration>         how long acquire waits for a held key, then fails (default: no wait)

            Providers are configured as in a Java application: locking.properties, LOCKING_* environment
            variables or -D system properties, e.g. LOCKING_PROVIDERS_REDIS_ADDRESS=redis://127.0.0.1:6379""";

    private final PrintStream out;
    private final PrintStream err;

    LockingCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Runs the command.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(new LockingCommand(System.out, System.err).run(args));
    }

    int run(String[] args) {
        Deque<String> rest = new ArrayDeque<>(List.of(args));
        String command = rest.poll();
        if (command == null || command.equals("-h") || command.equals("--help") || command.equals("help")) {
            out.println(USAGE);
            return command == null ? 2 : 0;
        }
        Options options;
        try {
            options = Options.parse(rest);
        } catch (IllegalArgumentException e) {
            err.println("locking: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try (LockingService locking = Locking.create()) {
            return switch (command) {
                case "demo" -> demo(locking, options);
                case "providers" -> providers(locking);
                case "inspect" -> inspect(locking, options);
                case "acquire" -> acquire(locking, options);
                case "release" -> release(locking, options);
                default -> {
                    err.println("locking: unknown command \"" + command + "\"");
                    err.println(USAGE);
                    yield 2;
                }
            };
        } catch (IllegalArgumentException e) {
            err.println("locking: " + e.getMessage());
            return 2;
        } catch (LockingException e) {
            err.println("locking: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("locking: interrupted");
            return 1;
        }
    }

    private int demo(LockingService locking, Options options) throws InterruptedException {
        String provider = options.provider != null ? options.provider : locking.defaultProviderId();
        if (!locking.providerIds().contains(provider)) {
            throw new dev.locking.api.ProviderNotFoundException(provider, locking.providerIds());
        }
        StockDemo demo = new StockDemo(locking, provider, Duration.ofMillis(50));
        out.printf("Locking demo on %s: %d buyers, %d items in stock, each buyer checks the stock,%n"
                + "pays (50 ms), then takes an item.%n%n", provider, StockDemo.BUYERS, StockDemo.ITEMS);
        StockDemo.Outcome unlocked = demo.withoutLock();
        out.printf("  without a lock:   %2d sold, %2d turned away, stock left %3d   <- oversold by %d%n",
                unlocked.sold(), unlocked.turnedAway(), unlocked.stockLeft(), unlocked.oversold());
        StockDemo.Outcome locked = demo.withExecute();
        out.printf("  with execute():   %2d sold, %2d turned away, stock left %3d   <- %s%n",
                locked.sold(), locked.turnedAway(), locked.stockLeft(),
                locked.stockLeft() == 0 && locked.sold() == StockDemo.ITEMS ? "exact" : "WRONG");
        out.printf("%nWith the lock, checking and taking happen as one step per buyer, so exactly %d sell.%n",
                StockDemo.ITEMS);
        return locked.stockLeft() == 0 && locked.sold() == StockDemo.ITEMS ? 0 : 1;
    }

    private int providers(LockingService locking) {
        for (String id : locking.providerIds()) {
            out.println(id + (id.equals(locking.defaultProviderId()) ? "  (default)" : ""));
        }
        return 0;
    }

    private int inspect(LockingService locking, Options options) {
        String key = options.key("inspect");
        Optional<LockInfo> info = locking.inspect(key, options.provider);
        if (info.isEmpty()) {
            out.println("\"" + key + "\" is free");
            return 0;
        }
        LockInfo i = info.get();
        out.printf("\"%s\" is held by %s, %s, fencing token %d%n", i.key(),
                i.ownerId() == null ? "an anonymous holder" : "owner \"" + i.ownerId() + "\"",
                i.expiresAt() == null ? "never expires" : "expires at " + i.expiresAt(), i.fencingToken());
        return 0;
    }

    private int acquire(LockingService locking, Options options) {
        String key = options.key("acquire");
        Lease lease = locking.acquire(key, AcquireOptions.builder().ownerId(options.owner).expire(options.expire)
                .wait(options.wait).provider(options.provider).build());
        out.printf("acquired \"%s\" on %s, fencing token %d, %s%n", key, lease.providerId(),
                lease.fencingTokens().get(key),
                lease.expiresAt() == null ? "never expires" : "expires at " + lease.expiresAt());
        return 0;
    }

    private int release(LockingService locking, Options options) {
        String key = options.key("release");
        boolean released = locking.release(key, ReleaseOptions.builder().ownerId(options.owner)
                .provider(options.provider).build());
        out.println(released ? "released \"" + key + "\"" : "\"" + key + "\" was not released (not held, or held by another owner)");
        return released ? 0 : 1;
    }

    /** The parsed options of one command. */
    static final class Options {
        @Nullable String provider;
        @Nullable String owner;
        @Nullable Duration expire;
        @Nullable Duration wait;
        @Nullable String key;

        static Options parse(Deque<String> args) {
            Options o = new Options();
            while (!args.isEmpty()) {
                String arg = args.poll();
                switch (arg) {
                    case "--provider" -> o.provider = value(args, arg);
                    case "--owner" -> o.owner = value(args, arg);
                    case "--expire" -> o.expire = duration(value(args, arg));
                    case "--wait" -> o.wait = OptionValues.duration("--wait", value(args, arg));
                    default -> {
                        if (arg.startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + arg);
                        }
                        if (o.key != null) {
                            throw new IllegalArgumentException("one key only, got \"" + o.key + "\" and \"" + arg + "\"");
                        }
                        o.key = arg;
                    }
                }
            }
            return o;
        }

        String key(String command) {
            String k = key;
            if (k == null) {
                throw new IllegalArgumentException(command + " needs a key");
            }
            return k;
        }

        private static String value(Deque<String> args, String option) {
            String v = args.poll();
            if (v == null) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return v;
        }

        static Duration duration(String text) {
            return OptionValues.duration("--expire", text);
        }
    }
}
