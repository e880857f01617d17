-- Replaces one node's members in a channel's presence hash with the ones it has now (RedisClusterLink),
-- for a channel whose fields may be stale: a write failed, or members came and went while the node's
-- link was down. KEYS[1]: the hash; ARGV: the node's field prefix (node TAB), ttl ms, then field/value
-- pairs, none when the node has no member left there.
local key, prefix = KEYS[1], ARGV[1]
for _, field in ipairs(redis.call('HKEYS', key)) do
  if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', key, field) end
end
if #ARGV > 2 then
  for i = 3, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
  redis.call('PEXPIRE', key, ARGV[2])
end
return 1
