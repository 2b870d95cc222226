-- Rolls back part of a cluster acquire that could not be completed (keys of other slots conflicted).
-- KEYS: n lock keys, then their n fencing counters.
-- ARGV: owner ('' = anonymous), n, then per lock its token and what to restore: '-3' delete (it was free;
--       only if it still holds this owner and token), '-1' no expiry, or a PTTL in ms (it was re-entered
--       with a lease; put the old expiry back).
-- The channel and the prefix length are written in as in release.lua.
-- Returns the number of locks deleted.
local owner = ARGV[1]
local n = tonumber(ARGV[2])
local released = {}
for i = 1, n do
  local token = ARGV[2 + i]
  local restore = tonumber(ARGV[2 + n + i])
  if redis.call('GET', KEYS[i]) == owner then
    if restore == -3 then
      if redis.call('GET', KEYS[n + i]) == token then
        redis.call('DEL', KEYS[i])
        released[#released + 1] = string.sub(KEYS[i], $PREFIX_BYTES + 1)
      end
    elseif restore == -1 then
      redis.call('PERSIST', KEYS[i])
    else
      redis.call('PEXPIRE', KEYS[i], math.max(restore, 1))
    end
  end
end
if #released > 0 then
  redis.call('PUBLISH', $CHANNEL, table.concat(released, '\n'))
end
return #released
