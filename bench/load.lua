-- wrk script: a mixed workload against tessera on loopback.
--   60% a tile from a small fixed set (cached after the first hit)
--   20% a random z13-15 tile over north-west Syria (uncached: rendered)
--   10% an items query (events by bbox and time, or a layer page)
--   10% an event write: PUT (If-Match: *) of one of the EVENTS events that load.sh created
--        before the run, moved to a new place with new content; a durable write that drops the
--        cached tiles around its old and new position. Rewriting a fixed set keeps the data the
--        same size, so that memory growth means a leak, not more events.
--   (with a WRITE_SHARE other than 0.1, the items queries take what the writes leave; with the
--   MODE "writes", every request is such a write)
-- usage: wrk -t1 -c16 -d180s --latency -s bench/load.lua http://127.0.0.1:PORT -- TOKEN EVENTS [WRITE_SHARE [MODE]]
local token
local events = 500
local write_share = 0.1
local mode = "mixed"
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  token = args[1] or ""
  events = tonumber(args[2] or "500")
  write_share = tonumber(args[3] or "0.1")
  mode = args[4] or "mixed"
  math.randomseed(7000 + (tid or 0))
end

local hot = {
  "/tiles/8/154/100.png", "/tiles/9/308/201.png", "/tiles/12/2466/1605.png", "/tiles/6/38/25.png",
  "/overlays/events/8/154/100.png", "/tiles/10/616/402.mvt", "/tiles/8/153/100@2x.png", "/tiles.json",
}

local function tile_at(z)
  local lon = 35.8 + math.random() * 1.7
  local lat = 35.3 + math.random() * 1.5
  local n = 2 ^ z
  local x = math.floor((lon + 180) / 360 * n)
  local r = math.rad(lat)
  local y = math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
  return z, x, y
end

writes = 0  -- global, so that done() can read it through thread:get

local function write()
  writes = writes + 1
  local id = "load-" .. math.random(0, events - 1)
  local lon = 35.8 + math.random() * 1.7
  local lat = 35.3 + math.random() * 1.5
  local body = string.format(
    '{"type":"Feature","id":"%s","geometry":{"type":"Point","coordinates":[%.5f,%.5f]},' ..
    '"properties":{"time":"2024-03-%02d","kind":"shelling","title":"load test event %d-%d",' ..
    '"killed":%d,"location_precision":"town","sources":["load test"]}}',
    id, lon, lat, math.random(1, 28), tid or 0, writes, math.random(0, 5))
  return wrk.format("PUT", "/collections/events/items/" .. id,
    { ["Content-Type"] = "application/geo+json", ["Authorization"] = "Bearer " .. token, ["If-Match"] = "*" }, body)
end

function request()
  if mode == "writes" then
    return write()
  end
  local p = math.random()
  if p < 0.6 then
    return wrk.format("GET", hot[math.random(#hot)])
  elseif p < 0.8 then
    local z, x, y = tile_at(math.random(13, 15))
    local kinds = { ".png", "@2x.png", ".mvt" }
    local prefix = math.random() < 0.5 and "/tiles/" or "/overlays/events/"
    local ext = prefix == "/tiles/" and kinds[math.random(#kinds)] or ".png"
    return wrk.format("GET", prefix .. z .. "/" .. x .. "/" .. y .. ext)
  elseif p < 1 - write_share then
    if math.random() < 0.5 then
      return wrk.format("GET", "/collections/events/items?bbox=36,35.5,37.2,36.6&datetime=2020-01-01/..&limit=50")
    end
    return wrk.format("GET", "/collections/towns/items?limit=100&offset=" .. math.random(0, 1500))
  else
    return write()
  end
end

statuses = {}  -- global, so that done() can read it through thread:get
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    "LOAD requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f socket_errors=%d non2xx3xx=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  local by_status = {}
  local all_writes = 0
  for _, thread in ipairs(threads) do
    all_writes = all_writes + (thread:get("writes") or 0)
    for status, n in pairs(thread:get("statuses") or {}) do
      by_status[status] = (by_status[status] or 0) + n
    end
  end
  local codes = {}
  for status in pairs(by_status) do table.insert(codes, status) end
  table.sort(codes)
  local parts = {}
  for _, status in ipairs(codes) do table.insert(parts, status .. ":" .. by_status[status]) end
  io.write("LOAD statuses " .. table.concat(parts, " ") .. "\n")
  io.write(string.format("LOAD writes=%d write_rps=%.1f\n", all_writes, all_writes / secs))
end
