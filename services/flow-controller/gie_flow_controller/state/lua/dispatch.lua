-- Dispatch one queued request of a shard, fenced by the shard's lease, strict priority
-- and the room the endpoints' metrics showed: at most `slots` requests dispatched since
-- `since` (by any replica) may be in flight (slots < 0: no limit).
-- ARGV: P shard owner rid now win wout keep_ms (the record is kept while in flight)
--       slots since idle_ms (a band's floor and round-robin position outlive its last
--       dispatch by this long, as its flows do: a priority used once leaves no key)
local shard, owner, rid, now = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local win, wout = tonumber(ARGV[6]), tonumber(ARGV[7])
local keep_ms = tonumber(ARGV[8])
local slots, since = tonumber(ARGV[9]), ARGV[10]
local idle_ms = tonumber(ARGV[11])
if redis.call('GET', key('lease', shard)) ~= owner then
  return cjson.encode({status = 'not-owner'})
end
local r = load(rid)
if not r or r.state ~= 'queued' or r.shard ~= shard then return cjson.encode({status = 'gone'}) end
local top = redis.call('ZREVRANGE', key('bands'), 0, 0)
if top[1] and tonumber(top[1]) > tonumber(r.prio) then
  return cjson.encode({status = 'blocked'})
end
if slots >= 0 and redis.call('ZCOUNT', key('inflight'), since, '+inf') >= slots then
  return cjson.encode({status = 'no-room'})
end
local vk = key('vtc', r.prio)
local lowest = redis.call('ZRANGE', vk, 0, 0, 'WITHSCORES')
if lowest[1] then
  local floor_key = key('vtc', r.prio, 'floor')
  if tonumber(lowest[2]) > num(redis.call('GET', floor_key)) then
    redis.call('SET', floor_key, lowest[2], 'PX', idle_ms)
  else
    redis.call('PEXPIRE', floor_key, idle_ms)
  end
end
local charge = win * r.tin + wout * r.tout
local left = unqueue(r)
local fk = key('f', r.prio, r.fid)
local counter = tonumber(redis.call('HINCRBYFLOAT', fk, 'vtc', fmt(charge)))
if left > 0 then redis.call('ZADD', vk, fmt(counter), r.fid) end
redis.call('HINCRBY', fk, 'inflight', 1)
redis.call('SET', key('s', shard, 'b', r.prio, 'rr'), r.fid, 'PX', idle_ms)
redis.call('ZADD', key('inflight'), now, rid)
redis.call('HSET', key('r', rid), 'chg', fmt(charge), 'win', fmt(win), 'wout', fmt(wout))
local note = finish(r, 'dispatched', 'Dispatched', '', now, keep_ms)
-- Kept while in flight: settle (a completion, or collect after the in-flight TTL,
-- whenever a replica runs it) needs the record to free the flow's in-flight count, and
-- then gives it keep_ms.
redis.call('PERSIST', key('r', rid))
return cjson.encode({status = 'dispatched', request = note, charge = charge})
