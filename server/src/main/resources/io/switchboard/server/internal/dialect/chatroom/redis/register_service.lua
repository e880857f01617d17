-- Registers a service unless a live node's client holds it (RedisChatroom).
-- KEYS: services hash. ARGV: service, holder, node key prefix.
-- Returns the live holder, or nil once registered.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= ARGV[2] then
  local node = string.match(cur, '^([^\t]*)\t')
  if node and redis.call('EXISTS', ARGV[3] .. node) == 1 then return cur end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return false
