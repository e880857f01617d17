-- The randomchat store in Redis (RedisRandomchatStore): one script per operation, each this prelude
-- followed by its body, so every rule and every pending decision is one atomic step.
-- ARGV[1] key prefix, [2] this node, [3] node liveness ms, [4] now ms, [5] max pending, [6] pending
-- ttl ms; the operation's own arguments from ARGV[7]. Phones and chat names have no control
-- characters, so a tab separates the fields of a pending entry: date, from, chat, text.
-- Every reply ends with how many messages kept for users the script dropped past the pending bound
-- and past the pending TTL (reply(), err()), for the node's metrics.
local P, NODE, ALIVE_MS, NOW = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local MAXP, TTL = tonumber(ARGV[5]), tonumber(ARGV[6])

-- Messages kept for users (pending or in flight) this script dropped: past MAXP, past TTL.
local DROPPED = {0, 0}

local function reply(t)
  t[#t + 1] = DROPPED[1]
  t[#t + 1] = DROPPED[2]
  return t
end

local function err(code) return reply({'err', code}) end

local function user(phone)
  local u = redis.call('HMGET', P .. 'user:' .. phone, 'name', 'disc')
  if not u[1] then return nil end
  return {u[1], phone, u[2] or ''}
end

local function keep(phone, entry)
  local key = P .. 'pending:' .. phone
  local n = redis.call('RPUSH', key, entry)
  if n > MAXP then
    redis.call('LTRIM', key, -MAXP, -1)
    DROPPED[1] = DROPPED[1] + n - MAXP
  end
  redis.call('PEXPIRE', key, TTL)
end

-- What is in flight to the user's connections (RandomchatStore's class comment): the sorted set
-- inflight:<phone>, scored by the message's id, each member 'id TAB entry'.
local function in_flight(phone, id, entry)
  local key = P .. 'inflight:' .. phone
  redis.call('ZADD', key, id, id .. '\t' .. entry)
  DROPPED[1] = DROPPED[1] + redis.call('ZREMRANGEBYRANK', key, 0, -MAXP - 1)
  redis.call('PEXPIRE', key, TTL)
end

local function is_in_flight(phone, id)
  return redis.call('ZCOUNT', P .. 'inflight:' .. phone, id, id) > 0
end

local function settle(phone, id)
  redis.call('ZREMRANGEBYSCORE', P .. 'inflight:' .. phone, id, id)
end

-- The user has no connection left: what was in flight to it is pending, oldest first.
local function strand(phone)
  local key = P .. 'inflight:' .. phone
  local entries = redis.call('ZRANGE', key, 0, -1)
  if #entries == 0 then return end
  redis.call('DEL', key)
  for _, e in ipairs(entries) do keep(phone, string.match(e, '^[^\t]*\t(.*)$')) end
end

-- The user's connections on live nodes, {node, login number}; those of dead nodes are forgotten.
local function conns(phone)
  local key = P .. 'online:' .. phone
  local h = redis.call('HGETALL', key)
  local out = {}
  local forgot = false
  for i = 1, #h, 2 do
    local node = string.match(h[i], '^([^\t]*)\t')
    if node and redis.call('EXISTS', P .. 'alive:' .. node) == 1 then
      out[#out + 1] = {node, tonumber(h[i + 1])}
    else
      redis.call('HDEL', key, h[i])
      forgot = true
    end
  end
  -- The last connections were on a node that died (no logout was recorded): offline from now on,
  -- and what was on its way to them waits for the next login.
  if forgot and #out == 0 and redis.call('EXISTS', P .. 'user:' .. phone) == 1 then
    redis.call('HSET', P .. 'user:' .. phone, 'disc', NOW)
    strand(phone)
  end
  return out
end

-- {owner, members} with members as {name, phone, disc} in the order they joined; and their phones.
local function chat(name)
  local owner = redis.call('HGET', P .. 'chat:' .. name, 'owner')
  if not owner then return nil end
  local phones = redis.call('ZRANGE', P .. 'members:' .. name, 0, -1)
  local members = {}
  for i, ph in ipairs(phones) do members[i] = user(ph) end
  return {owner, members}, phones
end

-- How many of the user's chats it owns (created): only these count against its own limit (issue 15).
local function owned(phone)
  local n = 0
  for _, c in ipairs(redis.call('ZRANGE', P .. 'chats:' .. phone, 0, -1)) do
    if redis.call('HGET', P .. 'chat:' .. c, 'owner') == phone then n = n + 1 end
  end
  return n
end

local function is_member(name, phone)
  return redis.call('ZSCORE', P .. 'members:' .. name, phone) ~= false
end

-- Adds node, phone to routes once per node where the user has a connection.
local function route(routes, phone, cs)
  local seen = {}
  for _, c in ipairs(cs) do
    if not seen[c[1]] then
      seen[c[1]] = true
      routes[#routes + 1] = c[1]
      routes[#routes + 1] = phone
    end
  end
end

local function notify(phones)
  local routes = {}
  for _, ph in ipairs(phones) do route(routes, ph, conns(ph)) end
  return routes
end

local function entry_chat(e) return string.match(e, '^[^\t]*\t[^\t]*\t([^\t]*)\t') end
local function entry_from(e) return string.match(e, '^[^\t]*\t([^\t]*)\t') end

-- Drops what was pending or in flight for the user in the chat.
local function drop_chat_pending(phone, name)
  local key = P .. 'pending:' .. phone
  local entries = redis.call('LRANGE', key, 0, -1)
  local kept = {}
  for _, e in ipairs(entries) do
    if entry_chat(e) ~= name then kept[#kept + 1] = e end
  end
  if #kept ~= #entries then
    redis.call('DEL', key)
    for _, e in ipairs(kept) do redis.call('RPUSH', key, e) end
    if #kept > 0 then redis.call('PEXPIRE', key, TTL) end
  end
  local fkey = P .. 'inflight:' .. phone
  for _, e in ipairs(redis.call('ZRANGE', fkey, 0, -1)) do
    if entry_chat(string.match(e, '^[^\t]*\t(.*)$')) == name then redis.call('ZREM', fkey, e) end
  end
end
