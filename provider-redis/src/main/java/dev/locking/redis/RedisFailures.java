package dev.locking.redis;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCalls;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.redisson.client.RedisException;
import org.redisson.client.RedisNoScriptException;

/**
 * What Redis's and Redisson's failures mean for the SPI: the {@link BackendCalls.Translator} of this provider,
 * and the reading of the errors its scripts raise.
 *
 * <ul>
 *   <li>Redis answered and its ACL refused ({@code NOPERM}, or a script's command refused): a
 *       {@link LockingException} saying "permission denied"; Redis is reachable, retrying will not help.</li>
 *   <li>Redis answered that a key holds another type ({@code WRONGTYPE}, a script error): a
 *       {@link LockingException}.</li>
 *   <li>A script's {@code LOCKDATA <i> <what>} error (see acquire.lua): a {@link LockingException} naming the
 *       lock, token or index and what was found there ({@link #foreignData}).</li>
 *   <li>Anything else: {@link ProviderUnavailableException}.</li>
 * </ul>
 *
 * <p>Messages carry a {@link #reason short reason} (an error code or exception type), never a Redis message,
 * which may quote a command or an address.
 *
 * <p>Concurrency: immutable.
 */
final class RedisFailures implements BackendCalls.Translator {
    /** How a script reports data at its keys that it never writes (see acquire.lua). */
    private static final String FOREIGN_DATA = "LOCKDATA ";

    private final String providerId;
    private final RedisSettings settings;

    RedisFailures(String providerId, RedisSettings settings) {
        this.providerId = providerId;
        this.settings = settings;
    }

    @Override
    public RuntimeException translate(Throwable failure, String operation) {
        Throwable e = unwrap(failure);
        if (e instanceof LockingException locking) {
            return locking;
        }
        String reason = reason(e);
        String message = e.getMessage();
        if (reason.equals("NOPERM") || (e instanceof RedisException && message != null
                && message.startsWith("ERR The user executing the script can't"))) {
            // Redis answered, so it is reachable: its ACL refuses this user a key, channel or command.
            String what = reason.equals("NOPERM") ? reason : "a command of its script";
            return new LockingException(providerId + ": permission denied: Redis refused " + operation + " (" + what
                    + "; the ACL user needs the keys and channel under prefix " + settings.layout.prefix()
                    + " and the commands the provider's README lists)", e);
        }
        if (reason.equals("WRONGTYPE") || (e instanceof RedisException && message != null
                && message.startsWith("ERR") && message.contains("script"))) {
            return new LockingException(providerId + ": Redis rejected " + operation + " (" + reason
                    + "; a key under prefix " + settings.layout.prefix() + " holds data this provider did not write?)",
                    e);
        }
        return new ProviderUnavailableException(providerId + ": Redis did not complete " + operation + " ("
                + settings.description + "; " + reason + ")", e);
    }

    /** Why the client could not be made, as {@link dev.locking.spi.LockingProvider} callers see it. */
    ProviderUnavailableException cannotConnect(RuntimeException e) {
        return new ProviderUnavailableException(providerId + ": cannot connect to Redis (" + settings.description
                + "; " + reason(e) + ")", e);
    }

    /**
     * A script's {@code LOCKDATA <i> <what>} error (it found data it never writes at its key {@code i}, and
     * changed nothing) as a {@link LockingException} that names the lock, token or index and what was found
     * there; any other failure as it is.
     *
     * @param keys the script's keys, as sent
     */
    Throwable foreignData(Throwable error, List<Object> keys) {
        Throwable e = unwrap(error);
        String message = e.getMessage();
        if (!(e instanceof RedisException) || message == null || !message.startsWith(FOREIGN_DATA)) {
            return error;
        }
        String[] parts = message.substring(FOREIGN_DATA.length()).split("[ .]", 3);
        int position;
        try {
            position = Integer.parseInt(parts[0]);
        } catch (NumberFormatException ignored) {
            return error;
        }
        if (position < 1 || position > keys.size() || parts.length < 2) {
            return error;
        }
        String what = switch (parts[1]) {
            case "token" -> "a string that is not a fencing token";
            case "entry" -> "an entry that is not a queue entry of this provider";
            default -> "a " + parts[1];
        };
        return new LockingException(providerId + ": " + settings.layout.describe(keys.get(position - 1).toString())
                + " holds " + what + ", which this provider never writes there; the call changed nothing (remove"
                + " or rename that key, or choose another keyPrefix)", e);
    }

    /** Whether Redis answered {@code NOSCRIPT}: it does not know the script's SHA-1 (yet). */
    static boolean isNoScript(Throwable error) {
        Throwable e = unwrap(error);
        String message = e.getMessage();
        return e instanceof RedisNoScriptException
                || (e instanceof RedisException && message != null && message.startsWith("NOSCRIPT"));
    }

    /**
     * A short reason that is safe to print: the error code Redis answered with (such as {@code NOPERM} or
     * {@code WRONGPASS}), else the exception's type and that of its root cause. Never a message, which may
     * quote a command or an address.
     */
    static String reason(Throwable e) {
        String message = e.getMessage();
        if (e instanceof RedisException && message != null) {
            int end = 0;
            while (end < message.length() && Character.isUpperCase(message.charAt(end))) {
                end++;
            }
            if (end >= 3 && (end == message.length() || message.charAt(end) == ' ')) {
                String code = message.substring(0, end);
                if (!code.equals("ERR")) {
                    return code;
                }
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + " caused by " + root.getClass().getSimpleName();
    }

    private static Throwable unwrap(Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
