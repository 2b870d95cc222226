-- Resets the lease of locks held by one owner, only if it holds every one of them.
-- KEYS: n lock keys, then their n token keys, then (optionally) the owner's index set.
-- ARGV: owner, lease in ms, n.
-- Returns 1 when every lock was held by the owner and extended, 0 (nothing changed) otherwise.
-- Fails with 'LOCKDATA <i> <what>' (see acquire.lua) before writing anything when a lock or the index holds
-- data of another type. A token key lives $LAST_TOKEN_AFTERLIFE_MS ms longer than its lock.
local owner = ARGV[1]
local lease = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local index = KEYS[2 * n + 1]
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    return redis.error_reply('LOCKDATA ' .. i .. ' ' .. redis.call('TYPE', KEYS[i])['ok'])
  end
  if v ~= owner then
    return 0
  end
end
if index then
  local t = redis.call('TYPE', index)['ok']
  if t ~= 'none' and t ~= 'set' then
    return redis.error_reply('LOCKDATA ' .. (2 * n + 1) .. ' ' .. t)
  end
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
  if indexTtl == -2 or (indexTtl >= 0 and indexTtl < lease) then
    redis.call('PEXPIRE', index, lease)
  end
end
return 1
