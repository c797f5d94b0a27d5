-- Appends a batch of envelopes to the fleet's stream, each atomically with its dedupe claim
-- (the whole script runs atomically: one round trip and one script call for many envelopes).
-- A claim is `SET claim 1 NX EX ttl`: the check and the claim in one command.
--
-- The bodies (kilobytes each) never pass through this script: every string handed to a script
-- is copied into Lua and hashed byte by byte (docs/perf/fleet4.md). The gateway sends
--   MULTI, EVALSHA <this script>, SET <body key> <body> XX (one per envelope), EXEC
-- so the script runs first, and writes an empty placeholder under the body key of each entry
-- it appends; the `SET … XX` that follows in the same transaction writes the body only where
-- there is a placeholder (a duplicate's or refused envelope's body is written nowhere). The
-- entry names its body key; workers read the bodies with `MGET`; the body keys of trimmed
-- entries are deleted with them (docs/fleet.md).
--
-- KEYS[1] the stream, KEYS[2..n+1] the claim key of each envelope, KEYS[n+2..2n+1] its body
-- key (unique per append), in order.
-- ARGV[1] the claim's lifetime (s), ARGV[2] the back-pressure limit, ARGV[3] the number of
-- fields per entry (3), ARGV[4..6] the field names (the last one names the body key), then 2
-- values per envelope (its envelope id and meta), in order.
-- Returns, per envelope, two items: 'ok', <entry id> | 'dup', '' | 'full', <entries>; or the
-- error of an XADD that failed (the envelopes before it are appended, claimed and have their
-- placeholders; that one is not claimed).

-- Most entries trimmed (and body keys deleted) by one call.
local TRIM_MOST = 2000

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
-- entry some group has not handled. At most TRIM_MOST entries (the stream is at the limit
-- when this runs: fewer than that are enough to make room); their body keys go with them.
-- Returns the stream's length after.
local function trim_done(stream, body_field)
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
    local done = redis.call('XRANGE', stream, '-', '(' .. keep, 'COUNT', TRIM_MOST)
    if #done > 0 then
      local bodies = {}
      for _, entry in ipairs(done) do
        local f = entry[2]
        for i = 1, #f, 2 do
          if f[i] == body_field then bodies[#bodies + 1] = f[i + 1] end
        end
      end
      for i = 1, #bodies, 500 do
        redis.call('UNLINK', unpack(bodies, i, math.min(i + 499, #bodies)))
      end
      if #done == TRIM_MOST then keep = after(done[#done][1]) end
      redis.call('XTRIM', stream, 'MINID', keep)
    end
  end
  return redis.call('XLEN', stream)
end

-- Writes the empty placeholders of the body keys in `keys` (one MSET per 200).
local function placeholders(keys)
  for i = 1, #keys, 200 do
    local args = {}
    for j = i, math.min(i + 199, #keys) do
      args[#args + 1] = keys[j]
      args[#args + 1] = ''
    end
    redis.call('MSET', unpack(args))
  end
end

local ttl, max = ARGV[1], tonumber(ARGV[2])
if ARGV[3] ~= '3' then
  return redis.error_reply('append.lua takes 3 fields per entry, not ' .. tostring(ARGV[3]))
end
local n = (#KEYS - 1) / 2
if n ~= math.floor(n) or #ARGV ~= 6 + 2 * n then
  return redis.error_reply('append.lua takes a claim key and a body key per envelope, and 2 values each')
end
local len = redis.call('XLEN', KEYS[1])
local out, trimmed, written = {}, false, {}
for e = 1, n do
  local claim, body = KEYS[e + 1], KEYS[n + e + 1]
  if len >= max and not trimmed then
    len, trimmed = trim_done(KEYS[1], ARGV[6]), true
  end
  if len >= max then
    -- Full: not claimed (its redelivery is appended once there is room), unless it was
    -- claimed already.
    if redis.call('EXISTS', claim) == 1 then
      out[#out + 1] = 'dup'
      out[#out + 1] = ''
    else
      out[#out + 1] = 'full'
      out[#out + 1] = tostring(len)
    end
  elseif redis.call('SET', claim, '1', 'NX', 'EX', ttl) then
    -- Claimed in the same command that checked the claim; then the append. If the append
    -- fails, the claim is taken back, so the redelivery is appended, never dropped as a
    -- duplicate of nothing.
    local base = 6 + (e - 1) * 2
    local id = redis.pcall('XADD', KEYS[1], '*', ARGV[4], ARGV[base + 1], ARGV[5], ARGV[base + 2], ARGV[6], body)
    if type(id) == 'table' and id.err then
      redis.call('DEL', claim)
      placeholders(written)
      return id
    end
    written[#written + 1] = body
    len = len + 1
    out[#out + 1] = 'ok'
    out[#out + 1] = id
  else
    out[#out + 1] = 'dup'
    out[#out + 1] = ''
  end
end
placeholders(written)
return out
