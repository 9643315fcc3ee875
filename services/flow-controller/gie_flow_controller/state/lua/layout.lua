-- Record the shard count; refuse a different one while requests are queued.
-- ARGV: P shards
local shards = ARGV[2]
local current = redis.call('HGET', key('meta'), 'shards')
if current and current ~= shards and num(redis.call('HGET', key('tot'), 'reqs')) > 0 then
  return cjson.encode({ok = false, current = tonumber(current)})
end
redis.call('HSET', key('meta'), 'shards', shards)
return cjson.encode({ok = true})
