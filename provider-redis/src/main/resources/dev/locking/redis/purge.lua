-- Deletes lock keys found by SCAN (releaseAll without owner) and tells waiters.
-- KEYS: lock keys. ARGV: channel, prefix length in bytes.
-- Returns how many locks were deleted.
local skip = tonumber(ARGV[2])
local released = {}
for i = 1, #KEYS do
  if redis.call('DEL', KEYS[i]) == 1 then
    released[#released + 1] = string.sub(KEYS[i], skip + 1)
  end
end
if #released > 0 then
  redis.call('PUBLISH', ARGV[1], table.concat(released, '\n'))
end
return #released
