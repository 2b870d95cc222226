-- Deletes lock keys found by SCAN (releaseAll without owner) and tells waiters.
-- KEYS: lock keys. No ARGV: the channel and the prefix length are written in as in release.lua.
-- Returns how many locks were deleted.
local released = {}
for i = 1, #KEYS do
  if redis.call('DEL', KEYS[i]) == 1 then
    released[#released + 1] = string.sub(KEYS[i], $PREFIX_BYTES + 1)
  end
end
if #released > 0 then
  redis.call('PUBLISH', $CHANNEL, table.concat(released, '\n'))
end
return #released
