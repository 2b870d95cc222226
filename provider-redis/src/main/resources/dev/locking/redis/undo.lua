-- Rolls back part of a cluster acquire that could not be completed (keys of other slots conflicted).
-- KEYS: n lock keys, then their n token keys.
-- ARGV: owner ('' = anonymous), n, then per lock its token and what to restore: '-3' delete (it was free;
--       only if it still holds this owner and token), '-1' no expiry, or a PTTL in ms (it was re-entered
--       with a lease; put the old expiry back).
-- The channel and the prefix length are written in as in release.lua. A token key lives $LAST_TOKEN_AFTERLIFE_MS ms
-- longer than its lock; a key that holds another type than a lock is left alone.
-- Returns the number of locks deleted.
local owner = ARGV[1]
local n = tonumber(ARGV[2])
local released = {}
for i = 1, n do
  local token = ARGV[2 + i]
  local restore = tonumber(ARGV[2 + n + i])
  if redis.pcall('GET', KEYS[i]) == owner then
    if restore == -3 then
      if redis.pcall('GET', KEYS[n + i]) == token then
        redis.call('DEL', KEYS[i])
        redis.call('PEXPIRE', KEYS[n + i], $LAST_TOKEN_AFTERLIFE_MS)
        released[#released + 1] = string.sub(KEYS[i], $PREFIX_BYTES + 1)
      end
    elseif restore == -1 then
      redis.call('PERSIST', KEYS[i])
      redis.call('PERSIST', KEYS[n + i])
    else
      redis.call('PEXPIRE', KEYS[i], math.max(restore, 1))
      redis.call('PEXPIRE', KEYS[n + i], math.max(restore, 1) + $LAST_TOKEN_AFTERLIFE_MS)
    end
  end
end
if #released > 0 then
  redis.call('PUBLISH', $CHANNEL, table.concat(released, '\n'))
end
return #released
