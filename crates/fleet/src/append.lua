-- Appends a batch of envelopes to the fleet's stream, each atomically with its dedupe claim
-- (the whole script runs atomically: one round trip and one script call for many envelopes).
-- Claims are members of one set per period of `ttl` seconds (Redis's clock), `<prefix>t:<n>`,
-- which expires as a whole at the end of the next period: the claims of a batch are checked
-- with one SMISMEMBER per set and written with one SADD, instead of a key each with its own
-- TTL. A claim is seen for between ttl and 2 × ttl. The per-event claim keys of older
-- gateways (and of `RedisEventDedupe`), `<prefix>ev:<id>` / `<prefix>env:<id>`, count too.
-- KEYS[1] the stream, KEYS[2..n+1] the (older) claim key of each envelope, in order.
-- ARGV[1] the claim's lifetime (s), ARGV[2] the back-pressure limit, ARGV[3] the claim
-- prefix, ARGV[4] the number of fields per entry (f), ARGV[5..4+f] the field names, then f
-- values per envelope, in order.
-- Returns, per envelope, two items: 'ok', <entry id> | 'dup', '' | 'full', <entries>; or the
-- error of an XADD that failed (the envelopes before it are appended and claimed, that one is
-- not claimed).

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

-- Calls `cmd` on `key` with `items` in slices small enough for Lua's stack (`unpack`);
-- the answers' arrays, concatenated (or their integers, summed).
local function sliced(cmd, key, items)
  local out, sum = {}, 0
  for i = 1, #items, 1000 do
    local args = {}
    for j = i, math.min(i + 999, #items) do args[#args + 1] = items[j] end
    local r
    if key then r = redis.call(cmd, key, unpack(args)) else r = redis.call(cmd, unpack(args)) end
    if type(r) == 'table' then
      for _, v in ipairs(r) do out[#out + 1] = v end
    else
      sum = sum + r
    end
  end
  return out, sum
end

local ttl, max, prefix, f = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local n = #KEYS - 1
local period = math.floor(tonumber(redis.call('TIME')[1]) / ttl)
local current, previous = prefix .. 't:' .. period, prefix .. 't:' .. (period - 1)

-- Every claim of the batch looked up at once: the two periods' sets and the older keys.
local members, olds = {}, {}
for e = 1, n do
  olds[e] = KEYS[e + 1]
  members[e] = string.sub(KEYS[e + 1], #prefix + 1)
end
local in_current = sliced('SMISMEMBER', current, members)
local in_previous = sliced('SMISMEMBER', previous, members)
local _, old_count = sliced('EXISTS', nil, olds)
local taken = {}
local function claimed(e)
  if taken[members[e]] or in_current[e] == 1 or in_previous[e] == 1 then return true end
  return old_count > 0 and redis.call('EXISTS', olds[e]) == 1
end

-- The claims of the envelopes appended, written together (also when an XADD failed: those
-- before it are appended).
local new_claims = {}
local function write_claims()
  if #new_claims > 0 then
    sliced('SADD', current, new_claims)
    redis.call('EXPIREAT', current, (period + 2) * ttl)
  end
end

local len = redis.call('XLEN', KEYS[1])
local out, trimmed = {}, false
for e = 1, n do
  if len >= max and not trimmed then
    len, trimmed = trim_done(KEYS[1]), true
  end
  if claimed(e) then
    out[#out + 1] = 'dup'
    out[#out + 1] = ''
  elseif len >= max then
    -- Full: not claimed, so its redelivery is appended once there is room.
    out[#out + 1] = 'full'
    out[#out + 1] = tostring(len)
  else
    -- Not claimed yet: appended, then claimed with the batch. If the append fails, it is not
    -- claimed, so the redelivery is appended, never dropped as a duplicate of nothing.
    local fields, base = {}, 4 + f + (e - 1) * f
    for i = 1, f do
      fields[#fields + 1] = ARGV[4 + i]
      fields[#fields + 1] = ARGV[base + i]
    end
    local id = redis.pcall('XADD', KEYS[1], '*', unpack(fields))
    if type(id) == 'table' and id.err then
      write_claims()
      return id
    end
    taken[members[e]] = true
    new_claims[#new_claims + 1] = members[e]
    len = len + 1
    out[#out + 1] = 'ok'
    out[#out + 1] = id
  end
end
write_claims()
return out
