-- Adds a member to a chat (RedisRandomchatStore.addMember),
-- after the prelude randomchat.lua (ARGV[1] to [6]).
-- ARGV[7] who asks, [8] chat, [9] the new member, [10] most members, [11] most chats of others.
local by, name, phone, max, maxadded = ARGV[7], ARGV[8], ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
local c, phones = chat(name)
if not c then return err('no_chat') end
if not is_member(name, by) then return err('not_member') end
if is_member(name, phone) then return err('already_member') end
local u = user(phone)
if not u then return err('no_user') end
if #phones >= max then return err('full') end
-- Only chats of others count: the user's own are its own limit's (issue 15).
if redis.call('ZCARD', P .. 'chats:' .. phone) - owned(phone) >= maxadded then return err('too_many_added') end
local s = redis.call('INCR', P .. 'seq')
redis.call('ZADD', P .. 'members:' .. name, s, phone)
redis.call('ZADD', P .. 'chats:' .. phone, s, name)
c, phones = chat(name)
return reply({'ok', c[1], c[2], u, notify(phones)})
