-- wrk script: the autosave endpoint at saturation, for the exam-day benchmark's floor.
--
--   wrk -t N -c N -s bench/autosave.lua http://127.0.0.1:PORT -- SESSIONS_FILE
--
-- Run with one connection per thread (-t N -c N), so each thread's requests go one after another
-- and the thread can carry the version each save returns into the next save: every save is a real
-- accepted save (200), alternating between two answers of one question. SESSIONS_FILE has one line
-- per thread: attempt id, position, session cookie, CSRF token (tab-separated).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("index", counter)
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(args[1], "r"))
   local lines = {}
   for line in file:lines() do table.insert(lines, line) end
   file:close()
   local fields = {}
   for field in string.gmatch(lines[((index - 1) % #lines) + 1], "[^\t]+") do
      table.insert(fields, field)
   end
   attempt, position, cookie, csrf = fields[1], fields[2], fields[3], fields[4]
   version = 0
   flip = 0
   ok, stale, other = 0, 0, 0
   path = "/attempts/" .. attempt .. "/save"
   headers = {["Content-Type"] = "application/json", ["Cookie"] = cookie,
              ["X-CSRFToken"] = csrf, ["User-Agent"] = "exam-day-floor"}
end

function request()
   flip = 1 - flip
   local body = string.format('{"position": %s, "selected": [%d], "version": %d}',
                              position, flip, version)
   return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
   local v = string.match(body or "", '"version":%s*(%d+)')
   if status == 200 then
      ok = ok + 1
   elseif status == 409 then
      stale = stale + 1
   else
      other = other + 1
   end
   if v then version = tonumber(v) end
end

function done(summary, latency, requests)
   local t_ok, t_stale, t_other = 0, 0, 0
   for _, thread in ipairs(threads) do
      t_ok = t_ok + thread:get("ok")
      t_stale = t_stale + thread:get("stale")
      t_other = t_other + thread:get("other")
   end
   io.write(string.format('AUTOSAVE_STATUS {"ok": %d, "stale": %d, "other": %d}\n',
                          t_ok, t_stale, t_other))
end
