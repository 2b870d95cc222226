-- Resets the lease of locks held by one owner, only if it holds every one of them.
-- KEYS: n lock keys, then (optionally) the owner's index set.
-- ARGV: owner, lease in ms, n.
-- Returns 1 when every lock was held by the owner and extended, 0 (nothing changed) otherwise.
local owner = ARGV[1]
local lease = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
for i = 1, n do
  if redis.call('GET', KEYS[i]) ~= owner then
    return 0
  end
end
for i = 1, n do
  redis.call('PEXPIRE', KEYS[i], lease)
end
local index = KEYS[n + 1]
if index then
  local indexTtl = redis.call('PTTL', index)
  for i = 1, n do
    redis.call('SADD', index, KEYS[i])
  end
  if indexTtl == -2 or (indexTtl >= 0 and indexTtl < lease) then
    redis.call('PEXPIRE', index, lease)
  end
end
return 1
