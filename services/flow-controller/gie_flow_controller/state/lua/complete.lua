-- A dispatched request completed (RequestCompleted); -1 tokens = not reported.
-- ARGV: P rid tin tout now idle_ms keep_ms
return settle(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]),
  tonumber(ARGV[6]), tonumber(ARGV[7]))
