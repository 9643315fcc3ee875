-- Shared prelude of every flow-state script (prepended to each).
--
-- KEYS[1] is the pool's meta key: every key of a pool carries the hash tag {gie:<pool>},
-- so all of them live in one slot and a script may touch any of them. ARGV[1] is the key
-- prefix "{gie:<pool>}:fc:"; the other keys are built from it:
--   r:<rid>                     hash   a request (state, flow, shard, sizes, times, outcome);
--                                      no expiry while dispatched and in flight
--   q:<prio>:<fid>              list   a flow's queue of request ids, in arrival order
--   f:<prio>:<fid>              hash   a flow: queued, qbytes, inflight, vtc, shard
--   flows                       zset   "<prio>|<fid>" -> lease expiry (+inf while busy)
--   b:<prio>                    hash   a band's queued bytes and reqs (pool-wide)
--   b:<prio>:enq                zset   a band's queued request ids by enqueue time
--   bands                       zset   bands with queued requests (score = priority)
--   tot                         hash   the pool's queued bytes and reqs
--   vtc:<prio>                  zset   a band's backlogged flows by virtual token counter
--   vtc:<prio>:floor            string the counter a returning flow is lifted to when no
--                                      flow of the band is backlogged
--   s:<n>                       hash   a shard's queued bytes and reqs
--   s:<n>:bands                 zset   bands with queued requests on the shard
--   s:<n>:b:<prio>:flows        zset   backlogged flows of a band on the shard (lexical)
--   s:<n>:b:<prio>:rr           string fairness id served last (round-robin cursor)
--   s:<n>:exp                   zset   queued request ids by expiry time
--   inflight                    zset   dispatched request ids by dispatch time (also the
--                                      pool-wide room check of dispatch)
--   lease:<n>                   string the replica owning shard n (PX expiry)
--   members                     zset   live replicas by heartbeat expiry
--   meta                        hash   shard layout
-- Channels: outcomes (a finished request, JSON), wake (a shard with new work).
local P = ARGV[1]
local function key(...) return P .. table.concat({...}, ':') end
local function num(v)
  if not v then return 0 end
  return tonumber(v) or 0
end
local function fmt(x) return string.format('%.17g', x) end

local function load(rid)
  local v = redis.call('HMGET', key('r', rid), 'state', 'fid', 'prio', 'shard', 'bytes', 'enq',
    'tin', 'tout', 'exp', 'outcome', 'reason', 'fin')
  if not v[1] then return nil end
  return {rid = rid, state = v[1], fid = v[2], prio = v[3], shard = v[4], bytes = num(v[5]),
    enq = num(v[6]), tin = num(v[7]), tout = num(v[8]), exp = num(v[9]),
    outcome = v[10] or '', reason = v[11] or '', fin = num(v[12])}
end

local function info(r)
  return {rid = r.rid, fid = r.fid, prio = tonumber(r.prio), shard = tonumber(r.shard),
    outcome = r.outcome, reason = r.reason, enq = r.enq, fin = r.fin}
end

-- The flow is busy (something queued or in flight): its lease does not run.
local function flow_busy(prio, fid)
  redis.call('PERSIST', key('f', prio, fid))
  redis.call('ZADD', key('flows'), '+inf', prio .. '|' .. fid)
end

-- The flow may have gone idle: if so its lease runs for idle_ms from now.
local function flow_touch(prio, fid, now, idle_ms)
  local fk = key('f', prio, fid)
  local f = redis.call('HMGET', fk, 'queued', 'inflight')
  if num(f[1]) <= 0 and num(f[2]) <= 0 then
    local until_ms = now + idle_ms
    if redis.call('EXISTS', fk) == 1 then redis.call('PEXPIREAT', fk, fmt(until_ms)) end
    redis.call('ZADD', key('flows'), fmt(until_ms), prio .. '|' .. fid)
  end
end

-- Take a queued request out of every queue and total; returns what its flow has left.
local function unqueue(r)
  local fid, prio, shard, bytes = r.fid, r.prio, r.shard, r.bytes
  -- 0 - bytes, not -bytes: a request of 0 bytes would send -0, which Redis 7.0
  -- refuses as an increment (Valkey takes it).
  local minus = 0 - bytes
  local fk = key('f', prio, fid)
  redis.call('LREM', key('q', prio, fid), 1, r.rid)
  local left = redis.call('HINCRBY', fk, 'queued', -1)
  redis.call('HINCRBY', fk, 'qbytes', minus)
  local bk = key('b', prio)
  local band_left = redis.call('HINCRBY', bk, 'reqs', -1)
  redis.call('HINCRBY', bk, 'bytes', minus)
  redis.call('ZREM', key('b', prio, 'enq'), r.rid)
  if band_left <= 0 then
    redis.call('DEL', bk)
    redis.call('ZREM', key('bands'), prio)
  end
  redis.call('HINCRBY', key('tot'), 'reqs', -1)
  redis.call('HINCRBY', key('tot'), 'bytes', minus)
  redis.call('HINCRBY', key('s', shard), 'reqs', -1)
  redis.call('HINCRBY', key('s', shard), 'bytes', minus)
  redis.call('ZREM', key('s', shard, 'exp'), r.rid)
  if left <= 0 then
    local members = key('s', shard, 'b', prio, 'flows')
    redis.call('ZREM', members, fid)
    if redis.call('ZCARD', members) == 0 then redis.call('ZREM', key('s', shard, 'bands'), prio) end
    redis.call('ZREM', key('vtc', prio), fid)
    redis.call('HDEL', fk, 'shard')
  end
  return left
end

-- Record the request's outcome, keep the record keep_ms, and announce it.
local function finish(r, state, outcome, reason, now, keep_ms)
  local rk = key('r', r.rid)
  redis.call('HSET', rk, 'state', state, 'outcome', outcome, 'reason', reason, 'fin', now)
  redis.call('PEXPIREAT', rk, fmt(now + keep_ms))
  r.state, r.outcome, r.reason, r.fin = state, outcome, reason, now
  local note = info(r)
  redis.call('PUBLISH', key('outcomes'), cjson.encode(note))
  return note
end

-- A dispatched request is done: leave the in-flight set; with usage (>= 0) correct the
-- flow's counter by what the request really cost.
local function settle(rid, tin, tout, now, idle_ms, keep_ms)
  local rk = key('r', rid)
  local v = redis.call('HMGET', rk, 'state', 'fid', 'prio', 'chg', 'win', 'wout', 'cmp', 'tin', 'tout')
  redis.call('ZREM', key('inflight'), rid)
  if v[1] ~= 'dispatched' or v[7] then return 0 end
  redis.call('HSET', rk, 'cmp', 1)
  redis.call('PEXPIREAT', rk, fmt(now + keep_ms))
  local fid, prio = v[2], v[3]
  local fk = key('f', prio, fid)
  if redis.call('EXISTS', fk) == 0 then return 1 end
  if redis.call('HINCRBY', fk, 'inflight', -1) < 0 then redis.call('HSET', fk, 'inflight', 0) end
  if tin >= 0 or tout >= 0 then
    if tin < 0 then tin = num(v[8]) end
    if tout < 0 then tout = num(v[9]) end
    local delta = num(v[5]) * tin + num(v[6]) * tout - num(v[4])
    local counter = tonumber(redis.call('HINCRBYFLOAT', fk, 'vtc', fmt(delta)))
    if redis.call('ZSCORE', key('vtc', prio), fid) then
      redis.call('ZADD', key('vtc', prio), fmt(counter), fid)
    end
  end
  flow_touch(prio, fid, now, idle_ms)
  return 1
end
