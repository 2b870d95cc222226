-- Releases locks and tells waiters.
-- KEYS: n lock keys, then their n waiter marks, then (optionally) the owner's index set.
-- ARGV: owner ('' = none), n, anonymous ('1': anonymous locks are released too; '0': only the owner's, as
--       releaseAll(owner) does).
-- The channel and the key prefix's length in bytes are written into this text by the provider when it
-- loads the script (LuaScript.forLayout), so they need no arguments.
-- Every listed key leaves the owner's index: after this call none of them is the owner's.
-- Publishes the names (after the prefix) of the released locks that someone waits for (their mark exists,
-- see wait.lua), one per line, on the channel; a lock nobody waits for is released without a message.
-- Returns 1 when every lock was released, 0 otherwise.
-- The common case, one key, comes first, written out, so that it creates no Lua closure or table.
local owner = ARGV[1]
local n = tonumber(ARGV[2])
local anonymous = ARGV[3] == '1'
local index = KEYS[2 * n + 1]

if n == 1 then
  local v = redis.call('GET', KEYS[1])
  local all = 0
  if v and ((anonymous and v == '') or (owner ~= '' and v == owner)) then
    redis.call('DEL', KEYS[1])
    all = 1
  end
  if index then
    redis.call('SREM', index, KEYS[1])
  end
  if all == 1 and redis.call('GET', KEYS[2]) then
    redis.call('PUBLISH', $CHANNEL, string.sub(KEYS[1], $PREFIX_BYTES + 1))
  end
  return all
end

local waited = {}
local all = 1
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v and ((anonymous and v == '') or (owner ~= '' and v == owner)) then
    redis.call('DEL', KEYS[i])
    if redis.call('GET', KEYS[n + i]) then
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
