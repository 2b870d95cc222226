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


-- The queue of a lock (see queue.lua): KEYS[q] lists the waiting owners in the order they came, KEYS[q + 1]
-- (the "entries") maps each of them to '<lapse> <lease>': the server time in ms after which its entry is skipped,
-- and the lease in ms it gets when the lock is handed to it. An owner in the list without an entry has lapsed.

-- The server's clock in microseconds since 1970.
local function serverMicros()
  local now = redis.call('TIME')
  return now[1] * 1000000 + now[2]
end

-- The 'LOCKDATA' error when the queue or its entries hold another type than a list and a hash, else nil.
local function wrongQueue(q)
  return wrongType(q, 'list') or wrongType(q + 1, 'hash')
end

-- Reads the queue of a lock without changing it: how many lapsed owners stand at its head, then the first live
-- owner and its lease in ms (nil, 0 when nobody's entry is live); or nil and the 'LOCKDATA' error when an entry
-- is not '<lapse> <lease>'. Assumes wrongQueue(q) passed.
local function liveHead(q, nowMs)
  local i = 0
  while true do
    local owner = redis.call('LINDEX', KEYS[q], i)
    if not owner then
      return i, nil, 0
    end
    local entry = redis.call('HGET', KEYS[q + 1], owner)
    if entry then
      local lapse, lease = string.match(entry, '^(%d+) (%d+)$')
      if not lapse then
        return nil, foreign(q + 1, 'entry')
      end
      if tonumber(lapse) > nowMs then
        return i, owner, tonumber(lease)
      end
    end
    i = i + 1
  end
end

-- Takes the first <count> owners and their entries out of a lock's queue.
local function dropHead(q, count)
  for _ = 1, count do
    local owner = redis.call('LPOP', KEYS[q])
    if owner then
      redis.call('HDEL', KEYS[q + 1], owner)
    end
  end
end

-- Reads the queue of a lock that is about to be freed, before anything is written: false when it has no queue
-- keys; else a plan for handOff, {lapsed owners at the head, first live owner (nil: none), its lease in ms, the
-- server's clock in microseconds, the lock's last token (from token key KEYS[f])}; or nil and the 'LOCKDATA'
-- error when the queue, an entry or the token holds something this provider never writes.
local function queueOf(q, f)
  if redis.call('EXISTS', KEYS[q], KEYS[q + 1]) == 0 then
    return false
  end
  local err = wrongQueue(q)
  if err then
    return nil, err
  end
  local now = serverMicros()
  local skip, head, lease = liveHead(q, math.floor(now / 1000))
  if not skip then
    return nil, head
  end
  local last = 0
  if head then
    last, err = lastToken(f)
    if err then
      return nil, err
    end
  end
  return {skip, head, lease, now, last}
end

-- Hands the lock KEYS[l], just freed, to the first live owner of its queue KEYS[q] as <plan> (from queueOf)
-- found it: drops the lapsed owners before it, and it and its entry; writes the lock for it with its lease and a
-- new token at token key KEYS[f] (the server's clock in microseconds, or one more than the last token). Returns
-- the grant message for the channel, '!<token> <lease ms> <lock key after the prefix><owner>' (the lock key part
-- ends at its first '}', so the owner, which may hold any character, is the rest), or nil when nobody's entry
-- is live. <prefixBytes> is the prefix's length in bytes.
local function handOff(l, f, q, plan, prefixBytes)
  if not plan then
    return nil
  end
  local skip, owner, leaseMs, token, last = plan[1], plan[2], plan[3], plan[4], plan[5]
  if not owner then
    dropHead(q, skip)
    return nil
  end
  dropHead(q, skip + 1)
  if token <= last then
    token = last + 1
  end
  token = string.format('%.0f', token)
  redis.call('SET', KEYS[l], owner, 'PX', leaseMs)
  redis.call('SET', KEYS[f], token, 'PX', leaseMs + $LAST_TOKEN_AFTERLIFE_MS)
  return '!' .. token .. ' ' .. leaseMs .. ' ' .. string.sub(KEYS[l], prefixBytes + 1) .. owner
end

-- Frees the lock KEYS[l] (token key KEYS[f], queue KEYS[q]), handing it on as <plan> (from queueOf) says. Returns
-- the grant message when it went to a queued owner; nil when it is free now (its token key is then kept
-- $LAST_TOKEN_AFTERLIFE_MS ms more), and the caller announces the release to waiters as it does.
local function free(l, f, q, plan, prefixBytes)
  redis.call('DEL', KEYS[l])
  local grant = handOff(l, f, q, plan, prefixBytes)
  if not grant then
    redis.call('PEXPIRE', KEYS[f], $LAST_TOKEN_AFTERLIFE_MS)
  end
  return grant
end

-- Frees one lock as free() does, and tells on <channel>: its grant, or its release when a waiter's mark KEYS[w]
-- exists (see wait.lua).
local function freeAndTell(l, w, f, q, plan, channel, prefixBytes)
  local grant = free(l, f, q, plan, prefixBytes)
  if grant then
    redis.call('PUBLISH', channel, grant)
  elseif redis.call('EXISTS', KEYS[w]) == 1 then
    redis.call('PUBLISH', channel, string.sub(KEYS[l], prefixBytes + 1))
  end
end

-- For scripts whose KEYS are n locks, their n token keys and their n queues with entries (purge, undo): frees
-- lock i as free() does, adding its grant message to <grants> or its name to <released>.
local function freeListed(i, n, grants, released, prefixBytes)
  local q = 2 * n + 2 * i - 1
  local grant = free(i, n + i, q, queueOf(q, n + i), prefixBytes)
  if grant then
    grants[#grants + 1] = grant
  else
    released[#released + 1] = string.sub(KEYS[i], prefixBytes + 1)
  end
end

-- Publishes on <channel> each grant message, then the released locks' names in one message, one per line.
local function tell(channel, grants, released)
  for i = 1, #grants do
    redis.call('PUBLISH', channel, grants[i])
  end
  if #released > 0 then
    redis.call('PUBLISH', channel, table.concat(released, '\n'))
  end
end
