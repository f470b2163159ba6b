-- A realistic Zendesk trigger load: new tickets, updates to Pending,
-- Solved, and duplicate deliveries of recent events. Each wrk thread has its
-- own ticket-number range so threads never race on the same ticket.

local template = [[{"id": "%d", "title": "Printer on fire #%d", "description": "The printer on floor 3 is on fire. Smoke is visible from the corridor.", "via": "Web form", "status": "%s", "priority": "High", "requester_name": "Ada Lovelace", "group_name": "Facilities", "assignee_name": "Grace Hopper", "account": "Example Corp", "link": "https://example.zendesk.com/agent/tickets/%d", "latest_comment": "The printer on floor 3 is on fire. Smoke is visible from the corridor."}]]

local next_id = 0
local created = 0
local path = nil

function init(args)
  path = args[1]
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
  next_id = math.random(1, 100000) * 1000000
  created = next_id
end

-- Recent tickets, far enough back that their Open was answered already.
local function recent()
  local lag = 200
  if next_id - created <= lag then return nil end
  return math.random(created, next_id - lag)
end

function request()
  local roll = math.random(100)
  local id, status = nil, "Open"
  if roll > 40 then id = recent() end
  if id == nil then
    next_id = next_id + 1
    id = next_id
  elseif roll <= 65 then
    status = "Pending"
  elseif roll <= 85 then
    status = "Solved"
  else
    status = "Open" -- a duplicate delivery
  end
  local body = string.format(template, id, id, status, id)
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1000000
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %f, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d}\n',
    summary.requests, seconds, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
