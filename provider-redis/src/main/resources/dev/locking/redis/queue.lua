-- One step of an owner that waits for one lock in the lock's queue (acquireOrQueue): take the lock, or keep a
-- place in its queue.
-- KEYS: the lock, its token key, its queue (a list of owners, in the order they came), the queue's entries (a hash:
--       owner -> '<lapse> <lease>', the server time in ms after which the entry is skipped and the lease in ms the
--       owner gets when the lock is handed to it), then (optionally) the owner's index set.
-- ARGV: owner (never ''), lease in ms, stay in ms (how long the entry lives without another call), the lease in
--       ms of a hand-off to this owner.
-- Returns
--   {1, token, PTTL, 1} when the lock was free and nobody's live entry stood before this owner's: taken with the
--       lease and a new token (see acquire.lua); the owner's entry, if any, is gone;
--   {1, token, PTTL, 0} when the owner holds the lock already (handed to it since its last call, or taken by a call
--       whose reply was lost): its token and expiry as they are (the caller renews it);
--   {0, PTTL, new} otherwise: the owner is queued (new = 1: added at the end; 0: its entry was renewed where it
--       stands), until stay from now by the server's clock; PTTL is the lock's (-2: free).
-- A lock that is free while another owner's live entry heads the queue (its holder's lease ran out) is handed to
-- that owner here, as a release would (see handOff in shared.lua), before this owner queues.
-- The queue and its entries live as long as the longest stay in them. On a server that is not a cluster the
-- owner's index lists the lock from its first queueing on (a grant makes it the owner's), for the stay plus the
-- hand-off's lease at least. The channel and the prefix length are written in as in release.lua.
-- Fails with 'LOCKDATA <i> <what>' (see shared.lua) before writing anything when a key holds data this provider
-- never writes ('entry': an entry that is not '<lapse> <lease>').
if redis.replicate_commands then
  redis.replicate_commands()
end
local owner = ARGV[1]
local lease = ARGV[2]
local leaseMs = tonumber(lease)
local stayMs = tonumber(ARGV[3])
local index = KEYS[5]
local grace = $LAST_TOKEN_AFTERLIFE_MS

local err = wrongType(1, 'string') or wrongQueue(3) or (index and wrongType(5, 'set'))
if err then
  return err
end
local last
last, err = lastToken(2)
if err then
  return err
end
local v = redis.call('GET', KEYS[1])
if v == owner then
  if redis.call('HDEL', KEYS[4], owner) == 1 then
    redis.call('LREM', KEYS[3], 1, owner)
  end
  return {1, last, redis.call('PTTL', KEYS[1]), 0}
end

local now = serverMicros()
local nowMs = math.floor(now / 1000)
local grant
if not v then
  local skip, head, headLease = liveHead(3, nowMs)
  if not skip then
    return head
  end
  if not head or head == owner then
    dropHead(3, skip)
    if redis.call('HDEL', KEYS[4], owner) == 1 then
      redis.call('LREM', KEYS[3], 1, owner)
    end
    local token = now
    if token <= last then
      token = last + 1
    end
    redis.call('SET', KEYS[1], owner, 'PX', lease)
    redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', leaseMs + grace)
    if index then
      local indexTtl = redis.call('PTTL', index)
      redis.call('SADD', index, KEYS[1])
      keepIndex(index, indexTtl, leaseMs, lease)
    end
    return {1, token, leaseMs, 1}
  end
  grant = handOff(1, 2, 3, {skip, head, headLease, now, last}, $PREFIX_BYTES)
end

local new = 0
if redis.call('HSET', KEYS[4], owner, string.format('%.0f', nowMs + stayMs) .. ' ' .. ARGV[4]) == 1 then
  redis.call('RPUSH', KEYS[3], owner)
  new = 1
end
-- Both keys get the same expiry, never shortened: the longest stay in the queue.
local keep = math.max(redis.call('PTTL', KEYS[3]), stayMs)
redis.call('PEXPIRE', KEYS[3], keep)
redis.call('PEXPIRE', KEYS[4], keep)
if index and new == 1 then
  local indexTtl = redis.call('PTTL', index)
  local keep = stayMs + tonumber(ARGV[4])
  redis.call('SADD', index, KEYS[1])
  keepIndex(index, indexTtl, keep, string.format('%.0f', keep))
end
if grant then
  redis.call('PUBLISH', $CHANNEL, grant)
end
return {0, redis.call('PTTL', KEYS[1]), new}
