-- wrk script: POST /api/v1/reservations with a new pending reservation on
-- every request, as moffman-bench's ingest-embedded sends them, spread over
-- the offices given after "--" (comma-separated; default office00):
--
--   wrk -t2 -c32 -d10s --latency -s cmd/moffman-bench/wrk-ingest.lua \
--       http://127.0.0.1:8080 -- prague,brno
--
-- Every body is distinct: the name carries a salt (the second argument,
-- default the clock at start), the thread and a counter, so the event ids
-- (a hash of name, request_dt, start and end) never repeat, even across
-- runs on one store. moffman-bench --wrk runs this script itself and reads
-- the "wrk-json:" line that done() prints.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  offices = {}
  for name in string.gmatch(args[1] or "office00", "[^,]+") do
    table.insert(offices, name)
  end
  salt = args[2] or tostring(os.time() % 1000000)
  wrk.method = "POST"
  wrk.path = "/api/v1/reservations"
  wrk.headers["Content-Type"] = "application/json"
end

local day0 = os.time({year = 2026, month = 1, day = 5, hour = 12})

function request()
  counter = counter + 1
  local n = counter
  local person = (n * 7919) % 2000
  local d = (n * 104729) % 250
  local body = string.format(
    '{"user":{"name":"Person %05d w%s-%d-%d","email":"person%05d@bench.example"},' ..
    '"approved":false,"start":"%s","end":"%s","request_dt":"08:00:00 2025/01/01","office_id":"%s"}',
    person, salt, tid, n, person,
    os.date("!%Y-%m-%d", day0 + d * 86400), os.date("!%Y-%m-%d", day0 + (d + 1) * 86400),
    offices[n % #offices + 1])
  return wrk.format(nil, nil, nil, body)
end

-- done prints the figures as one JSON line; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'wrk-json: {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency:percentile(99.9), latency.max))
end
