-- Shard leases and membership. ARGV: P op shard-or-member owner ttl_ms now
local op, target, owner, ttl, now = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
if op == 'claim' then
  if redis.call('SET', key('lease', target), owner, 'NX', 'PX', ttl) then return 1 end
  return 0
elseif op == 'renew' then
  if redis.call('GET', key('lease', target)) == owner then
    redis.call('PEXPIRE', key('lease', target), ttl)
    return 1
  end
  return 0
elseif op == 'release' then
  if redis.call('GET', key('lease', target)) == owner then
    redis.call('DEL', key('lease', target))
    return 1
  end
  return 0
elseif op == 'heartbeat' then
  redis.call('ZADD', key('members'), fmt(now + ttl), target)
  redis.call('ZREMRANGEBYSCORE', key('members'), '-inf', now)
  return redis.call('ZCARD', key('members'))
end
return redis.error_reply('unknown lease op ' .. op)
