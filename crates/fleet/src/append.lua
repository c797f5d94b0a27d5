-- Appends a batch of envelopes to the fleet's stream, each atomically with its dedupe claim
-- (the whole script runs atomically: one round trip and one script call for many envelopes).
-- A claim is `SET claim 1 NX EX ttl`: the check and the claim in one command.
-- KEYS[1] the stream, KEYS[2..n+1] the claim key of each envelope, in order.
-- ARGV[1] the claim's lifetime (s), ARGV[2] the back-pressure limit, ARGV[3] the number of
-- fields per entry (3), ARGV[4..6] the field names, then 3 values per envelope, in order.
-- Returns one string, an item per envelope in order, separated by ',': the entry's id
-- (`<ms>-<seq>`) | 'd' (a duplicate) | 'f<entries>' (full); or the error of an XADD that failed
-- (the envelopes before it are appended and claimed, that one is not claimed). One string, not
-- two items per envelope: the reply is one bulk string for Redis to write and the gateway to
-- parse (docs/perf/fleet6.md).

-- Whether stream id a sorts before b ("<ms>-<seq>").
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am < bm end
  return as < bs
end

-- The id right after stream id a.
local function after(a)
  local ms, seq = string.match(a, '^(%d+)-(%d+)$')
  return ms .. '-' .. tostring(tonumber(seq) + 1)
end

-- Trims the entries every consumer group is done with (delivered and acked): those before
-- the oldest still pending, or up to the last delivered when none is pending. Never an
-- entry some group has not handled. Returns the stream's length after.
local function trim_done(stream)
  local keep = nil
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    local upto = after(info['last-delivered-id'])
    if tonumber(info['pending']) > 0 then
      upto = redis.call('XPENDING', stream, info['name'])[2]
    end
    if keep == nil or before(upto, keep) then keep = upto end
  end
  if keep ~= nil then
    redis.call('XTRIM', stream, 'MINID', keep)
  end
  return redis.call('XLEN', stream)
end

local ttl, max = ARGV[1], tonumber(ARGV[2])
if ARGV[3] ~= '3' then
  return redis.error_reply('append.lua takes 3 fields per entry, not ' .. tostring(ARGV[3]))
end
local len = redis.call('XLEN', KEYS[1])
local out, trimmed = {}, false
for e = 1, #KEYS - 1 do
  local claim = KEYS[e + 1]
  if len >= max and not trimmed then
    len, trimmed = trim_done(KEYS[1]), true
  end
  if len >= max then
    -- Full: not claimed (its redelivery is appended once there is room), unless it was
    -- claimed already.
    if redis.call('EXISTS', claim) == 1 then
      out[#out + 1] = 'd'
    else
      out[#out + 1] = 'f' .. tostring(len)
    end
  elseif redis.call('SET', claim, '1', 'NX', 'EX', ttl) then
    -- Claimed in the same command that checked the claim; then the append. If the append
    -- fails, the claim is taken back, so the redelivery is appended, never dropped as a
    -- duplicate of nothing.
    -- The three fields passed as they are: no Lua table per entry (each table and string a
    -- script makes is garbage its collector must walk; see docs/perf/fleet3.md).
    local base = 6 + (e - 1) * 3
    local id = redis.pcall('XADD', KEYS[1], '*', ARGV[4], ARGV[base + 1], ARGV[5], ARGV[base + 2], ARGV[6], ARGV[base + 3])
    if type(id) == 'table' and id.err then
      redis.call('DEL', claim)
      return id
    end
    len = len + 1
    out[#out + 1] = id
  else
    out[#out + 1] = 'd'
  end
end
return table.concat(out, ',')
