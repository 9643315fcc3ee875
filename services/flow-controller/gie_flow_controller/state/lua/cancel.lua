-- Cancel a queued request (its caller went away).
-- ARGV: P rid now idle_ms keep_ms
local r = load(ARGV[2])
local now, idle_ms, keep_ms = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if not r or r.state ~= 'queued' then return cjson.encode({status = 'not-queued'}) end
unqueue(r)
local note = finish(r, 'done', 'EvictedContextCancelled', 'cancelled', now, keep_ms)
flow_touch(r.prio, r.fid, now, idle_ms)
return cjson.encode({status = 'cancelled', request = note})
