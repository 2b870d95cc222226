-- Reads and keeps an owner's index set (a script, so that it always runs on the master).
-- KEYS: the owner's index set. ARGV: 'members', 'add' or 'remove', lease in ms ('0' = none), lock keys.
-- 'add' keeps the set alive at least as long as the locks it lists. 'members' returns the set; the
-- others return an empty array. Fails with 'LOCKDATA 1 <type>' (see shared.lua), changing nothing, when the
-- key holds something other than a set.
local index = KEYS[1]
local err = wrongType(1, 'set')
if err then
  return err
end
if ARGV[1] == 'members' then
  return redis.call('SMEMBERS', index)
elseif ARGV[1] == 'add' then
  local ttl = redis.call('PTTL', index)
  for i = 3, #ARGV do
    redis.call('SADD', index, ARGV[i])
  end
  keepIndex(index, ttl, tonumber(ARGV[2]), ARGV[2])
else
  for i = 3, #ARGV do
    redis.call('SREM', index, ARGV[i])
  end
end
return {}
