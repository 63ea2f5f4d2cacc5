-- POST /events: each event with its own eid; every 10th request re-fires an earlier one.
local bearer = os.getenv("XT_BEARER")
local counter = 0
local run = os.getenv("XT_RUN") or "0"
local headers = { ["Authorization"] = "Bearer " .. bearer, ["Content-Type"] = "application/json" }

request = function()
  counter = counter + 1
  local n = counter
  if n % 10 == 0 then n = n - 5 end
  local body = '{"event":"deposit","uid":"u' .. (n % 5000) .. '","value":"25.00","eid":"tx-' .. run .. '-' .. n .. '"}'
  return wrk.format("POST", "/events", headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "non2xx": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "sent": %d}\n',
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), counter))
end
