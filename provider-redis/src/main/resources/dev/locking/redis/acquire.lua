-- Takes every lock of one call, or none.
-- KEYS: n lock keys, then their n fencing counters, then (optionally) the owner's index set.
-- ARGV: owner ('' = anonymous), lease in ms ('0' = none), n.
-- Returns {0, i} when lock i is held by someone else (nothing changed), or
-- {1, min PTTL after the call (-1: none expires), n tokens, n prior PTTLs (-3: was free)}.
local owner = ARGV[1]
local lease = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local held = {}
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v then
    if owner == '' or v ~= owner then
      return {0, i}
    end
    held[i] = true
  end
end
local result = {1, -1}
local minTtl = -1
for i = 1, n do
  local ttl
  local prior
  local token
  if held[i] then
    prior = redis.call('PTTL', KEYS[i])
    token = tonumber(redis.call('GET', KEYS[n + i]) or '0')
    if lease > 0 then
      redis.call('PEXPIRE', KEYS[i], lease)
      ttl = lease
    else
      ttl = prior
    end
  else
    prior = -3
    token = redis.call('INCR', KEYS[n + i])
    if lease > 0 then
      redis.call('SET', KEYS[i], owner, 'PX', lease)
      ttl = lease
    else
      redis.call('SET', KEYS[i], owner)
      ttl = -1
    end
  end
  if ttl >= 0 and (minTtl < 0 or ttl < minTtl) then
    minTtl = ttl
  end
  result[2 + i] = token
  result[2 + n + i] = prior
end
result[2] = minTtl
local index = KEYS[2 * n + 1]
if index then
  local indexTtl = redis.call('PTTL', index)
  for i = 1, n do
    redis.call('SADD', index, KEYS[i])
  end
  if lease == 0 then
    redis.call('PERSIST', index)
  elseif indexTtl == -2 or (indexTtl >= 0 and indexTtl < lease) then
    redis.call('PEXPIRE', index, lease)
  end
end
return result
