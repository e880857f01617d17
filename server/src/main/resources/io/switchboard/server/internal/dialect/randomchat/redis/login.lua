-- A user logs in (RedisRandomchatStore.login), after the prelude randomchat.lua (ARGV[1] to [6]).
-- ARGV[7] phone, [8] name, [9] the given token's digest or '', [10] a fresh token's digest,
-- [11] '1' when login is open.
local phone, name, given, fresh, open = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local ukey = P .. 'user:' .. phone
local stored = redis.call('HGET', ukey, 'token')
local new = 0
-- An empty token was withdrawn (withdraw_token.lua): the client never learnt it, a new one.
if not stored or stored == '' then
  redis.call('HSET', ukey, 'name', name, 'token', fresh)
  new = 1
else
  -- SHA-256 digests: how fast two differ tells nothing about a token that would match.
  if open ~= '1' then
    if given == '' then return err('token_missing') end
    if given ~= stored then return err('token_wrong') end
  end
  redis.call('HSET', ukey, 'name', name)
end
redis.call('SET', P .. 'alive:' .. NODE, '1', 'PX', ALIVE_MS)
-- Forgets connections of nodes that died: what was on its way to them joins the pending.
conns(phone)
local conn = redis.call('INCR', P .. 'seq')
redis.call('HSET', P .. 'online:' .. phone, NODE .. '\t' .. conn, conn)
local pkey = P .. 'pending:' .. phone
local entries = redis.call('LRANGE', pkey, 0, -1)
redis.call('DEL', pkey)
local taken, ids, senders, from_users = {}, {}, {}, {}
for _, e in ipairs(entries) do
  local date = tonumber(string.match(e, '^([^\t]*)\t'))
  if date and date >= NOW - TTL then
    taken[#taken + 1] = e
    -- In flight until the state is written: a node that dies before leaves them pending.
    local id = redis.call('INCR', P .. 'seq')
    ids[#ids + 1] = id
    in_flight(phone, id, e)
    local from = entry_from(e)
    if not senders[from] then senders[from] = true; from_users[#from_users + 1] = user(from) end
  else
    DROPPED[2] = DROPPED[2] + 1
  end
end
local chats = {}
for _, c in ipairs(redis.call('ZRANGE', P .. 'chats:' .. phone, 0, -1)) do
  local data = chat(c)
  if data then chats[#chats + 1] = {c, data[1], data[2]} end
end
return reply({'ok', conn, new, user(phone), chats, taken, from_users, ids})
