-- Releases locks and tells waiters.
-- KEYS: n lock keys, then their n waiter marks, then their n token keys, then (optionally) the owner's index.
-- ARGV: owner ('' = none), n, and '1' for release (anonymous locks are released too; a lock key holding
--       another type fails the call) or '0' for releaseAll(owner) (only the owner's locks; a lock key holding
--       another type is passed over, so foreign data cannot stop an owner's other locks from being released).
-- The channel and the key prefix's length in bytes are written into this text by the provider when it
-- loads the script (LuaScript.forLayout), so they need no arguments.
-- Every listed key leaves the owner's index: after this call none of them is the owner's.
-- A released lock's token key is kept $LAST_TOKEN_AFTERLIFE_MS ms more (see acquire.lua), then it is gone.
-- Publishes the names (after the prefix) of the released locks that someone waits for (their mark exists,
-- see wait.lua), one per line, on the channel; a lock nobody waits for is released without a message.
-- Returns 1 when every lock was released, 0 otherwise. Fails with 'LOCKDATA <i> <type>' (see shared.lua)
-- before writing anything.
-- The common case, one key, comes first, written out, so that it creates no Lua table.
local owner = ARGV[1]
local n = tonumber(ARGV[2])
local strict = ARGV[3] == '1'
local index = KEYS[3 * n + 1]

if n == 1 then
  local v = redis.pcall('GET', KEYS[1])
  if type(v) == 'table' then
    if strict then
      return foreign(1)
    end
    v = false
  end
  -- The index goes first: SREM on a key of another type fails, and then nothing has been written yet.
  if index and type(redis.pcall('SREM', index, KEYS[1])) == 'table' then
    return foreign(4)
  end
  local all = 0
  if v and ((strict and v == '') or (owner ~= '' and v == owner)) then
    redis.call('DEL', KEYS[1])
    redis.call('PEXPIRE', KEYS[3], $LAST_TOKEN_AFTERLIFE_MS)
    all = 1
  end
  if all == 1 and redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('PUBLISH', $CHANNEL, string.sub(KEYS[1], $PREFIX_BYTES + 1))
  end
  return all
end

local indexErr = index and wrongType(3 * n + 1, 'set')
if indexErr then
  return indexErr
end
local values = {}
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    if strict then
      return foreign(i)
    end
    v = false
  end
  values[i] = v
end
local waited = {}
local all = 1
for i = 1, n do
  local v = values[i]
  if v and ((strict and v == '') or (owner ~= '' and v == owner)) then
    redis.call('DEL', KEYS[i])
    redis.call('PEXPIRE', KEYS[2 * n + i], $LAST_TOKEN_AFTERLIFE_MS)
    if redis.call('EXISTS', KEYS[n + i]) == 1 then
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
if #waited > 0 then
  redis.call('PUBLISH', $CHANNEL, table.concat(waited, '\n'))
end
return all
