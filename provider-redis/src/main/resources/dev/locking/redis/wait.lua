-- Looks at locks for a waiter that is about to sleep, and marks each held one as waited for.
-- KEYS: n lock keys, then their n waiter marks. ARGV: how long the marks must last at least, in ms.
-- A release announces a lock only while its mark exists (release.lua), so a mark must outlive the sleep of
-- every waiter that set it: it is extended here, never shortened, and expires by itself.
-- Returns the n locks' PTTLs (-2 free, -1 no expiry). Fails with 'LOCKDATA <i> <type>' (see shared.lua),
-- before setting any mark, when a lock or a mark is not a string.
local n = #KEYS / 2
local ttl = tonumber(ARGV[1])
for i = 1, 2 * n do
  local err = wrongType(i, 'string')
  if err then
    return err
  end
end
local result = {}
for i = 1, n do
  local pttl = redis.call('PTTL', KEYS[i])
  if pttl ~= -2 and redis.call('PTTL', KEYS[n + i]) < ttl then
    redis.call('SET', KEYS[n + i], '1', 'PX', ARGV[1])
  end
  result[i] = pttl
end
return result
