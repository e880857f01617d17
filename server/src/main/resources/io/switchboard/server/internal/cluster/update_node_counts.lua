-- Changes this node's hash and announces it, atomically, so a hash read and the control messages
-- never disagree (RedisClusterLink). KEYS[1]: the hash; ARGV: ttl ms, seq, control channel,
-- message, 1 to replace the hash, then channel/count pairs (count 0 removes the channel).
-- '\1seq' is the field of the node's seq: channel names cannot hold control characters.
local key = KEYS[1]
if ARGV[5] == '1' then redis.call('DEL', key) end
for i = 6, #ARGV, 2 do
  if ARGV[i + 1] == '0' then redis.call('HDEL', key, ARGV[i])
  else redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
end
redis.call('HSET', key, '\1seq', ARGV[2])
redis.call('PEXPIRE', key, ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
