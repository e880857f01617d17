-- Messages a connection wrote are no longer in flight (RedisRandomchatStore.delivered),
-- after the prelude randomchat.lua (ARGV[1] to [6]). ARGV[7] phone, then the messages' ids.
for i = 8, #ARGV do settle(ARGV[7], ARGV[i]) end
return reply({'ok'})
