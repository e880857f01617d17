-- Creates a chat (RedisRandomchatStore.createChat),
-- after the prelude randomchat.lua (ARGV[1] to [6]).
-- ARGV[7] owner, [8] chat, [9] most chats a user owns.
local by, name, maxchats = ARGV[7], ARGV[8], tonumber(ARGV[9])
if redis.call('EXISTS', P .. 'chat:' .. name) == 1 then return err('chat_exists') end
if owned(by) >= maxchats then return err('too_many_chats') end
redis.call('HSET', P .. 'chat:' .. name, 'owner', by)
local s = redis.call('INCR', P .. 'seq')
redis.call('ZADD', P .. 'members:' .. name, s, by)
redis.call('ZADD', P .. 'chats:' .. by, s, name)
local c, phones = chat(name)
return reply({'ok', c[1], c[2], user(by), notify(phones)})
