-- Reads locks without changing them.
-- KEYS: n lock keys, then (optionally) their n token keys. ARGV: n.
-- Returns, per lock: value (nil when free), PTTL (-2 free, -1 no expiry), token (0 without token keys).
-- Fails with 'LOCKDATA <i> <what>' (see shared.lua) when a key holds data this provider never writes.
local n = tonumber(ARGV[1])
local result = {}
for i = 1, n do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    return foreign(i)
  end
  local token = 0
  if KEYS[n + i] then
    local err
    token, err = lastToken(n + i)
    if err then
      return err
    end
  end
  result[3 * i - 2] = v
  result[3 * i - 1] = redis.call('PTTL', KEYS[i])
  result[3 * i] = token
end
return result
