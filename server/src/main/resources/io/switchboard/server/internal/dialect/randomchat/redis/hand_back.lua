-- A connection hands back what it did not write: at logout, or one message to route again
-- (RedisRandomchatStore.logout and requeue), after the prelude randomchat.lua (ARGV[1] to [6]).
-- ARGV[7] phone, [8] the connection, '' for a requeue, [9] the seqs it delivered lately, comma
-- separated, then seq, id and entry of each message handed back.
local phone, conn, delivered = ARGV[7], ARGV[8], ARGV[9]
-- RandomchatStore.DELIVERED_WINDOW_MILLIS: RedisRandomchatStore checks at load that they agree.
local DELIVERED_MS = 60000
-- What this connection delivered lately: a message another connection of the user hands
-- back after this one closed is not kept when this one got it.
local gkey = P .. 'delivered:' .. phone
if delivered ~= '' then
  for seq in string.gmatch(delivered, '[^,]+') do redis.call('SADD', gkey, seq) end
  redis.call('PEXPIRE', gkey, DELIVERED_MS)
end
if conn ~= '' then redis.call('HDEL', P .. 'online:' .. phone, NODE .. '\t' .. conn) end
local cs = conns(phone)
if conn ~= '' and #cs == 0 then redis.call('HSET', P .. 'user:' .. phone, 'disc', ARGV[4]) end
local oldest = nil
for _, c in ipairs(cs) do if not oldest or c[2] < oldest then oldest = c[2] end end
local again = {}
for i = 10, #ARGV, 3 do
  local seq, id, e = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2]
  local name = entry_chat(e)
  -- A connection online at its routing still is: it got it, or hands it back itself. Not
  -- in flight any more: a connection of the user wrote it, or it is pending already.
  if not (oldest and oldest < seq) and is_in_flight(phone, id) then
    if redis.call('SISMEMBER', gkey, ARGV[i]) == 1 or not is_member(name, phone) then
      settle(phone, id)
    elseif #cs == 0 then
      settle(phone, id)
      keep(phone, e)
    else
      local routes = {}
      route(routes, phone, cs)
      local data = chat(name)
      again[#again + 1] = {e, redis.call('INCR', P .. 'seq'), tonumber(id), data[1], data[2],
        user(entry_from(e)), routes}
    end
  end
end
-- The user's last connection closed: what is still in flight to it waits for the next login.
if conn ~= '' and #cs == 0 then strand(phone) end
return reply({'ok', again})
