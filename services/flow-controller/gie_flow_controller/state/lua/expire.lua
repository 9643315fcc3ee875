-- Evict the queued requests of a shard whose TTL passed.
-- ARGV: P shard now limit idle_ms keep_ms
local shard, now, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local idle_ms, keep_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local evicted = {}
local due = redis.call('ZRANGEBYSCORE', key('s', shard, 'exp'), '-inf', now, 'LIMIT', 0, limit)
for _, rid in ipairs(due) do
  local r = load(rid)
  if r and r.state == 'queued' then
    unqueue(r)
    evicted[#evicted + 1] = finish(r, 'done', 'EvictedTTL', 'ttl', now, keep_ms)
    flow_touch(r.prio, r.fid, now, idle_ms)
  else
    redis.call('ZREM', key('s', shard, 'exp'), rid)
  end
end
return cjson.encode({evicted = evicted})
