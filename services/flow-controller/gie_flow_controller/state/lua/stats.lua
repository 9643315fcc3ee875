-- Queued requests and bytes per flow of a shard, and the number of live flows.
-- ARGV: P shard
local shard = ARGV[2]
local flows = {}
for _, prio in ipairs(redis.call('ZRANGE', key('s', shard, 'bands'), 0, -1)) do
  for _, fid in ipairs(redis.call('ZRANGE', key('s', shard, 'b', prio, 'flows'), 0, -1)) do
    local f = redis.call('HMGET', key('f', prio, fid), 'queued', 'qbytes')
    flows[#flows + 1] = {fid, tonumber(prio), num(f[1]), num(f[2])}
  end
end
return cjson.encode({flows = flows, live = redis.call('ZCARD', key('flows'))})
