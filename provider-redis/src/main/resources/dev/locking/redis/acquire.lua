-- Takes every lock of one call, or none.
-- KEYS: n lock keys, then their n token keys, then per lock its queue and the queue's entries (2n keys, in pairs;
--       see queue.lua), then (optionally) the owner's index set; so n is #KEYS / 4, rounded down, and the index is
--       there when #KEYS is odd.
-- ARGV: owner ('' = anonymous), lease in ms ('0' = none).
-- A free lock whose queue has a live entry is not free: the queued owners come first (no barging), so the call
-- answers as if it were held.
-- Returns {0, i} when lock i is held by someone else or queued for (nothing changed), or
-- {1, min PTTL after the call (-1: none expires), n tokens, n prior PTTLs (-3: was free)}, or, when the call
-- has one key and it was free, just its token (an integer, which is cheaper to send and read than an array;
-- the caller knows the rest: the lock's PTTL is the lease, and it was free).
-- Fails with 'LOCKDATA <i> <what>' when KEYS[i] holds data this provider never writes (see shared.lua), before
-- anything is written: such a call changes nothing.
--
-- A new token is the server's clock in microseconds (TIME), or one more than the key's last token if that is
-- higher: tokens rise even when Redis lost the last one (a restart without persistence, a failover), as long as
-- the clock does not step back. The last token is kept while the lock is held and $LAST_TOKEN_AFTERLIFE_MS ms after it
-- ends (a quick re-take within one microsecond still gets a higher token), then it is gone: nothing stays per key.
-- Tokens stay below 2^53, so Lua's numbers hold them exactly; they are written with '%.0f', never as '1.7e+15'.
-- The owner's index lives at least as long as the longest lease in it (no expiry while it lists a lock
-- without lease).
-- The lease goes to Redis as the argument string it came in, and the common case comes first, written out, so
-- that it creates no Lua table.
-- Redis 5 and later replicate a script by its effects anyway, which is what lets it read TIME and then write;
-- before Redis 5 this call asked for it (Redis 7 keeps it as a no-op).
if redis.replicate_commands then
  redis.replicate_commands()
end
local owner = ARGV[1]
local lease = ARGV[2]
local leaseMs = tonumber(lease)
local n = math.floor(#KEYS / 4)
local index = KEYS[4 * n + 1]
local grace = $LAST_TOKEN_AFTERLIFE_MS

local indexErr = index and wrongType(4 * n + 1, 'set')
if indexErr then
  return indexErr
end

-- One key that is free and has no queue: its token checked, then SET NX both checks and takes the lock (a lock key
-- of another type is not free: the general path below reports it; so does a queue).
if n == 1 and redis.call('EXISTS', KEYS[3], KEYS[4]) == 0 then
  local last, err = lastToken(2)
  if err then
    return err
  end
  local taken
  if leaseMs > 0 then
    taken = redis.call('SET', KEYS[1], owner, 'NX', 'PX', lease)
  else
    taken = redis.call('SET', KEYS[1], owner, 'NX')
  end
  if taken then
    local now = redis.call('TIME')
    local token = now[1] * 1000000 + now[2]
    if token <= last then
      token = last + 1
    end
    if leaseMs > 0 then
      redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', leaseMs + grace)
    else
      redis.call('SET', KEYS[2], string.format('%.0f', token))
    end
    if index then
      local indexTtl = redis.call('PTTL', index)
      redis.call('SADD', index, KEYS[1])
      keepIndex(index, indexTtl, leaseMs, lease)
    end
    return token
  end
end

-- Any number of keys, some of them held (by this owner, or the call fails). First every check, then the writes.
local held = {}
local now = serverMicros()
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    return foreign(i)
  end
  if v then
    if owner == '' or v ~= owner then
      return {0, i}
    end
    held[i] = true
  else
    local q = 2 * n + 2 * i - 1
    local err = wrongQueue(q)
    if err then
      return err
    end
    local skip, head = liveHead(q, math.floor(now / 1000))
    if not skip then
      return head
    end
    if head then
      return {0, i}
    end
  end
end
local last = {}
for i = 1, n do
  local token, err = lastToken(n + i)
  if err then
    return err
  end
  last[i] = token
end
local result = {1, -1}
local minTtl = -1
for i = 1, n do
  local ttl
  local prior
  local token
  if held[i] then
    prior = redis.call('PTTL', KEYS[i])
    token = last[i]
    if leaseMs > 0 then
      redis.call('PEXPIRE', KEYS[i], lease)
      redis.call('PEXPIRE', KEYS[n + i], leaseMs + grace)
      ttl = leaseMs
    else
      ttl = prior
    end
  else
    prior = -3
    token = now
    if token <= last[i] then
      token = last[i] + 1
    end
    if leaseMs > 0 then
      redis.call('SET', KEYS[i], owner, 'PX', lease)
      redis.call('SET', KEYS[n + i], string.format('%.0f', token), 'PX', leaseMs + grace)
      ttl = leaseMs
    else
      redis.call('SET', KEYS[i], owner)
      redis.call('SET', KEYS[n + i], string.format('%.0f', token))
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
  keepIndex(index, indexTtl, leaseMs, lease)
end
return result
