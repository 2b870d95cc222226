-- Reads locks without changing them.
-- KEYS: n lock keys, then (optionally) their n fencing counters. ARGV: n.
-- Returns, per lock: value (nil when free), PTTL (-2 free, -1 no expiry), token (0 without counters).
local n = tonumber(ARGV[1])
local result = {}
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  local token = 0
  if KEYS[n + i] then
    token = tonumber(redis.call('GET', KEYS[n + i]) or '0')
  end
  result[3 * i - 2] = v
  result[3 * i - 1] = redis.call('PTTL', KEYS[i])
  result[3 * i] = token
end
return result
