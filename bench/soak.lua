-- wrk script for bench/soak.sh: random tiles over the region of the default data and around
-- it, zooms 6-14, in every format, so that the tile cache fills and keeps turning over.
--   wrk -t1 -c16 -d600s -s bench/soak.lua http://127.0.0.1:PORT
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  math.randomseed(9100 + (tid or 0))
end

local ends = { ".png", ".png", "@2x.png", ".webp", ".mvt" }

function request()
  local z = math.random(6, 14)
  local lon = 33.0 + math.random() * 9.0
  local lat = 31.5 + math.random() * 7.0
  local n = 2 ^ z
  local x = math.floor((lon + 180) / 360 * n)
  local r = math.rad(lat)
  local y = math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
  return wrk.format("GET", "/tiles/" .. z .. "/" .. x .. "/" .. y .. ends[math.random(#ends)])
end

statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("SOAK tiles requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
