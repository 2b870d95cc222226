-- Shared by the lock scripts: LuaScript puts this text before every script when it loads it (a Redis script
-- cannot include another). It only defines local functions, so it writes nothing and changes no reply.
--
-- A script never writes over data it did not write itself: before its first write it checks every key it
-- touches and fails with 'LOCKDATA <i> <what>' when KEYS[i] holds something else (<what>: the type found, or
-- 'token' for a token key that holds no token). RedisFailures turns that error into a message naming the key.

-- The 'LOCKDATA' error for KEYS[i]; <what> defaults to the key's type.
local function foreign(i, what)
  return redis.error_reply('LOCKDATA ' .. i .. ' ' .. (what or redis.call('TYPE', KEYS[i])['ok']))
end

-- The 'LOCKDATA' error when KEYS[i] exists with another type than <expected>, else nil.
local function wrongType(i, expected)
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t ~= 'none' and t ~= expected then
    return foreign(i, t)
  end
  return nil
end

-- The last token kept at token key KEYS[i], 0 when there is none; or nil and the 'LOCKDATA' error when the
-- key holds something that is not a token. Tokens are whole numbers from 0 to below 2^53, which Lua's
-- numbers hold exactly.
local function lastToken(i)
  local f = redis.pcall('GET', KEYS[i])
  if not f then
    return 0
  end
  local token = tonumber(f)
  if not token or token < 0 or token >= 9007199254740992 or token ~= math.floor(token) then
    return nil, foreign(i, type(f) ~= 'table' and 'token' or nil)
  end
  return token
end

-- Keeps an owner's index alive at least as long as the locks just added to it: no expiry for locks without
-- lease (<leaseMs> 0), else at least <lease> ms (the same lease as text, as it came in). <ttlBefore>
-- is the index's PTTL before the locks were added (-2: it did not exist).
local function keepIndex(index, ttlBefore, leaseMs, lease)
  if leaseMs == 0 then
    redis.call('PERSIST', index)
  elseif ttlBefore == -2 or (ttlBefore >= 0 and ttlBefore < leaseMs) then
    redis.call('PEXPIRE', index, lease)
  end
end

