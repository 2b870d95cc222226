-- Deletes lock keys found by SCAN (releaseAll without owner) and tells waiters.
-- KEYS: n lock keys, then their n token keys, then per lock its queue and the queue's entries (2n keys, in pairs).
-- No ARGV: the channel and the prefix length are written in as in release.lua.
-- A deleted lock whose queue has a live entry goes to the first live owner of it (see handOff in shared.lua), with
-- one grant message each; a queue that holds data this provider never writes is left alone (its lock is deleted).
-- A key that holds another type than a lock (a string) is not this provider's: it is left alone, and reported.
-- A deleted lock's token key is kept $LAST_TOKEN_AFTERLIFE_MS ms more (see acquire.lua).
-- Returns {how many locks were deleted (freed or handed on), how many keys were left alone, their positions, then
-- per deleted lock that had an owner: its position and the owner}, so that the caller can take the locks out of
-- their owners' indexes (which live in other slots of a cluster).
if redis.replicate_commands then
  redis.replicate_commands()
end
local n = #KEYS / 4
local released = {}
local grants = {}
local skipped = {}
local owned = {}
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    skipped[#skipped + 1] = i
  elseif v then
    freeListed(i, n, grants, released, $PREFIX_BYTES)
    if v ~= '' then
      owned[#owned + 1] = i
      owned[#owned + 1] = v
    end
  end
end
tell($CHANNEL, grants, released)
local result = {#released + #grants, #skipped}
for i = 1, #skipped do
  result[#result + 1] = skipped[i]
end
for i = 1, #owned do
  result[#result + 1] = owned[i]
end
return result
