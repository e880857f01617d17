-- Deletes a chat (RedisRandomchatStore.deleteChat),
-- after the prelude randomchat.lua (ARGV[1] to [6]).
-- ARGV[7] who asks, [8] chat.
local by, name = ARGV[7], ARGV[8]
local c, phones = chat(name)
if not c then return err('no_chat') end
if c[1] ~= by then
  if is_member(name, by) then return err('not_owner_delete') end
  return err('not_member')
end
local routes = notify(phones)
for _, ph in ipairs(phones) do
  redis.call('ZREM', P .. 'chats:' .. ph, name)
  drop_chat_pending(ph, name)
end
redis.call('DEL', P .. 'chat:' .. name, P .. 'members:' .. name)
return reply({'ok', c[1], c[2], false, routes})
