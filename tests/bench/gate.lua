-- wrk script for the gate benchmark (tests/bench/gate.py): the same requests for the bare app and
-- the project. Settings come from the environment:
--   SG_MODE   "get" (plain GET of the URL's path) or "scan" (POST the URL's path with a scan body)
--   SG_TOKEN  the station token sent as "Authorization: Bearer" (scan mode)
--   SG_ORDERS how many orders were loaded (codes 48%017d order ids, SF%013d tracking numbers)
--   SG_RUN    a prefix that makes every scan_id of this run distinct from any earlier run's
-- Each scan has its own scan_id (run-thread-counter) and a code drawn at random from the loaded
-- orders, half order ids, half tracking numbers; 10% of the orders are refunded, so ~10% BLOCK.
-- done() prints one line "SGBENCH {json}" that gate.py reads.

local mode = os.getenv("SG_MODE") or "get"
local token = os.getenv("SG_TOKEN") or ""
local orders = tonumber(os.getenv("SG_ORDERS") or "100000")
local run = os.getenv("SG_RUN") or "r"
local threads = {}

function setup(thread)
    thread:set("id", #threads + 1)
    table.insert(threads, thread)
end

function init(_args)
    counter, passes, blocks, others = 0, 0, 0, 0
    math.randomseed(7919 * id)
    headers = { ["Content-Type"] = "application/json" }
    if token ~= "" then
        headers["Authorization"] = "Bearer " .. token
    end
end

function request()
    if mode ~= "scan" then
        return wrk.format("GET")
    end
    counter = counter + 1
    local i = math.random(0, orders - 1)
    local code
    if math.random() < 0.5 then
        code = string.format("48%017d", i)
    else
        code = string.format("SF%013d", i)
    end
    local body = string.format(
        '{"scan_id":"%s-%d-%d","code":"%s","scanned_at":"%s"}',
        run, id, counter, code, os.date("!%Y-%m-%dT%H:%M:%SZ")
    )
    return wrk.format("POST", nil, headers, body)
end

function response(status, _headers, body)
    if status ~= 200 then
        return
    end
    local decision = body:match('"decision":%s*"(%u+)"')
    if decision == "PASS" then
        passes = passes + 1
    elseif decision == "BLOCK" then
        blocks = blocks + 1
    else
        others = others + 1
    end
end

function done(summary, latency, _requests)
    local p, b, o = 0, 0, 0
    for _, thread in ipairs(threads) do
        p = p + thread:get("passes")
        b = b + thread:get("blocks")
        o = o + thread:get("others")
    end
    local e = summary.errors
    io.write(string.format(
        'SGBENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
        '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"pass":%d,"block":%d,"other":%d}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.status, e.timeout, p, b, o
    ))
end
