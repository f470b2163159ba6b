-- Pages of the incident list at random depths, with and without filters.
local token = nil
local max_id = 1
local filters = {"", "&status=pending", "&status=resolved", "&source=bench", "&source=bench&status=accepted"}

function init(args)
  max_id = tonumber(args[1])
  token = args[2]
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
end

function request()
  local before = math.random(2, max_id)
  local path = string.format("/api/v1/incidents?limit=50&before=%d%s", before, filters[math.random(#filters)])
  local headers = {}
  if token ~= nil and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1000000
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %f, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d}\n',
    summary.requests, seconds, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
