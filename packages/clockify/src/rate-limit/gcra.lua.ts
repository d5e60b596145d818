/**
 * GCRA without burst, in one script so that read-decide-write is atomic across every process
 * sharing the key. Time comes from Redis `TIME`, never from a caller: workers on machines with
 * skewed clocks still agree on one schedule.
 *
 * The key holds the TAT (theoretical arrival time) in microseconds of Redis time. A request may go
 * at max(TAT, now); granting it moves TAT one emission interval further. Since TAT never lags
 * `now` in a decision, an expired key and a key in the past mean the same thing, so the key
 * lives only until its TAT (PX), and idle workspaces leave nothing behind.
 *
 * KEYS[1] = limiter key
 * ARGV[1] = 'acquire' | 'block' | 'peek'
 * ARGV[2] = acquire: emission interval (µs); block: block length (µs)
 * ARGV[3] = acquire: longest acceptable wait (µs)
 *
 * Returns { granted (1|0), wait µs, slot µs, now µs } as strings (Redis turns Lua numbers into
 * integers, and plain tostring would print only 14 significant digits).
 */
export const GCRA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local op = ARGV[1]

local function fmt(x) return string.format('%.0f', x) end
local function store(value)
  redis.call('SET', KEYS[1], fmt(value), 'PX', math.floor((value - now) / 1000) + 1)
end

if op == 'acquire' then
  local wait = tat - now
  if wait > tonumber(ARGV[3]) then
    return { '0', fmt(wait), fmt(tat), fmt(now) }
  end
  store(tat + tonumber(ARGV[2]))
  return { '1', fmt(wait), fmt(tat), fmt(now) }
elseif op == 'block' then
  local untilTs = now + tonumber(ARGV[2])
  if untilTs > tat then
    tat = untilTs
    store(tat)
  end
  return { '1', fmt(tat - now), fmt(tat), fmt(now) }
elseif op == 'peek' then
  return { '1', fmt(tat - now), fmt(tat), fmt(now) }
end
return redis.error_reply('unknown limiter operation')
`;
