-- Stores a topic's change only if Redis still holds its base version, and publishes it
-- (RedisChatroom). KEYS: topic hash. ARGV: base version, new value, channel, update, new version.
-- Returns 1 if stored.
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[2], 'version', ARGV[5])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
