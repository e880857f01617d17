-- Removes a member from a chat, or a member leaves (RedisRandomchatStore.removeMember),
-- after the prelude randomchat.lua (ARGV[1] to [6]). ARGV[7] who asks, [8] chat, [9] the member.
local by, name, phone = ARGV[7], ARGV[8], ARGV[9]
local c, phones = chat(name)
if not c then return err('no_chat') end
if not is_member(name, by) then return err('not_member') end
-- A member may remove itself (leave: issue 15), the owner anyone but itself.
if phone ~= by and c[1] ~= by then return err('not_owner_remove') end
if not is_member(name, phone) then return err('not_a_member') end
if phone == c[1] then return err('owner_stays') end
local routes = notify(phones)
local u = user(phone)
redis.call('ZREM', P .. 'members:' .. name, phone)
redis.call('ZREM', P .. 'chats:' .. phone, name)
drop_chat_pending(phone, name)
c = chat(name)
return reply({'ok', c[1], c[2], u, routes})
