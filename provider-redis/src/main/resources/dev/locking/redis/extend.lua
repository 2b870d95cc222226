-- Resets the lease of locks held by one owner, only if it holds every one of them.
-- KEYS: n lock keys, then their n token keys, then (optionally) the owner's index set.
-- ARGV: owner, lease in ms, n.
-- Returns 1 when every lock was held by the owner and extended, 0 (nothing changed) otherwise.
-- Fails with 'LOCKDATA <i> <what>' (see shared.lua) before writing anything when a lock or the index holds
-- data of another type. A token key lives $LAST_TOKEN_AFTERLIFE_MS ms longer than its lock.
local owner = ARGV[1]
local lease = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local index = KEYS[2 * n + 1]
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    return foreign(i)
  end
  if v ~= owner then
    return 0
  end
end
local indexErr = index and wrongType(2 * n + 1, 'set')
if indexErr then
  return indexErr
end
for i = 1, n do
  redis.call('PEXPIRE', KEYS[i], lease)
  redis.call('PEXPIRE', KEYS[n + i], lease + $LAST_TOKEN_AFTERLIFE_MS)
end
if index then
  local indexTtl = redis.call('PTTL', index)
  for i = 1, n do
    redis.call('SADD', index, KEYS[i])
  end
  keepIndex(index, indexTtl, lease, ARGV[2])
end
return 1
