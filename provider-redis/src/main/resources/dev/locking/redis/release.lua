-- Releases locks, hands each freed lock to the first live owner of its queue (see queue.lua), and tells waiters.
-- KEYS: n lock keys, then their n waiter marks, then their n token keys, then per lock its queue and the queue's
--       entries (2n keys, in pairs), then (optionally) the owner's index.
-- ARGV: owner ('' = none), n, and '1' for release (anonymous locks are released too; a lock, queue or token key
--       holding data this provider never writes fails the call) or '0' for releaseAll(owner) (only the owner's
--       locks; a lock with such data at one of its keys is passed over, so foreign data cannot stop an owner's
--       other locks from being released).
-- The channel and the key prefix's length in bytes are written into this text by the provider when it
-- loads the script (LuaScript.forChannel), so they need no arguments.
-- Every listed key leaves the owner's index: after this call none of them is the owner's.
-- A released lock with a live queue entry is never free: in this same step it goes to the first live owner of
-- its queue (new token, that owner's lease), and one grant message per handed lock names lock, owner, token
-- and lease on the channel (see handOff in shared.lua). A lock that is freed keeps its token key
-- $LAST_TOKEN_AFTERLIFE_MS ms more (see acquire.lua), then it is gone.
-- Publishes the names (after the prefix) of the freed locks that someone waits for (their mark exists, see
-- wait.lua), one per line, on the channel; a lock nobody waits for is released without a message.
-- Returns 1 when every lock was released, 0 otherwise. Fails with 'LOCKDATA <i> <what>' (see shared.lua)
-- before writing anything.
-- The common case, one key, comes first, written out, so that it creates no Lua table unless the lock has a queue.
if redis.replicate_commands then
  redis.replicate_commands()
end
local owner = ARGV[1]
local n = tonumber(ARGV[2])
local strict = ARGV[3] == '1'
local index = KEYS[5 * n + 1]

if n == 1 then
  local v = redis.pcall('GET', KEYS[1])
  if type(v) == 'table' then
    if strict then
      return foreign(1)
    end
    v = false
  end
  local mine = v and ((strict and v == '') or (owner ~= '' and v == owner))
  local plan, err
  if mine then
    plan, err = queueOf(4, 3)
    if err then
      if strict then
        return err
      end
      mine = false
    end
  end
  -- The index goes first: SREM on a key of another type fails, and then nothing has been written yet.
  if index and type(redis.pcall('SREM', index, KEYS[1])) == 'table' then
    return foreign(6)
  end
  if not mine then
    return 0
  end
  freeAndTell(1, 2, 3, 4, plan, $CHANNEL, $PREFIX_BYTES)
  return 1
end

local indexErr = index and wrongType(5 * n + 1, 'set')
if indexErr then
  return indexErr
end
-- Per lock to release: its queue's plan (false: no queue).
local plans = {}
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    if strict then
      return foreign(i)
    end
    v = false
  end
  if v and ((strict and v == '') or (owner ~= '' and v == owner)) then
    local plan, err = queueOf(3 * n + 2 * i - 1, 2 * n + i)
    if err then
      if strict then
        return err
      end
    else
      plans[i] = plan
    end
  end
end
local waited = {}
local grants = {}
local all = 1
for i = 1, n do
  local plan = plans[i]
  if plan ~= nil then
    local grant = free(i, 2 * n + i, 3 * n + 2 * i - 1, plan, $PREFIX_BYTES)
    if grant then
      grants[#grants + 1] = grant
    elseif redis.call('EXISTS', KEYS[n + i]) == 1 then
      waited[#waited + 1] = string.sub(KEYS[i], $PREFIX_BYTES + 1)
    end
  else
    all = 0
  end
end
if index then
  for i = 1, n, 1000 do
    redis.call('SREM', index, unpack(KEYS, i, math.min(n, i + 999)))
  end
end
tell($CHANNEL, grants, waited)
return all
