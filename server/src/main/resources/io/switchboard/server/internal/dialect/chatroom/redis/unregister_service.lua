-- Unregisters a service if the holder still holds it (RedisChatroom).
-- KEYS: services hash. ARGV: service, holder.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
