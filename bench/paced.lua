-- wrk script: each connection waits 10 ms between requests, so that 4
-- connections read at most ~400 times a second, below what saturates this
-- machine: the latency of a read as a user makes one, not of a queue.
function delay()
    return 10
end
