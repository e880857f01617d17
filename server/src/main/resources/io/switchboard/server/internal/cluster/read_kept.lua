-- Reads a channel's stream (RedisStreams). KEYS[1]: its hash (epoch, top); KEYS[2]: its list of
-- envelopes, oldest first. ARGV: ttl ms, an epoch for a new stream, mode, after, count.
-- A channel without a stream gets one (epoch ARGV[2], top 0), so the epoch answered is the one the
-- next publishes carry. Returns {epoch, top, first offset kept, envelopes...}:
--   mode 'position': no envelopes;
--   mode 'recover':  those after offset 'after', all of them, or none when more than 'count';
--   mode 'since':    those after offset 'after', at most 'count' (0: all);
--   mode 'newest':   the newest 'count' (0: all).
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'top', 0)
  redis.call('DEL', KEYS[2]) -- a list that outlived its hash (evicted) is of another epoch
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local top = tonumber(redis.call('HGET', KEYS[1], 'top'))
local len = redis.call('LLEN', KEYS[2])
local first = top - len + 1
local out = {epoch, top, first}
local mode = ARGV[3]
local after = tonumber(ARGV[4])
local count = tonumber(ARGV[5])
local from, to
if mode == 'position' then
  return out
elseif mode == 'newest' then
  from = 0
  if count > 0 and len > count then from = len - count end
  to = -1
elseif mode == 'recover' then
  if after >= top or top - after > count then return out end
  from = math.max(after + 1 - first, 0)
  to = -1
else
  if after >= top then return out end
  from = math.max(after + 1 - first, 0)
  to = -1
  if count > 0 then to = from + count - 1 end
end
local range = redis.call('LRANGE', KEYS[2], from, to)
for i = 1, #range do out[#out + 1] = range[i] end
-- The offset of the first envelope returned, for the caller to number them.
out[3] = first + from
return out
