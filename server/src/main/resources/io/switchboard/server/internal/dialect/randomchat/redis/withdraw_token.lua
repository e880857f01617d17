-- Withdraws a token the client never learnt (RedisRandomchatStore.withdrawToken),
-- after the prelude randomchat.lua (ARGV[1] to [6]).
-- ARGV[7] phone, [8] the token's digest.
local ukey = P .. 'user:' .. ARGV[7]
if redis.call('HGET', ukey, 'token') == ARGV[8] then redis.call('HSET', ukey, 'token', '') end
return reply({'ok'})
