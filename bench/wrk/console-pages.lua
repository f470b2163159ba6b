-- The console's incident list (/ui/) at random depths and filters, signed in
-- with a session cookie. Same depths and filters as list-pages.lua.
local cookie = nil
local max_id = 1
local filters = {"", "&status=pending", "&status=resolved", "&source=bench", "&source=bench&status=accepted"}

function init(args)
  max_id = tonumber(args[1])
  cookie = args[2]
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
end

function request()
  local before = math.random(2, max_id)
  local path = string.format("/ui/?before=%d%s", before, filters[math.random(#filters)])
  return wrk.format("GET", path, {["Cookie"] = cookie})
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1000000
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %f, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d}\n',
    summary.requests, seconds, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
