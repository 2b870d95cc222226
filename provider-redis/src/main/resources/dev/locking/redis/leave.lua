-- Takes an owner out of a lock's queue (leaveQueue): it gave up waiting. If the owner holds the lock (handed to it,
-- or taken by a call whose reply was lost), releases it, which hands it on to the first live owner of the queue
-- as release.lua does. Idempotent.
-- KEYS: the lock, its waiter mark, its token key, its queue and the queue's entries (see queue.lua), then
--       (optionally) the owner's index set.
-- ARGV: owner.
-- The channel and the prefix length are written in as in release.lua.
-- Returns 1 when the owner held the lock (released now), else 0. Fails with 'LOCKDATA <i> <what>' (see
-- shared.lua) before writing anything when a key holds data this provider never writes.
if redis.replicate_commands then
  redis.replicate_commands()
end
local owner = ARGV[1]
local index = KEYS[6]
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
  return foreign(1)
end
local err = wrongQueue(4) or (index and wrongType(6, 'set'))
if err then
  return err
end
local plan
if v == owner then
  plan, err = queueOf(4, 3)
  if err then
    return err
  end
end
if redis.call('HDEL', KEYS[5], owner) == 1 then
  redis.call('LREM', KEYS[4], 1, owner)
  if plan and plan[2] == owner then
    plan = queueOf(4, 3)
  end
end
if index then
  redis.call('SREM', index, KEYS[1])
end
if v ~= owner then
  return 0
end
freeAndTell(1, 2, 3, 4, plan, $CHANNEL, $PREFIX_BYTES)
return 1
