-- Appends one envelope to the fleet's stream, atomically with its dedupe claim.
-- KEYS[1] the stream, KEYS[2] the event's claim key.
-- ARGV[1] the claim's lifetime (s), ARGV[2] the back-pressure limit, ARGV[3..] field, value, ...
-- Returns {'ok', <entry id>}, {'dup', ''} or {'full', <entries>}.

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

if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'dup', ''}
end
local max = tonumber(ARGV[2])
local len = redis.call('XLEN', KEYS[1])
if len >= max then
  len = trim_done(KEYS[1])
  if len >= max then
    return {'full', tostring(len)}
  end
end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
-- The append first: if the claim then failed, a redelivery is appended again (a duplicate a
-- handler can recognise), never dropped.
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
return {'ok', id}
