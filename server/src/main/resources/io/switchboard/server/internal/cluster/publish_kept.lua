-- Appends a message to a channel's stream and publishes it to every node, numbered, atomically, so
-- offsets are assigned once per publish and every node receives a channel's publishes in offset
-- order (History, RedisStreams). KEYS[1]: the stream's hash (epoch, top); KEYS[2]: its list of
-- envelopes, oldest first (the last HISTORY_SIZE). ARGV: ttl ms, size, an epoch for a new stream,
-- the pub/sub channel, the envelope. Publishes 'K' .. offset .. ' ' .. epoch .. ' ' .. envelope.
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[3]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'top', 0)
  redis.call('DEL', KEYS[2])
end
local top = redis.call('HINCRBY', KEYS[1], 'top', 1)
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], 'K' .. top .. ' ' .. epoch .. ' ' .. ARGV[5])
return top
