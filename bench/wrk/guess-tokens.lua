-- One client guessing API tokens: every request presents the same wrong
-- bearer token (or the first script argument); done() prints the answers by
-- status. A 401 is a token the host compared; a 429 is one it refused
-- without comparing (docs/security.md, "Guessing tokens").
--
--   wrk -t2 -c4 -d60s -s bench/wrk/guess-tokens.lua http://127.0.0.1:8080/api/v1/incidents
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  wrk.headers["Authorization"] = "Bearer " .. (args[1] or "a-wrong-token-0123456789abcdef")
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d: %d answers, %.1f/s\n", status, count, count / seconds))
  end
end
