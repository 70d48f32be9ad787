-- wrk script for bench/emulator/run.sh: client-credentials token requests, one POST per request.
--
--   CCG_PATH=/oauth2/token CCG_CLIENT_ID=… CCG_CLIENT_SECRET=… CCG_ENTERPRISE_ID=… \
--     wrk -t1 -c8 -d10s --latency -s ccg.lua http://127.0.0.1:PORT
--
-- Env:
--   CCG_PATH            token endpoint path (default /oauth2/token, Box's)
--   CCG_CLIENT_ID       client_id
--   CCG_CLIENT_SECRET   client_secret (sent in the body: client_secret_post, as Box's SDKs do)
--   CCG_ENTERPRISE_ID   box_subject_id (box_subject_type=enterprise)
--   CCG_BOX_SUBJECT     1 (default) sends box_subject_type/box_subject_id; 0 sends only
--                       grant_type/client_id/client_secret. (oidc-provider drops unknown
--                       parameters without complaint, so the run script sends the same body
--                       to every server.)
--
-- Every response that is not a 200 is counted; done() prints a line
--   CCG_RESULT ok=N non200=N statuses=CODE:N,...
-- (on stdout) which run.sh reads: a run with any non-200 response measured nothing.
-- Socket errors (connect/read/write/timeout) are in wrk's own "Socket errors" line.

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

-- Form-encode a value (the defaults need none of it, but secrets may hold anything).
local function enc(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local path = env("CCG_PATH", "/oauth2/token")
local body = "grant_type=client_credentials"
  .. "&client_id=" .. enc(env("CCG_CLIENT_ID", "boxauthbenchclient00000000000001"))
  .. "&client_secret=" .. enc(env("CCG_CLIENT_SECRET", "boxauthbenchsecret00000000000001"))
if env("CCG_BOX_SUBJECT", "1") ~= "0" then
  body = body .. "&box_subject_type=enterprise&box_subject_id=" .. enc(env("CCG_ENTERPRISE_ID", "12345"))
end

wrk.method = "POST"
wrk.path = path
wrk.body = body
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

-- One request, built once per thread in init() (wrk.host is known only then): wrk sends the
-- same bytes every time.
local req
request = function()
  return req
end

-- Per-thread counters, gathered in done() through the thread objects.
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  req = wrk.format("POST", path, nil, body)
  ok = 0
  non200 = 0
  statuses = {}
end

response = function(status, headers, resp_body)
  if status == 200 then
    ok = ok + 1
  else
    non200 = non200 + 1
    statuses[status] = (statuses[status] or 0) + 1
    if non200 == 1 then
      first_bad = tostring(status) .. " " .. string.sub(resp_body or "", 1, 200)
    end
  end
end

done = function(summary, latency, requests)
  local total_ok, total_bad, by_status, sample = 0, 0, {}, nil
  for _, t in ipairs(threads) do
    total_ok = total_ok + (t:get("ok") or 0)
    total_bad = total_bad + (t:get("non200") or 0)
    local st = t:get("statuses") or {}
    for code, n in pairs(st) do
      by_status[code] = (by_status[code] or 0) + n
    end
    sample = sample or t:get("first_bad")
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, tostring(code) .. ":" .. tostring(n))
  end
  table.sort(parts)
  io.write(string.format("CCG_RESULT ok=%d non200=%d statuses=%s\n",
    total_ok, total_bad, #parts > 0 and table.concat(parts, ",") or "-"))
  if sample then
    io.write("CCG_FIRST_NON200 " .. string.gsub(sample, "\n", " ") .. "\n")
  end
end
