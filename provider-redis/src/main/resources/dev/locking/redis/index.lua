-- Reads and keeps an owner's index set (a script, so that it always runs on the master).
-- KEYS: the owner's index set. ARGV: 'members', 'add' or 'remove', lease in ms ('0' = none), lock keys.
-- 'add' keeps the set alive at least as long as the locks it lists. 'members' returns the set; the
-- others return an empty array. Fails with 'LOCKDATA 1 <type>' (see acquire.lua), changing nothing, when the
-- key holds something other than a set.
local index = KEYS[1]
local t = redis.call('TYPE', index)['ok']
if t ~= 'none' and t ~= 'set' then
  return redis.error_reply('LOCKDATA 1 ' .. t)
end
if ARGV[1] == 'members' then
  return redis.call('SMEMBERS', index)
elseif ARGV[1] == 'add' then
  local lease = tonumber(ARGV[2])
  local ttl = redis.call('PTTL', index)
  for i = 3, #ARGV do
    redis.call('SADD', index, ARGV[i])
  end
  if lease == 0 then
    redis.call('PERSIST', index)
  elseif ttl == -2 or (ttl >= 0 and ttl < lease) then
    redis.call('PEXPIRE', index, lease)
  end
else
  for i = 3, #ARGV do
    redis.call('SREM', index, ARGV[i])
  end
end
return {}
