-- Creates a topic unless it exists or the topics are at their bound (RedisChatroom).
-- KEYS: topic hash, topics set. ARGV: type, empty value, max topics, name.
-- Returns type, value, version; {} when full.
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {} end
  redis.call('HSET', KEYS[1], 'type', ARGV[1], 'value', ARGV[2], 'version', '0')
  redis.call('SADD', KEYS[2], ARGV[4])
end
return redis.call('HMGET', KEYS[1], 'type', 'value', 'version')
