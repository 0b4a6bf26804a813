/**
 * The Lua script that applies one batch of one partition atomically (Redis runs a script like a
 * MULTI/EXEC: nothing else runs in between) together with the partition's new position.
 *
 * Why a script rather than a bare MULTI/EXEC: inside EXEC, Redis runs every queued command even
 * after one failed (WRONGTYPE, not an integer ...), and the position queued last would then pass
 * the failed event and every event after it. The script stops at the first failing command and
 * stores the position of the event that failed, so the stored position never passes an event that
 * was not applied. It is also a compare-and-set on the position: a batch built for another position
 * (a pipelined batch after a failure, a zombie consumer after a rebalance) applies only the events
 * not applied yet, or nothing if the stored state is behind what the batch expects.
 *
 * Two things are stored: the position (where a restart reads from: the next event, or chunk 0 of a
 * value still open) and, where it differs, the progress "<position> <offset> <command>": the next
 * event to apply and the first of its commands not applied yet. The progress tells apart the chunks
 * of an open value (which all store the same position) and the commands of an event that failed
 * halfway: a retry or a re-read applies each command once, never again and never skipped. It counts
 * only while its position is the stored one.
 *
 * Late expiries (docs/sink.md, "Replaying after the expiries"): the op
 * `__LATE_EXPIRY <n> <command...>` runs a command whose n-th argument is an absolute expiry in ms
 * and whose first argument is the key. When that time has passed (the script's TIME), the key is
 * given the expiry plus the late-expiry offset instead (far in the future: the key stays readable
 * and writable for the events that follow, and Redis itself drops that mark when a later command
 * replaces or removes the TTL) and is noted in the partition's late-expiry hash as "<db> <key>" →
 * expiry (before the command runs, so that a failing note writes nothing; the hash lives in db 0
 * whatever the event's db). The hash is walked in bounded steps (HSCAN, its cursor in the
 * checkpoint hash): a batch that wrote a note, or finds a walk begun, takes one step that drops the
 * notes whose key no longer carries its mark, so the hash stays as small as the set of marked keys
 * on a partition that never reaches its end. The sweep (a batch that reaches the end of the
 * partition) takes a step that also deletes the noted keys still carrying exactly their mark; the
 * caller repeats it (with no events) until the hash is empty. `__JSON_FROM_STRING` turns a key's
 * text into a RedisJSON document through a key of the sink's own (`<checkpoint key>:json-conversion`).
 *
 * ARGV: checkpoint key, position field, epoch field, expected position (-1 = none stored),
 * late-expiry hash, sweep (1/0), late-expiry offset, progress field, expected progress offset (the
 * offset after the previous batch in flight, -1 = not pipelined), late-expiry cursor field, notes
 * per step, event count, then per event one
 * argument "<offset> <position after it> <epoch> <command count>", then per command one argument
 * "<db> <argument count>" followed by the name and the arguments (fewer, bigger arguments: each
 * one costs the client and the script more than its bytes). Every call after the first write goes
 * through pcall so that a failure stops the batch instead of aborting the script halfway.
 * Reply: {status, position, failed event index, failed command index, error, sweep error, sweep
 * has more to do ('1' / '')}, status OK | FAILED | BEHIND.
 */
export const APPLY_SCRIPT = `
local ck, pf, ef = ARGV[1], ARGV[2], ARGV[3]
local expected = tonumber(ARGV[4])
local lateKey, sweep, lateOffset = ARGV[5], ARGV[6] == '1', tonumber(ARGV[7])
local gf, expectedNext = ARGV[8], tonumber(ARGV[9])
local cf, lateStep = ARGV[10], tonumber(ARGV[11])
local state = redis.call('HMGET', ck, pf, gf, cf)
local cursor = state[3]
local noted = false
local storedText = state[1]
local stored = storedText and tonumber(storedText) or -1
local nextOffset, nextCommand = stored, 0
if state[2] then
  local p, o, c = string.match(state[2], '^(%d+) (%d+) (%d+)$')
  if p and tonumber(p) == stored then nextOffset, nextCommand = tonumber(o), tonumber(c) end
end
if stored < expected or nextOffset < expectedNext then
  return {'BEHIND', storedText or '-1', -1, -1, '', '', ''}
end
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local current = '0'

local function failed(r) return type(r) == 'table' and r.err ~= nil end

local function select(db)
  if db ~= current then
    local s = redis.pcall('SELECT', db)
    if failed(s) then return s end
    current = db
  end
  return nil
end

local function run(at, argc)
  local name = ARGV[at]
  if name == '__PREPEND' then
    local key, value = ARGV[at + 1], ARGV[at + 2]
    local old = redis.pcall('GET', key)
    if failed(old) then return old end
    return redis.pcall('SET', key, value .. (old or ''), 'KEEPTTL')
  elseif name == '__IF_TYPE' then
    local t = redis.pcall('TYPE', ARGV[at + 2])
    if failed(t) then return t end
    if t.ok ~= ARGV[at + 1] then return 0 end
    return redis.pcall(unpack(ARGV, at + 3, at + argc - 1))
  elseif name == '__HSETEX' then
    local key, mode, keep, abs = ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4]
    for j = at + 5, at + argc - 1, 2 do
      local field = ARGV[j]
      local exists = redis.pcall('HEXISTS', key, field)
      if failed(exists) then return exists end
      if not ((mode == 'nx' and exists == 1) or (mode == 'xx' and exists == 0)) then
        local r = redis.pcall('HSET', key, field, ARGV[j + 1])
        if failed(r) then return r end
        if abs ~= '-1' and not (keep == '1' and exists == 1) then
          r = redis.pcall('HPEXPIREAT', key, abs, 'FIELDS', '1', field)
          if failed(r) then return r end
        end
      end
    end
    return 1
  elseif name == '__LATE_EXPIRY' then
    local first, last = at + 2, at + argc - 1
    local atArg = first + tonumber(ARGV[at + 1])
    local expiry = ARGV[atArg]
    local t = tonumber(expiry)
    if t == nil or t > nowMs then return redis.pcall(unpack(ARGV, first, last)) end
    ARGV[atArg] = string.format('%.0f', t + lateOffset)
    local db = current
    local s = select('0')
    if s ~= nil then return s end
    local note = redis.pcall('HSET', lateKey, db .. ' ' .. ARGV[first + 1], expiry)
    if failed(note) then return note end
    noted = true
    s = select(db)
    if s ~= nil then return s end
    return redis.pcall(unpack(ARGV, first, last))
  elseif name == '__JSON_FROM_STRING' then
    -- the document is built aside and replaces the text only once it exists: a failing JSON.SET
    -- leaves the text where it was
    local key, aside = ARGV[at + 1], ck .. ':json-conversion'
    local text = redis.pcall('GET', key)
    if failed(text) or not text then return text end
    local r = redis.pcall('JSON.SET', aside, '$', text)
    if failed(r) then return r end
    local ttl = redis.pcall('PTTL', key)
    if type(ttl) == 'number' and ttl > 0 then redis.pcall('PEXPIRE', aside, ttl) end
    local renamed = redis.pcall('RENAME', aside, key)
    if failed(renamed) then return renamed end
    return r
  end
  return redis.pcall(unpack(ARGV, at, at + argc - 1))
end

-- One bounded step (HSCAN, about lateStep notes) of a pass over the late-expiry hash: a note whose
-- key no longer carries its mark is dropped; at the end of the partition (final) a key that still
-- carries it is deleted with its note. The cursor of the pass is kept in the checkpoint hash.
-- Returns an error text ('' if none) and whether the final sweep has more to do.
local function lateExpiryStep(final)
  select('0')
  local r = redis.pcall('HSCAN', lateKey, cursor or '0', 'COUNT', lateStep)
  if failed(r) then return r.err, false end
  cursor = r[1]
  local notes, done = r[2], {}
  for j = 1, #notes, 2 do
    local space = string.find(notes[j], ' ', 1, true)
    local mark = tonumber(notes[j + 1])
    if space ~= nil and mark ~= nil and select(string.sub(notes[j], 1, space - 1)) == nil then
      local key = string.sub(notes[j], space + 1)
      mark = mark + lateOffset
      local at = redis.pcall('PEXPIRETIME', key)
      if failed(at) then
        local ttl = redis.pcall('PTTL', key)
        at = (type(ttl) == 'number' and ttl >= 0) and nowMs + ttl or -2
      end
      local marked = math.abs(at - mark) <= 1
      if marked and final then redis.pcall('DEL', key) end
      if final or not marked then done[#done + 1] = notes[j] end
    else
      done[#done + 1] = notes[j]
    end
  end
  select('0')
  if #done > 0 then redis.pcall('HDEL', lateKey, unpack(done)) end
  local more = final and (cursor ~= '0' or redis.pcall('EXISTS', lateKey) == 1)
  if cursor == '0' and not more then cursor = nil end
  return '', more
end

local n = tonumber(ARGV[12])
local i = 13
local position, epoch = stored, nil
local failure = nil
for e = 0, n - 1 do
  local offsetText, afterText, eventEpoch, countText = string.match(ARGV[i], '^(%d+) (%d+) (%d+) (%d+)$')
  local offset, after, count = tonumber(offsetText), tonumber(afterText), tonumber(countText)
  i = i + 1
  local apply = offset >= nextOffset
  local from = offset == nextOffset and nextCommand or 0
  for c = 0, count - 1 do
    local db, argcText = string.match(ARGV[i], '^(%d+) (%d+)$')
    local argc = tonumber(argcText)
    i = i + 1
    if apply and c >= from and failure == nil then
      local s = select(db)
      if s ~= nil then failure = {e, c, s.err} end
      if failure == nil then
        local r = run(i, argc)
        if failed(r) then failure = {e, c, r.err} end
      end
      if failure ~= nil then nextOffset, nextCommand = offset, c end
    end
    i = i + argc
  end
  if failure ~= nil then break end
  if apply then
    position = after
    epoch = eventEpoch
    nextOffset, nextCommand = offset + 1, 0
  end
end
local sweepError, sweepMore = '', false
if failure == nil and (sweep or noted or cursor) then sweepError, sweepMore = lateExpiryStep(sweep) end
if current ~= '0' then redis.call('SELECT', '0') end
local positionText = string.format('%.0f', position)
-- the partition's state in one HSET: when nothing was written before it (events without commands),
-- it is the call's first write, the one Redis refuses under OOM; then nothing at all is stored
local fields = {}
if position ~= stored then fields[#fields + 1] = pf; fields[#fields + 1] = positionText end
if epoch ~= nil and epoch ~= '' then fields[#fields + 1] = ef; fields[#fields + 1] = epoch end
local progress = nextOffset ~= position or nextCommand ~= 0
if progress then
  fields[#fields + 1] = gf
  fields[#fields + 1] = positionText .. string.format(' %.0f %d', nextOffset, nextCommand)
end
if cursor and cursor ~= state[3] then fields[#fields + 1] = cf; fields[#fields + 1] = cursor end
if #fields > 0 then
  local r = redis.pcall('HSET', ck, unpack(fields))
  if failed(r) then return {'FAILED', storedText or '-1', 0, 0, r.err, '', ''} end
end
if state[2] and not progress then redis.pcall('HDEL', ck, gf) end
if state[3] and not cursor then redis.pcall('HDEL', ck, cf) end
local more = sweepMore and '1' or ''
if failure ~= nil then return {'FAILED', positionText, failure[1], failure[2], failure[3], sweepError, more} end
return {'OK', positionText, -1, -1, '', sweepError, more}
`;

/**
 * Applies a barrier (FLUSHALL/FLUSHDB or the wipe for a new epoch) once for all flows. Each flow
 * that reaches it records its arrival with its vote (1: the flow applied data before the barrier
 * that must go, 0: a flow that starts at this barrier with nothing applied). Flows 0..needed-1 must
 * all have arrived. For an epoch barrier, a flow that has not arrived but is already at or past the
 * barrier's epoch counts as arrived: its stored epoch reached it (it started inside the new epoch:
 * retention, start position), or it waits at the barrier of a later epoch (its checkpoint field
 * "<topic>/<flow>/reached-epoch", written here on every arrival); and then nothing is wiped (its
 * data of the new epoch would go too).
 * The call that completes the set executes the wipe if any arrival voted for it, keeping the sink's
 * own keys (checkpoint, barrier and late-expiry hashes, matched by the glob in ARGV[8]), and marks
 * the barrier done. Flows wait until it is done before they go past it.
 *
 * ARGV: checkpoint key, barrier key, arrival field ("flow:<n>"), flows needed, action (flushall |
 * flushdb | pattern), action argument (db or glob), TTL of the barrier key in seconds, glob of the
 * sink's own keys, this flow's vote (1/0), the epoch of an epoch barrier ('' for a flush), the
 * prefix of the flows' checkpoint fields, the suffixes of the epoch and reached-epoch fields, this
 * flow's number. Reply: DONE (already done, or done now without a wipe), WAITING, EXECUTED (wiped
 * now), SKIPPED (done without the wipe it needed, because a flow was already past the barrier).
 */
export const BARRIER_SCRIPT = `
local ck, bk, field, needed = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local action, arg, ttl, own = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local vote, epoch, prefix = ARGV[9], tonumber(ARGV[10]), ARGV[11]
local epochSuffix, reachedSuffix, flow = ARGV[12], ARGV[13], ARGV[14]
redis.call('HSET', bk, field, vote)
redis.call('EXPIRE', bk, ttl)
if epoch then
  local reached = tonumber(redis.call('HGET', ck, prefix .. flow .. reachedSuffix) or '-1')
  if reached < epoch then redis.call('HSET', ck, prefix .. flow .. reachedSuffix, ARGV[10]) end
end
if redis.call('HEXISTS', bk, 'done') == 1 then return 'DONE' end
local function pastEpoch(f)
  local e = tonumber(redis.call('HGET', ck, prefix .. f .. epochSuffix) or '-1')
  local r = tonumber(redis.call('HGET', ck, prefix .. f .. reachedSuffix) or '-1')
  return math.max(e, r) >= epoch
end
local wipe, missing, past = false, 0, 0
for f = 0, needed - 1 do
  local v = redis.call('HGET', bk, 'flow:' .. f)
  if v then
    if v == '1' then wipe = true end
  elseif epoch and pastEpoch(f) then
    past = past + 1
  else
    missing = missing + 1
  end
end
if missing > 0 then return 'WAITING' end
if past > 0 or not wipe then
  redis.call('HSET', bk, 'done', '1')
  return (past > 0 and wipe) and 'SKIPPED' or 'DONE'
end
local saved = {}
if action == 'flushall' or (action == 'flushdb' and arg == '0') then
  for _, k in ipairs(redis.call('KEYS', own)) do
    saved[#saved + 1] = {k, redis.call('DUMP', k), redis.call('PTTL', k)}
  end
end
if action == 'flushall' then
  redis.call('FLUSHALL')
elseif action == 'flushdb' then
  redis.call('SELECT', arg)
  redis.call('FLUSHDB')
  redis.call('SELECT', '0')
else
  local keys = redis.call('KEYS', arg)
  for j = 1, #keys, 1000 do redis.call('DEL', unpack(keys, j, math.min(j + 999, #keys))) end
end
for _, s in ipairs(saved) do
  redis.call('RESTORE', s[1], s[3] > 0 and s[3] or 0, s[2], 'REPLACE')
end
redis.call('HSET', bk, 'done', '1')
redis.call('EXPIRE', bk, ttl)
return 'EXECUTED'
`;

/**
 * Added to an absolute expiry that has passed when the sink applies it (2^45 ms, about 1115 years):
 * the key stays alive with a mark the sweep recognises (apply-script.ts, __LATE_EXPIRY).
 */
export const LATE_EXPIRY_OFFSET_MS = 2 ** 45;

/**
 * Late-expiry notes one script call looks at (HSCAN COUNT): bounds how long a call blocks Redis for
 * the notes, however many there are.
 */
export const LATE_EXPIRY_NOTES_PER_STEP = 500;
