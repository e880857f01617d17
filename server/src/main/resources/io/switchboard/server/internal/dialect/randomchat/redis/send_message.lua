-- Sends a message to a chat (RedisRandomchatStore.sendMessage),
-- after the prelude randomchat.lua (ARGV[1] to [6]).
-- ARGV[7] sender, [8] chat, [9] text.
local by, name, text = ARGV[7], ARGV[8], ARGV[9]
local c, phones = chat(name)
if not c then return err('no_chat') end
if not is_member(name, by) then return err('not_member') end
local s = redis.call('INCR', P .. 'seq')
local e = ARGV[4] .. '\t' .. by .. '\t' .. name .. '\t' .. text
local routes = {}
for _, ph in ipairs(phones) do
  local cs = conns(ph)
  -- In flight until written: a node that dies before leaves it pending.
  if #cs == 0 then keep(ph, e) else route(routes, ph, cs); in_flight(ph, s, e) end
end
return reply({'ok', c[1], c[2], user(by), routes, s})
