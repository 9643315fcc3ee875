-- Housekeeping: drop in-flight requests past the in-flight TTL, forget flows whose lease
-- expired, prune dead replicas from the membership.
-- ARGV: P now inflight_ttl_ms idle_ms keep_ms limit
local now, ttl, idle_ms = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local keep_ms, limit = tonumber(ARGV[5]), tonumber(ARGV[6])
local stale = redis.call('ZRANGEBYSCORE', key('inflight'), '-inf', '(' .. fmt(now - ttl),
  'LIMIT', 0, limit)
for _, rid in ipairs(stale) do settle(rid, -1, -1, now, idle_ms, keep_ms) end
local gone = redis.call('ZRANGEBYSCORE', key('flows'), '-inf', now, 'LIMIT', 0, limit)
for _, member in ipairs(gone) do
  local bar = string.find(member, '|', 1, true)
  local fk = key('f', string.sub(member, 1, bar - 1), string.sub(member, bar + 1))
  redis.call('DEL', fk)
  redis.call('ZREM', key('flows'), member)
end
redis.call('ZREMRANGEBYSCORE', key('members'), '-inf', now)
return cjson.encode({inflight = #stale, flows = #gone})
