-- Sends a request to the node of the service's live holder (RedisChatroom).
-- KEYS: services hash. ARGV: service, node key prefix, node channel prefix, message.
-- Returns the holder, or nil.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local node = string.match(cur, '^([^\t]*)\t')
if not node or redis.call('EXISTS', ARGV[2] .. node) == 0 then return false end
redis.call('PUBLISH', ARGV[3] .. node, ARGV[4])
return cur
