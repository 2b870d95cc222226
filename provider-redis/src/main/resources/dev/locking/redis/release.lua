-- Releases locks and tells waiters.
-- KEYS: n lock keys, then (optionally) the owner's index set.
-- ARGV: owner ('' = none), n, channel, prefix length in bytes, anonymous ('1': anonymous locks are
--       released too; '0': only the owner's, as releaseAll(owner) does).
-- Every listed key leaves the owner's index: after this call none of them is the owner's.
-- Publishes the released locks' names (after the prefix), one per line, on the channel.
-- Returns 1 when every lock was released, 0 otherwise.
local owner = ARGV[1]
local n = tonumber(ARGV[2])
local channel = ARGV[3]
local skip = tonumber(ARGV[4])
local anonymous = ARGV[5] == '1'
local index = KEYS[n + 1]
local released = {}
local all = 1
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v and ((anonymous and v == '') or (owner ~= '' and v == owner)) then
    redis.call('DEL', KEYS[i])
    released[#released + 1] = string.sub(KEYS[i], skip + 1)
  else
    all = 0
  end
  if index then
    redis.call('SREM', index, KEYS[i])
  end
end
if #released > 0 then
  redis.call('PUBLISH', channel, table.concat(released, '\n'))
end
return all
