-- Prints wrk's summary as one JSON line (used for GET benchmarks).
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "non2xx": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
