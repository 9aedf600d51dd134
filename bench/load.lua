-- wrk script of bench/load.sh: one endpoint per wrk process; every response is checked against
-- the release it says it was read from.
--
--   wrk ... -s bench/load.lua URL -- <name> <kind> <expected>
--
-- kind: items | csv | geojson | plan | changes | releases
-- expected: "1:200000,2:190000" = the total this endpoint must report for each release of the
-- registry (unused by plan and changes).
-- Counted per thread, summed in done(): 5xx, other non-2xx/3xx, inconsistent responses, and the
-- responses served from each release. done() prints one JSON line for load.sh.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  name, kind = args[1], args[2]
  expected = {}
  for number, total in string.gmatch(args[3] or "", "(%d+):(%d+)") do
    expected[tonumber(number)] = tonumber(total)
  end
  s5xx, non_ok, inconsistent, checked = 0, 0, 0, 0
  first_problem = ""
end

local function bad(why)
  inconsistent = inconsistent + 1
  if first_problem == "" then first_problem = why end
end

local function header(headers, wanted)
  for k, v in pairs(headers) do
    if string.lower(k) == wanted then return v end
  end
  return nil
end

-- The release named by Data-Release; nil (and counted) when missing or of another dataset.
local function release_of(headers, dataset)
  local value = header(headers, "data-release")
  local number = value and string.match(value, "^" .. dataset .. "@(%d+)$")
  if not number then
    bad("Data-Release " .. tostring(value) .. " is not " .. dataset .. "@n")
    return nil
  end
  number = tonumber(number)
  -- A global per release: done() reads thread globals, and only scalars cross Lua states.
  local key = "release_" .. number
  _G[key] = (_G[key] or 0) + 1
  return number
end

-- The body's `release` member must name the same release as the header.
local function body_release_matches(body, dataset, number)
  local in_body = string.match(body, '"release":{"dataset":"' .. dataset .. '","number":(%d+)')
  if tonumber(in_body) ~= number then
    bad("body release " .. tostring(in_body) .. " but Data-Release " .. number)
    return false
  end
  return true
end

local function total_matches(headers, number)
  local want = expected[number]
  local got = tonumber(header(headers, "x-total-count"))
  if want == nil then
    bad("release " .. number .. " is not one of the releases this run publishes")
  elseif got ~= want then
    bad("release " .. number .. ": X-Total-Count " .. tostring(got) .. ", expected " .. want)
  end
end

local registry = "registries/bench"

local checks = {
  items = function(headers, body)
    local n = release_of(headers, registry)
    if not n or not body_release_matches(body, registry, n) then return end
    total_matches(headers, n)
    local total = tonumber(string.match(body, '"total":(%d+)'))
    if total ~= expected[n] then bad("release " .. n .. ": body total " .. tostring(total)) end
  end,
  geojson = function(headers, body)
    local n = release_of(headers, registry)
    if not n or not body_release_matches(body, registry, n) then return end
    total_matches(headers, n)
  end,
  csv = function(headers, body)
    local n = release_of(headers, registry)
    if not n then return end
    total_matches(headers, n)
    local _, lines = string.gsub(body, "\n", "")
    local want = math.min(100, expected[n] or 0) + 1
    if lines ~= want then bad("release " .. n .. ": " .. lines .. " CSV lines, expected " .. want) end
  end,
  plan = function(headers, body)
    local n = release_of(headers, "plan")
    if n then body_release_matches(body, "plan", n) end
  end,
  changes = function(headers, body)
    if not string.find(body, '"events":[', 1, true) then bad("change feed without events") end
  end,
  releases = function(headers, body)
    local seen = 0
    for number, rows in string.gmatch(body, '"number":(%d+),"created_at":"[^"]*","row_count":(%d+)') do
      seen = seen + 1
      local want = expected[tonumber(number)]
      if want ~= tonumber(rows) then
        bad("release " .. number .. " lists row_count " .. rows .. ", expected " .. tostring(want))
      end
    end
    if seen == 0 then bad("no release in the release list") end
  end,
}

function response(status, headers, body)
  if status >= 500 then
    s5xx = s5xx + 1
    if first_problem == "" then first_problem = "HTTP " .. status .. ": " .. string.sub(body, 1, 300) end
    return
  end
  if status >= 400 then
    non_ok = non_ok + 1
    if first_problem == "" then first_problem = "HTTP " .. status .. ": " .. string.sub(body, 1, 300) end
    return
  end
  checked = checked + 1
  checks[kind](headers, body)
end

local function json_string(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local t5, tn, ti, tc, first = 0, 0, 0, 0, ""
  local releases = {}
  -- done() runs in wrk's main Lua state: what init() set lives in the threads' states.
  local name, kind = threads[1]:get("name"), threads[1]:get("kind")
  for _, thread in ipairs(threads) do
    t5 = t5 + thread:get("s5xx")
    tn = tn + thread:get("non_ok")
    ti = ti + thread:get("inconsistent")
    tc = tc + thread:get("checked")
    local p = thread:get("first_problem")
    if first == "" and p ~= "" then first = p end
    for r = 1, 20 do
      local count = thread:get("release_" .. r)
      if count then releases[r] = (releases[r] or 0) + count end
    end
  end
  local per_release = {}
  for r, count in pairs(releases) do table.insert(per_release, '"' .. r .. '":' .. count) end
  local e = summary.errors
  io.write(string.format(
    '{"endpoint":%s,"kind":%s,"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"status_errors":%d,'
      .. '"s5xx":%d,"non_ok":%d,"inconsistent":%d,"checked":%d,"by_release":{%s},'
      .. '"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"first_problem":%s}\n',
    json_string(name), json_string(kind), summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    t5, tn, ti, tc, table.concat(per_release, ","),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    json_string(first)))
end
