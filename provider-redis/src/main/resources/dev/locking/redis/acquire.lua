-- Takes every lock of one call, or none.
-- KEYS: n lock keys, then their n fencing counters, then (optionally) the owner's index set; so n is
--       #KEYS / 2, rounded down, and the index is there when #KEYS is odd.
-- ARGV: owner ('' = anonymous), lease in ms ('0' = none).
-- Returns {0, i} when lock i is held by someone else (nothing changed), or
-- {1, min PTTL after the call (-1: none expires), n tokens, n prior PTTLs (-3: was free)}, or, when the call
-- has one key and it was free, just its token (an integer, which is cheaper to send and read than an array;
-- the caller knows the rest: the lock's PTTL is the lease, and it was free).
-- The owner's index lives at least as long as the longest lease in it (no expiry while it lists a lock
-- without lease).
-- The lease goes to Redis as the argument string it came in (a Lua number would be formatted anew), and the
-- common case comes first, written out, so that it creates no Lua closure or table.
local owner = ARGV[1]
local lease = ARGV[2]
local leaseMs = tonumber(lease)
local n = math.floor(#KEYS / 2)
local index = KEYS[2 * n + 1]

-- One key that is free: SET NX both checks and takes it.
if n == 1 then
  local taken
  if leaseMs > 0 then
    taken = redis.call('SET', KEYS[1], owner, 'NX', 'PX', lease)
  else
    taken = redis.call('SET', KEYS[1], owner, 'NX')
  end
  if taken then
    local token = redis.call('INCR', KEYS[2])
    if index then
      local indexTtl = redis.call('PTTL', index)
      redis.call('SADD', index, KEYS[1])
      if leaseMs == 0 then
        redis.call('PERSIST', index)
      elseif indexTtl == -2 or (indexTtl >= 0 and indexTtl < leaseMs) then
        redis.call('PEXPIRE', index, lease)
      end
    end
    return token
  end
end

-- Any number of keys, some of them held (by this owner, or the call fails).
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
    if leaseMs > 0 then
      redis.call('PEXPIRE', KEYS[i], lease)
      ttl = leaseMs
    else
      ttl = prior
    end
  else
    prior = -3
    token = redis.call('INCR', KEYS[n + i])
    if leaseMs > 0 then
      redis.call('SET', KEYS[i], owner, 'PX', lease)
      ttl = leaseMs
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
if index then
  local indexTtl = redis.call('PTTL', index)
  for i = 1, n, 1000 do
    redis.call('SADD', index, unpack(KEYS, i, math.min(n, i + 999)))
  end
  if leaseMs == 0 then
    redis.call('PERSIST', index)
  elseif indexTtl == -2 or (indexTtl >= 0 and indexTtl < leaseMs) then
    redis.call('PEXPIRE', index, lease)
  end
end
return result
