-- Deletes lock keys found by SCAN (releaseAll without owner) and tells waiters.
-- KEYS: n lock keys, then their n token keys. No ARGV: the channel and the prefix length are written in as in
-- release.lua.
-- A key that holds another type than a lock (a string) is not this provider's: it is left alone, and reported.
-- A deleted lock's token key is kept $LAST_TOKEN_AFTERLIFE_MS ms more (see acquire.lua).
-- Returns {how many locks were deleted, how many keys were left alone, their positions, then per deleted lock
-- that had an owner: its position and the owner}, so that the caller can take the locks out of their owners'
-- indexes (which live in other slots of a cluster).
local n = #KEYS / 2
local released = {}
local skipped = {}
local owned = {}
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    skipped[#skipped + 1] = i
  elseif v then
    redis.call('DEL', KEYS[i])
    redis.call('PEXPIRE', KEYS[n + i], $LAST_TOKEN_AFTERLIFE_MS)
    released[#released + 1] = string.sub(KEYS[i], $PREFIX_BYTES + 1)
    if v ~= '' then
      owned[#owned + 1] = i
      owned[#owned + 1] = v
    end
  end
end
if #released > 0 then
  redis.call('PUBLISH', $CHANNEL, table.concat(released, '\n'))
end
local result = {#released, #skipped}
for i = 1, #skipped do
  result[#result + 1] = skipped[i]
end
for i = 1, #owned do
  result[#result + 1] = owned[i]
end
return result
