-- Admit a request: answer an earlier admission, reject it by a capacity limit, displace
-- lower-priority work to make room under the pool limits, or queue it.
-- ARGV: P rid fid prio bytes tin tout exp cands objective now shards band_max_bytes
--       band_max_reqs pool_max_bytes pool_max_reqs idle_ms keep_ms max_victims
local rid, fid, prio = ARGV[2], ARGV[3], ARGV[4]
local bytes, tin, tout = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local exp, cands, objective, now = tonumber(ARGV[8]), ARGV[9], ARGV[10], tonumber(ARGV[11])
local shards = tonumber(ARGV[12])
local band_max_bytes, band_max_reqs = tonumber(ARGV[13]), tonumber(ARGV[14])
local pool_max_bytes, pool_max_reqs = tonumber(ARGV[15]), tonumber(ARGV[16])
local idle_ms, keep_ms, max_victims = tonumber(ARGV[17]), tonumber(ARGV[18]), tonumber(ARGV[19])

local known = load(rid)
if known then
  return cjson.encode({status = 'existing', request = info(known), state = known.state})
end
local layout = redis.call('HGET', key('meta'), 'shards')
if layout and tonumber(layout) ~= shards then
  return cjson.encode({status = 'layout', shards = tonumber(layout)})
end

local function reject(reason)
  local rk = key('r', rid)
  redis.call('HSET', rk, 'state', 'new', 'fid', fid, 'prio', prio, 'shard', -1, 'bytes', bytes,
    'enq', now)
  local r = load(rid)
  return cjson.encode({status = 'rejected',
    request = finish(r, 'done', 'RejectedCapacity', reason, now, keep_ms)})
end

local band = redis.call('HMGET', key('b', prio), 'bytes', 'reqs')
if num(band[1]) + bytes > band_max_bytes then return reject('band-bytes') end
if num(band[2]) + 1 > band_max_reqs then return reject('band-requests') end

local pool = redis.call('HMGET', key('tot'), 'bytes', 'reqs')
local need_bytes, need_reqs = 0, 0
if pool_max_bytes > 0 then need_bytes = num(pool[1]) + bytes - pool_max_bytes end
if pool_max_reqs > 0 then need_reqs = num(pool[2]) + 1 - pool_max_reqs end
local displaced = {}
if need_bytes > 0 or need_reqs > 0 then
  -- Plan first: lowest band first, newest first; change nothing unless it makes room.
  local victims, freed_bytes, freed_reqs, enough = {}, 0, 0, false
  for _, vprio in ipairs(redis.call('ZRANGEBYSCORE', key('bands'), '-inf', '(' .. prio)) do
    local room = max_victims - #victims
    for _, vrid in ipairs(redis.call('ZREVRANGE', key('b', vprio, 'enq'), 0, room - 1)) do
      victims[#victims + 1] = vrid
      freed_bytes = freed_bytes + num(redis.call('HGET', key('r', vrid), 'bytes'))
      freed_reqs = freed_reqs + 1
      if freed_bytes >= need_bytes and freed_reqs >= need_reqs then enough = true break end
    end
    if enough or #victims >= max_victims then break end
  end
  if not enough then
    if need_bytes > 0 and freed_bytes < need_bytes then return reject('pool-bytes') end
    return reject('pool-requests')
  end
  for _, vrid in ipairs(victims) do
    local v = load(vrid)
    unqueue(v)
    displaced[#displaced + 1] = finish(v, 'done', 'RejectedCapacity', 'displaced', now, keep_ms)
    flow_touch(v.prio, v.fid, now, idle_ms)
  end
end

-- Queue it: on the flow's shard while the flow has queued work, else JSQ-bytes from the
-- flow's home shard (mirrors state/shard_choice.py).
local fk = key('f', prio, fid)
local shard = redis.call('HGET', fk, 'shard')
if not shard then
  local h = 0
  for i = 1, #fid do h = (h * 31 + string.byte(fid, i)) % 2147483647 end
  local start = h % shards
  local best, best_bytes = start, num(redis.call('HGET', key('s', start), 'bytes'))
  for step = 1, shards - 1 do
    local s = (start + step) % shards
    local sb = num(redis.call('HGET', key('s', s), 'bytes'))
    if sb < best_bytes then best, best_bytes = s, sb end
  end
  shard = tostring(best)
  redis.call('HSET', fk, 'shard', shard)
end

local rk = key('r', rid)
redis.call('HSET', rk, 'state', 'queued', 'fid', fid, 'prio', prio, 'shard', shard,
  'bytes', bytes, 'tin', tin, 'tout', tout, 'enq', now, 'exp', exp, 'cands', cands,
  'obj', objective)
redis.call('RPUSH', key('q', prio, fid), rid)
local queued = redis.call('HINCRBY', fk, 'queued', 1)
redis.call('HINCRBY', fk, 'qbytes', bytes)
flow_busy(prio, fid)
if queued == 1 then
  -- Newly backlogged: lift the counter to the band's smallest (no credit for idle time).
  local counter = num(redis.call('HGET', fk, 'vtc'))
  local lowest = redis.call('ZRANGE', key('vtc', prio), 0, 0, 'WITHSCORES')
  local lift = num(redis.call('GET', key('vtc', prio, 'floor')))
  if lowest[1] then lift = tonumber(lowest[2]) end
  if lift > counter then
    counter = lift
    redis.call('HSET', fk, 'vtc', fmt(counter))
  end
  redis.call('ZADD', key('vtc', prio), fmt(counter), fid)
  redis.call('ZADD', key('s', shard, 'b', prio, 'flows'), 0, fid)
  redis.call('ZADD', key('s', shard, 'bands'), prio, prio)
end
redis.call('HINCRBY', key('b', prio), 'reqs', 1)
redis.call('HINCRBY', key('b', prio), 'bytes', bytes)
redis.call('ZADD', key('bands'), prio, prio)
redis.call('ZADD', key('b', prio, 'enq'), now, rid)
redis.call('HINCRBY', key('tot'), 'reqs', 1)
redis.call('HINCRBY', key('tot'), 'bytes', bytes)
redis.call('HINCRBY', key('s', shard), 'reqs', 1)
redis.call('HINCRBY', key('s', shard), 'bytes', bytes)
if exp > 0 then redis.call('ZADD', key('s', shard, 'exp'), exp, rid) end
redis.call('PUBLISH', key('wake'), shard)
return cjson.encode({status = 'queued', shard = tonumber(shard), enq = now,
  displaced = displaced})
