-- A shard's highest backlogged band (flows with their first `window` requests) and the
-- pool's highest backlogged band.
-- ARGV: P shard window
local shard, window = ARGV[2], tonumber(ARGV[3])
local out = {}
local top = redis.call('ZREVRANGE', key('bands'), 0, 0)
if top[1] then out.pool_top = tonumber(top[1]) end
local mine = redis.call('ZREVRANGE', key('s', shard, 'bands'), 0, 0)
if not mine[1] then return cjson.encode(out) end
local prio = mine[1]
out.priority = tonumber(prio)
out.cursor = redis.call('GET', key('s', shard, 'b', prio, 'rr')) or nil
local flows = {}
for _, fid in ipairs(redis.call('ZRANGE', key('s', shard, 'b', prio, 'flows'), 0, -1)) do
  local f = redis.call('HMGET', key('f', prio, fid), 'queued', 'qbytes', 'vtc')
  local items = {}
  for _, rid in ipairs(redis.call('LRANGE', key('q', prio, fid), 0, window - 1)) do
    local r = redis.call('HMGET', key('r', rid), 'enq', 'bytes', 'tin', 'tout', 'exp', 'cands')
    items[#items + 1] = {rid, num(r[1]), num(r[2]), num(r[3]), num(r[4]), num(r[5]), r[6] or '[]'}
  end
  flows[#flows + 1] = {fid = fid, queued = num(f[1]), qbytes = num(f[2]), vtc = f[3] or '0',
    items = items}
end
out.flows = flows
return cjson.encode(out)
