-- One random published event by slug per request (every tenth event is unpublished).
local events = tonumber(os.getenv("BENCH_EVENTS") or "100000")
math.randomseed(os.time())
request = function()
  local n = 10 * math.random(0, events / 10 - 1) + math.random(1, 9)
  return wrk.format("GET", "/api/v1/events/event-" .. n)
end
