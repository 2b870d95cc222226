-- Rolls back part of a cluster acquire that could not be completed (keys of other slots conflicted).
-- KEYS: n lock keys, then their n token keys, then per lock its queue and the queue's entries (2n keys, in pairs).
-- ARGV: owner ('' = anonymous), n, then per lock its token and what to restore: '-3' delete (it was free;
--       only if it still holds this owner and token), '-1' no expiry, or a PTTL in ms (it was re-entered
--       with a lease; put the old expiry back).
-- The channel and the prefix length are written in as in release.lua. A token key lives $LAST_TOKEN_AFTERLIFE_MS ms
-- longer than its lock; a key that holds another type than a lock is left alone.
-- A deleted lock for which an owner queued meanwhile goes to the first live owner of its queue (see handOff in
-- shared.lua), with a grant message; a queue that holds data this provider never writes is left alone.
-- Returns the number of locks deleted.
local owner = ARGV[1]
if redis.replicate_commands then
  redis.replicate_commands()
end
local n = tonumber(ARGV[2])
local released = {}
local grants = {}
for i = 1, n do
  local token = ARGV[2 + i]
  local restore = tonumber(ARGV[2 + n + i])
  if redis.pcall('GET', KEYS[i]) == owner then
    if restore == -3 then
      if redis.pcall('GET', KEYS[n + i]) == token then
        freeListed(i, n, grants, released, $PREFIX_BYTES)
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
tell($CHANNEL, grants, released)
return #released + #grants
